'use strict';
const express = require('../../lib/express');

const router = express.Router();

const coupons = [
  { id: 1, code: 'WELCOME10', kind: 'percent', amount: 10 },
  { id: 2, code: 'SHIP5', kind: 'fixed', amount: 5 },
];
let nextId = 3;

router.get('/coupons', (req, res) => {
  const kind = req.query.kind;
  const rows = kind ? coupons.filter((row) => row.kind === kind) : coupons;
  res.json({ data: rows, count: rows.length });
});

router.get('/coupons/:id', (req, res) => {
  const coupon = coupons.find((row) => row.id === parseInt(req.params.id, 10));
  if (!coupon) return res.status(404).json({ error: 'coupon not found' });
  res.json(coupon);
});

router.post('/coupons', (req, res) => {
  const { code, kind, amount } = req.body;
  if (!code || !kind || amount === undefined) {
    return res.status(400).json({ error: 'code, kind, amount are required' });
  }
  const coupon = { id: nextId++, code, kind, amount };
  coupons.push(coupon);
  res.status(201).json(coupon);
});

router.delete('/coupons/:id', (req, res) => {
  const index = coupons.findIndex((row) => row.id === parseInt(req.params.id, 10));
  if (index === -1) return res.status(404).json({ error: 'coupon not found' });
  coupons.splice(index, 1);
  res.status(204).send();
});

module.exports = router;
