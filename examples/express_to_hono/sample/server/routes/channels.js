'use strict';
const express = require('../../lib/express');

const router = express.Router();

const channels = [
  { id: 1, name: 'general', topic: 'Everything', visibility: 'public' },
  { id: 2, name: 'leads', topic: 'Team leads', visibility: 'private' },
];
let nextId = 3;

router.get('/channels', (req, res) => {
  const visibility = req.query.visibility;
  const rows = visibility ? channels.filter((row) => row.visibility === visibility) : channels;
  res.json({ data: rows, count: rows.length });
});

router.get('/channels/:id', (req, res) => {
  const channel = channels.find((row) => row.id === Number(req.params.id));
  if (!channel) return res.status(404).json({ error: 'channel not found' });
  res.json(channel);
});

router.post('/channels', (req, res) => {
  const { name, topic } = req.body;
  if (!name || !topic) {
    return res.status(400).json({ error: 'name and topic are required' });
  }
  const channel = { id: nextId++, name, topic, visibility: 'public' };
  channels.push(channel);
  res.status(201).json(channel);
});

router.delete('/channels/:id', (req, res) => {
  const index = channels.findIndex((row) => row.id === Number(req.params.id));
  if (index === -1) return res.status(404).json({ error: 'channel not found' });
  channels.splice(index, 1);
  res.status(204).send();
});

module.exports = router;
