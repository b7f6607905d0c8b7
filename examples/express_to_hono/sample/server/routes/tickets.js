'use strict';
const express = require('../../lib/express');

const router = express.Router();

const tickets = [
  { id: 1, subject: 'Login loop', priority: 'high', status: 'open' },
  { id: 2, subject: 'Typo on pricing page', priority: 'low', status: 'open' },
];
let nextId = 3;

router.get('/tickets', (req, res) => {
  const priority = req.query.priority;
  const rows = priority ? tickets.filter((row) => row.priority === priority) : tickets;
  res.json({ data: rows, count: rows.length });
});

router.get('/tickets/:id', (req, res) => {
  const ticket = tickets.find((row) => row.id === Number(req.params.id));
  if (!ticket) return res.status(404).json({ error: 'ticket not found' });
  res.json(ticket);
});

router.post('/tickets', (req, res) => {
  const { subject, priority } = req.body;
  if (!subject || !priority) {
    return res.status(400).json({ error: 'subject and priority are required' });
  }
  const ticket = { id: nextId++, subject, priority, status: 'open' };
  tickets.push(ticket);
  res.status(201).json(ticket);
});

router.delete('/tickets/:id', (req, res) => {
  const index = tickets.findIndex((row) => row.id === Number(req.params.id));
  if (index === -1) return res.status(404).json({ error: 'ticket not found' });
  tickets.splice(index, 1);
  res.status(204).send();
});

module.exports = router;
