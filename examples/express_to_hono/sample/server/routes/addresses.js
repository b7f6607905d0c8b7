'use strict';
const express = require('../../lib/express');

const router = express.Router();

const addresses = new Map([
  [1, { id: 1, line1: '1 Main St', city: 'Springfield', zip: '12345' }],
  [2, { id: 2, line1: '9 Rue Haute', city: 'Lyon', zip: '69001' }],
]);
const EDITABLE = ['line1', 'city', 'zip'];

router.get('/addresses/:id', (req, res) => {
  const item = addresses.get(Number(req.params.id));
  if (!item) return res.status(404).json({ error: 'no such address' });
  res.json(item);
});

router.put('/addresses/:id', (req, res) => {
  const item = addresses.get(Number(req.params.id));
  if (!item) return res.status(404).json({ error: 'no such address' });
  const unknown = Object.keys(req.body).filter((field) => !EDITABLE.includes(field));
  if (unknown.length > 0) {
    return res.status(422).json({ error: `cannot change ${unknown.join(', ')}` });
  }
  Object.assign(item, req.body);
  res.json(item);
});

module.exports = router;
