'use strict';
const express = require('../../lib/express');

const router = express.Router();

// Stands in for a database client: every call is asynchronous.
const db = {
  rows: [
    { id: 'inv_1', email: 'sam@example.com', team: 'platform', status: 'sent' },
  ],
  async find(id) {
    return this.rows.find((row) => row.id === id) || null;
  },
  async insert(row) {
    this.rows.push(row);
    return row;
  },
};

router.get('/invites/:id', async (req, res) => {
  const invite = await db.find(req.params.id);
  if (!invite) return res.status(404).json({ error: 'invite not found' });
  res.json(invite);
});

router.post('/invites', async (req, res) => {
  const { email, team } = req.body;
  if (typeof email !== 'string' || email === '') {
    return res.status(400).json({ error: 'email is required' });
  }
  const invite = await db.insert({ id: `inv_${db.rows.length + 1}`, email, team, status: 'sent' });
  res.status(201).json(invite);
});

router.post('/invites/:id/accept', async (req, res) => {
  const invite = await db.find(req.params.id);
  if (!invite) return res.status(404).json({ error: 'invite not found' });
  if (invite.status !== 'sent') {
    return res.status(409).json({ error: `invite is ${invite.status}` });
  }
  invite.status = 'accepted';
  res.json(invite);
});

module.exports = router;
