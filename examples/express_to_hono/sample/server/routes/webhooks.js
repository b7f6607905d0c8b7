'use strict';
const express = require('../../lib/express');

const router = express.Router();

const SOURCES = ['github', 'stripe', 'slack'];
const received = [];

router.get('/webhooks', (req, res) => {
  const source = req.query.source;
  const events = source ? received.filter((event) => event.source === source) : received;
  res.json({ count: events.length, events });
});

router.post('/webhooks/:source', (req, res) => {
  const source = req.params.source;
  if (!SOURCES.includes(source)) {
    return res.status(404).json({ error: `no webhook endpoint for ${source}` });
  }
  const { id, type } = req.body;
  if (!type) return res.status(400).send('missing event type');
  const event = { id: id || `evt_${received.length + 1}`, source, type };
  received.push(event);
  res.status(202).send(event);
});

module.exports = router;
