'use strict';
const express = require('../../lib/express');

const router = express.Router();

// Stands in for a database client: every call is asynchronous.
const db = {
  rows: [
    { id: 'pay_1', orderId: 'ord_1', amountCents: 4200, status: 'authorized' },
  ],
  async find(id) {
    return this.rows.find((row) => row.id === id) || null;
  },
  async insert(row) {
    this.rows.push(row);
    return row;
  },
};

router.get('/payments/:id', async (req, res) => {
  const payment = await db.find(req.params.id);
  if (!payment) return res.status(404).json({ error: 'payment not found' });
  res.json(payment);
});

router.post('/payments', async (req, res) => {
  const { orderId, amountCents } = req.body;
  if (!Number.isInteger(amountCents) || amountCents <= 0) {
    return res.status(400).json({ error: 'amountCents must be a positive integer' });
  }
  const payment = await db.insert({ id: `pay_${db.rows.length + 1}`, orderId, amountCents, status: 'authorized' });
  res.status(201).json(payment);
});

router.post('/payments/:id/capture', async (req, res) => {
  const payment = await db.find(req.params.id);
  if (!payment) return res.status(404).json({ error: 'payment not found' });
  if (payment.status !== 'authorized') {
    return res.status(409).json({ error: `payment is ${payment.status}` });
  }
  payment.status = 'captured';
  res.json(payment);
});

module.exports = router;
