'use strict';
const express = require('../../lib/express');

const router = express.Router();

const flags = new Map([
  ['new-checkout', { key: 'new-checkout', enabled: false, rollout: 0 }],
  ['dark-mode', { key: 'dark-mode', enabled: true, rollout: 100 }],
]);
const EDITABLE = ['enabled', 'rollout'];

router.get('/flags/:key', (req, res) => {
  const item = flags.get(req.params.key);
  if (!item) return res.status(404).json({ error: 'no such flag' });
  res.json(item);
});

router.put('/flags/:key', (req, res) => {
  const item = flags.get(req.params.key);
  if (!item) return res.status(404).json({ error: 'no such flag' });
  const unknown = Object.keys(req.body).filter((field) => !EDITABLE.includes(field));
  if (unknown.length > 0) {
    return res.status(422).json({ error: `cannot change ${unknown.join(', ')}` });
  }
  Object.assign(item, req.body);
  res.json(item);
});

module.exports = router;
