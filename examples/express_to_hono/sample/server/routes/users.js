'use strict';
const express = require('../../lib/express');

const router = express.Router();

const users = [
  { id: 1, name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin' },
  { id: 2, name: 'Alan Turing', email: 'alan@example.com', role: 'member' },
  { id: 3, name: 'Grace Hopper', email: 'grace@example.com', role: 'member' },
];
let nextId = 4;

router.get('/users', (req, res) => {
  const role = req.query.role;
  const rows = role ? users.filter((row) => row.role === role) : users;
  res.json({ data: rows, count: rows.length });
});

router.get('/users/:id', (req, res) => {
  const user = users.find((row) => row.id === Number(req.params.id));
  if (!user) return res.status(404).json({ error: 'user not found' });
  res.json(user);
});

router.post('/users', (req, res) => {
  const { name, email } = req.body;
  if (!name || !email) {
    return res.status(400).json({ error: 'name and email are required' });
  }
  const user = { id: nextId++, name, email, role: 'member' };
  users.push(user);
  res.status(201).json(user);
});

router.delete('/users/:id', (req, res) => {
  const index = users.findIndex((row) => row.id === Number(req.params.id));
  if (index === -1) return res.status(404).json({ error: 'user not found' });
  users.splice(index, 1);
  res.status(204).send();
});

module.exports = router;
