'use strict';
const express = require('../../lib/express');

const router = express.Router();

// Stands in for a database client: every call is asynchronous.
const db = {
  rows: [
    { id: 'sub_1', customerId: 'c1', plan: 'pro', status: 'active' },
  ],
  async find(id) {
    return this.rows.find((row) => row.id === id) || null;
  },
  async insert(row) {
    this.rows.push(row);
    return row;
  },
};

router.get('/subscriptions/:id', async (req, res) => {
  const subscription = await db.find(req.params.id);
  if (!subscription) return res.status(404).json({ error: 'subscription not found' });
  res.json(subscription);
});

router.post('/subscriptions', async (req, res) => {
  const { customerId, plan } = req.body;
  if (typeof plan !== 'string' || plan === '') {
    return res.status(400).json({ error: 'plan is required' });
  }
  const subscription = await db.insert({ id: `sub_${db.rows.length + 1}`, customerId, plan, status: 'active' });
  res.status(201).json(subscription);
});

router.post('/subscriptions/:id/pause', async (req, res) => {
  const subscription = await db.find(req.params.id);
  if (!subscription) return res.status(404).json({ error: 'subscription not found' });
  if (subscription.status !== 'active') {
    return res.status(409).json({ error: `subscription is ${subscription.status}` });
  }
  subscription.status = 'paused';
  res.json(subscription);
});

module.exports = router;
