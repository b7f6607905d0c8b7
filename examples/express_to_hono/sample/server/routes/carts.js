'use strict';
const express = require('../../lib/express');

const router = express.Router();

const PRICES = { 'BK-101': 3999, 'MG-202': 1250, 'BK-102': 4500 };
const carts = new Map();

function summary(id, items) {
  const subtotalCents = items.reduce((sum, item) => sum + PRICES[item.sku] * item.quantity, 0);
  return { id, items, subtotalCents };
}

router.get('/carts/:id', (req, res) => {
  const items = carts.get(req.params.id);
  if (!items) return res.status(404).json({ error: 'cart not found' });
  res.json(summary(req.params.id, items));
});

router.post('/carts/:id/items', (req, res) => {
  const { sku, quantity } = req.body;
  if (!(sku in PRICES)) return res.status(400).json({ error: `unknown sku ${sku}` });
  if (!Number.isInteger(quantity) || quantity < 1) {
    return res.status(400).json({ error: 'quantity must be at least 1' });
  }
  const items = carts.get(req.params.id) || [];
  const existing = items.find((item) => item.sku === sku);
  if (existing) existing.quantity += quantity;
  else items.push({ sku, quantity });
  carts.set(req.params.id, items);
  res.status(201).json(summary(req.params.id, items));
});

router.delete('/carts/:id', (req, res) => {
  if (!carts.delete(req.params.id)) return res.status(404).json({ error: 'cart not found' });
  res.status(204).send();
});

module.exports = router;
