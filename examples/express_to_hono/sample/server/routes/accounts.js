'use strict';
const express = require('../../lib/express');

const router = express.Router();

const accounts = new Map([
  [1, { id: 1, owner: 'acme', currency: 'EUR', status: 'active' }],
  [2, { id: 2, owner: 'globex', currency: 'USD', status: 'frozen' }],
]);
const EDITABLE = ['owner', 'status'];

router.get('/accounts/:id', (req, res) => {
  const item = accounts.get(Number(req.params.id));
  if (!item) return res.status(404).json({ error: 'no such account' });
  res.json(item);
});

router.put('/accounts/:id', (req, res) => {
  const item = accounts.get(Number(req.params.id));
  if (!item) return res.status(404).json({ error: 'no such account' });
  const unknown = Object.keys(req.body).filter((field) => !EDITABLE.includes(field));
  if (unknown.length > 0) {
    return res.status(422).json({ error: `cannot change ${unknown.join(', ')}` });
  }
  Object.assign(item, req.body);
  res.json(item);
});

module.exports = router;
