'use strict';
const express = require('../../lib/express');

const router = express.Router();

const stock = { 'BK-101': 12, 'MG-202': 0, 'BK-102': 3 };
const LOW_STOCK = 5;

router.get('/inventory', (req, res) => {
  const onlyLow = req.query.low === 'true';
  const rows = Object.entries(stock)
    .filter(([, count]) => !onlyLow || count < LOW_STOCK)
    .map(([sku, count]) => ({ sku, count }));
  res.json(rows);
});

router.put('/inventory/:sku', (req, res) => {
  const sku = req.params.sku;
  if (!(sku in stock)) return res.status(404).json({ error: `unknown sku ${sku}` });
  const delta = req.body.delta;
  if (!Number.isInteger(delta)) return res.status(400).json({ error: 'delta must be an integer' });
  if (stock[sku] + delta < 0) {
    return res.status(409).json({ error: 'not enough stock', available: stock[sku] });
  }
  stock[sku] += delta;
  res.json({ sku, count: stock[sku] });
});

module.exports = router;
