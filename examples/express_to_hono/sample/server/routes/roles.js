'use strict';
const express = require('../../lib/express');

const router = express.Router();

const roles = new Map([
  ['admin', { key: 'admin', permissions: ['read', 'write', 'delete'] }],
  ['viewer', { key: 'viewer', permissions: ['read'] }],
]);
const EDITABLE = ['permissions'];

router.get('/roles/:key', (req, res) => {
  const item = roles.get(req.params.key);
  if (!item) return res.status(404).json({ error: 'no such role' });
  res.json(item);
});

router.put('/roles/:key', (req, res) => {
  const item = roles.get(req.params.key);
  if (!item) return res.status(404).json({ error: 'no such role' });
  const unknown = Object.keys(req.body).filter((field) => !EDITABLE.includes(field));
  if (unknown.length > 0) {
    return res.status(422).json({ error: `cannot change ${unknown.join(', ')}` });
  }
  Object.assign(item, req.body);
  res.json(item);
});

module.exports = router;
