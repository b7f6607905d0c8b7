'use strict';
const express = require('../../lib/express');

const router = express.Router();

// Stands in for a database client: every call is asynchronous.
const db = {
  rows: [
    { id: 'ntf_1', userId: 1, message: 'Your export is ready', status: 'unread' },
  ],
  async find(id) {
    return this.rows.find((row) => row.id === id) || null;
  },
  async insert(row) {
    this.rows.push(row);
    return row;
  },
};

router.get('/notifications/:id', async (req, res) => {
  const notification = await db.find(req.params.id);
  if (!notification) return res.status(404).json({ error: 'notification not found' });
  res.json(notification);
});

router.post('/notifications', async (req, res) => {
  const { userId, message } = req.body;
  if (typeof message !== 'string' || message === '') {
    return res.status(400).json({ error: 'message is required' });
  }
  const notification = await db.insert({ id: `ntf_${db.rows.length + 1}`, userId, message, status: 'unread' });
  res.status(201).json(notification);
});

router.post('/notifications/:id/read', async (req, res) => {
  const notification = await db.find(req.params.id);
  if (!notification) return res.status(404).json({ error: 'notification not found' });
  if (notification.status !== 'unread') {
    return res.status(409).json({ error: `notification is ${notification.status}` });
  }
  notification.status = 'read';
  res.json(notification);
});

module.exports = router;
