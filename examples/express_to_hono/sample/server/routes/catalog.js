'use strict';
const express = require('../../lib/express');

const router = express.Router();

const PAGE_SIZE = 3;
const items = [
  'Anvil', 'Bolt cutter', 'Chisel', 'Drill', 'Epoxy', 'File set', 'Gauge', 'Hammer',
].map((name, i) => ({ id: i + 1, name, priceCents: 500 + i * 250 }));

router.get('/catalog', (req, res) => {
  const page = Number(req.query.page || 1);
  if (!Number.isInteger(page) || page < 1) {
    return res.status(400).json({ error: 'page must be a positive integer' });
  }
  const sort = req.query.sort === 'price_desc' ? -1 : 1;
  const sorted = [...items].sort((a, b) => sort * (a.priceCents - b.priceCents));
  const start = (page - 1) * PAGE_SIZE;
  res.json({
    page,
    pages: Math.ceil(items.length / PAGE_SIZE),
    items: sorted.slice(start, start + PAGE_SIZE),
  });
});

router.get('/catalog/:id', (req, res) => {
  const item = items.find((i) => i.id === Number(req.params.id));
  if (!item) return res.status(404).json({ error: 'not in the catalog' });
  res.json(item);
});

module.exports = router;
