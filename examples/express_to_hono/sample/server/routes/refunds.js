'use strict';
const express = require('../../lib/express');

const router = express.Router();

// Stands in for a database client: every call is asynchronous.
const db = {
  rows: [
    { id: 're_1', paymentId: 'pay_1', amountCents: 500, status: 'requested' },
  ],
  async find(id) {
    return this.rows.find((row) => row.id === id) || null;
  },
  async insert(row) {
    this.rows.push(row);
    return row;
  },
};

router.get('/refunds/:id', async (req, res) => {
  const refund = await db.find(req.params.id);
  if (!refund) return res.status(404).json({ error: 'refund not found' });
  res.json(refund);
});

router.post('/refunds', async (req, res) => {
  const { paymentId, amountCents } = req.body;
  if (!Number.isInteger(amountCents) || amountCents <= 0) {
    return res.status(400).json({ error: 'amountCents must be a positive integer' });
  }
  const refund = await db.insert({ id: `re_${db.rows.length + 1}`, paymentId, amountCents, status: 'requested' });
  res.status(201).json(refund);
});

router.post('/refunds/:id/approve', async (req, res) => {
  const refund = await db.find(req.params.id);
  if (!refund) return res.status(404).json({ error: 'refund not found' });
  if (refund.status !== 'requested') {
    return res.status(409).json({ error: `refund is ${refund.status}` });
  }
  refund.status = 'approved';
  res.json(refund);
});

module.exports = router;
