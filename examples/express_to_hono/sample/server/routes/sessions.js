'use strict';
const express = require('../../lib/express');

const router = express.Router();

// Stands in for a database client: every call is asynchronous.
const db = {
  rows: [
    { id: 'sess_1', userId: 1, device: 'laptop', status: 'active' },
  ],
  async find(id) {
    return this.rows.find((row) => row.id === id) || null;
  },
  async insert(row) {
    this.rows.push(row);
    return row;
  },
};

router.get('/sessions/:id', async (req, res) => {
  const session = await db.find(req.params.id);
  if (!session) return res.status(404).json({ error: 'session not found' });
  res.json(session);
});

router.post('/sessions', async (req, res) => {
  const { userId, device } = req.body;
  if (typeof device !== 'string' || device === '') {
    return res.status(400).json({ error: 'device is required' });
  }
  const session = await db.insert({ id: `sess_${db.rows.length + 1}`, userId, device, status: 'active' });
  res.status(201).json(session);
});

router.post('/sessions/:id/revoke', async (req, res) => {
  const session = await db.find(req.params.id);
  if (!session) return res.status(404).json({ error: 'session not found' });
  if (session.status !== 'active') {
    return res.status(409).json({ error: `session is ${session.status}` });
  }
  session.status = 'revoked';
  res.json(session);
});

module.exports = router;
