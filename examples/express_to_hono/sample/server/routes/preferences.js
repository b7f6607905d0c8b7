'use strict';
const express = require('../../lib/express');

const router = express.Router();

const preferences = new Map([
  [1, { id: 1, locale: 'en-GB', timezone: 'Europe/London', digest: 'weekly' }],
  [2, { id: 2, locale: 'de-DE', timezone: 'Europe/Berlin', digest: 'off' }],
]);
const EDITABLE = ['locale', 'timezone', 'digest'];

router.get('/preferences/:id', (req, res) => {
  const item = preferences.get(Number(req.params.id));
  if (!item) return res.status(404).json({ error: 'no such preference set' });
  res.json(item);
});

router.put('/preferences/:id', (req, res) => {
  const item = preferences.get(Number(req.params.id));
  if (!item) return res.status(404).json({ error: 'no such preference set' });
  const unknown = Object.keys(req.body).filter((field) => !EDITABLE.includes(field));
  if (unknown.length > 0) {
    return res.status(422).json({ error: `cannot change ${unknown.join(', ')}` });
  }
  Object.assign(item, req.body);
  res.json(item);
});

module.exports = router;
