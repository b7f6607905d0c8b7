'use strict';
const express = require('../../lib/express');

const router = express.Router();

const channels = { 1: 'general', 2: 'leads' };
const messages = [
  { id: 1, channelId: 1, text: 'hello', pinned: false },
  { id: 2, channelId: 1, text: 'standup at 10', pinned: true },
  { id: 3, channelId: 2, text: 'budget review', pinned: false },
];

router.get('/channels/:channelId/messages', (req, res) => {
  const channelId = Number(req.params.channelId);
  if (!channels[channelId]) return res.status(404).json({ error: 'channel not found' });
  let rows = messages.filter((row) => row.channelId === channelId);
  if (req.query.pinned !== undefined) {
    rows = rows.filter((row) => String(row.pinned) === req.query.pinned);
  }
  res.json(rows);
});

router.get('/channels/:channelId/messages/:messageId', (req, res) => {
  const channelId = Number(req.params.channelId);
  const row = messages.find((r) => r.channelId === channelId && r.id === Number(req.params.messageId));
  if (!row) return res.status(404).json({ error: 'message not found in this channel' });
  res.json(row);
});

router.post('/channels/:channelId/messages', (req, res) => {
  const channelId = Number(req.params.channelId);
  if (!channels[channelId]) return res.status(404).json({ error: 'channel not found' });
  const text = req.body.text;
  if (!text) return res.status(400).json({ error: 'text is required' });
  const row = { id: messages.length + 1, channelId, text, pinned: false };
  messages.push(row);
  res.status(201).json(row);
});

module.exports = router;
