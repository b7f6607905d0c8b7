'use strict';
const express = require('../../lib/express');

const router = express.Router();

const people = [
  { handle: 'ada', name: 'Ada Lovelace', office: 'London', ext: 101 },
  { handle: 'alan', name: 'Alan Turing', office: 'Manchester', ext: 102 },
  { handle: 'grace', name: 'Grace Hopper', office: 'Arlington', ext: 103 },
  { handle: 'katherine', name: 'Katherine Johnson', office: 'Hampton', ext: 104 },
];

router.get('/directory', (req, res) => {
  const office = req.query.office;
  const prefix = (req.query.prefix || '').toLowerCase();
  const rows = people
    .filter((p) => !office || p.office === office)
    .filter((p) => p.handle.startsWith(prefix))
    .map((p) => ({ handle: p.handle, name: p.name }));
  res.json(rows);
});

router.get('/directory/:handle', (req, res) => {
  const person = people.find((p) => p.handle === req.params.handle.toLowerCase());
  if (!person) return res.status(404).json({ error: `nobody called ${req.params.handle}` });
  res.json(person);
});

module.exports = router;
