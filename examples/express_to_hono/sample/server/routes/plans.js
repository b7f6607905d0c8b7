'use strict';
const express = require('../../lib/express');

const router = express.Router();

const plans = new Map([
  ['free', { key: 'free', seats: 1, priceCents: 0 }],
  ['pro', { key: 'pro', seats: 10, priceCents: 4900 }],
]);
const EDITABLE = ['seats', 'priceCents'];

router.get('/plans/:key', (req, res) => {
  const item = plans.get(req.params.key);
  if (!item) return res.status(404).json({ error: 'no such plan' });
  res.json(item);
});

router.put('/plans/:key', (req, res) => {
  const item = plans.get(req.params.key);
  if (!item) return res.status(404).json({ error: 'no such plan' });
  const unknown = Object.keys(req.body).filter((field) => !EDITABLE.includes(field));
  if (unknown.length > 0) {
    return res.status(422).json({ error: `cannot change ${unknown.join(', ')}` });
  }
  Object.assign(item, req.body);
  res.json(item);
});

module.exports = router;
