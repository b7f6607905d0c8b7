'use strict';
const express = require('../../lib/express');

const router = express.Router();

const profiles = new Map([
  [1, { id: 1, displayName: 'ada', bio: 'Analyst', theme: 'dark' }],
  [2, { id: 2, displayName: 'alan', bio: '', theme: 'light' }],
]);
const EDITABLE = ['displayName', 'bio', 'theme'];

router.get('/profiles/:id', (req, res) => {
  const item = profiles.get(Number(req.params.id));
  if (!item) return res.status(404).json({ error: 'no such profile' });
  res.json(item);
});

router.put('/profiles/:id', (req, res) => {
  const item = profiles.get(Number(req.params.id));
  if (!item) return res.status(404).json({ error: 'no such profile' });
  const unknown = Object.keys(req.body).filter((field) => !EDITABLE.includes(field));
  if (unknown.length > 0) {
    return res.status(422).json({ error: `cannot change ${unknown.join(', ')}` });
  }
  Object.assign(item, req.body);
  res.json(item);
});

module.exports = router;
