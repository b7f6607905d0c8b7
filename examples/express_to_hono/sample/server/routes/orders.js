'use strict';
const express = require('../../lib/express');

const router = express.Router();

// Stands in for a database client: every call is asynchronous.
const db = {
  rows: [
    { id: 'ord_1', customerId: 'c1', items: ['BK-101'], status: 'pending' },
  ],
  async find(id) {
    return this.rows.find((row) => row.id === id) || null;
  },
  async insert(row) {
    this.rows.push(row);
    return row;
  },
};

router.get('/orders/:id', async (req, res) => {
  const order = await db.find(req.params.id);
  if (!order) return res.status(404).json({ error: 'order not found' });
  res.json(order);
});

router.post('/orders', async (req, res) => {
  const { customerId, items } = req.body;
  if (!Array.isArray(items) || items.length === 0) {
    return res.status(400).json({ error: 'items must be a non-empty list' });
  }
  const order = await db.insert({ id: `ord_${db.rows.length + 1}`, customerId, items, status: 'pending' });
  res.status(201).json(order);
});

router.post('/orders/:id/cancel', async (req, res) => {
  const order = await db.find(req.params.id);
  if (!order) return res.status(404).json({ error: 'order not found' });
  if (order.status !== 'pending') {
    return res.status(409).json({ error: `order is ${order.status}` });
  }
  order.status = 'cancelled';
  res.json(order);
});

module.exports = router;
