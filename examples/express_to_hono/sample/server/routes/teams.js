'use strict';
const express = require('../../lib/express');

const router = express.Router();

const teams = [
  { id: 1, name: 'Platform', slug: 'platform', plan: 'pro' },
  { id: 2, name: 'Growth', slug: 'growth', plan: 'free' },
];
let nextId = 3;

router.get('/teams', (req, res) => {
  const plan = req.query.plan;
  const rows = plan ? teams.filter((row) => row.plan === plan) : teams;
  res.json({ data: rows, count: rows.length });
});

router.get('/teams/:id', (req, res) => {
  const team = teams.find((row) => row.id === Number(req.params.id));
  if (!team) return res.status(404).json({ error: 'team not found' });
  res.json(team);
});

router.post('/teams', (req, res) => {
  const { name, slug } = req.body;
  if (!name || !slug) {
    return res.status(400).json({ error: 'name and slug are required' });
  }
  const team = { id: nextId++, name, slug, plan: 'free' };
  teams.push(team);
  res.status(201).json(team);
});

router.delete('/teams/:id', (req, res) => {
  const index = teams.findIndex((row) => row.id === Number(req.params.id));
  if (index === -1) return res.status(404).json({ error: 'team not found' });
  teams.splice(index, 1);
  res.status(204).send();
});

module.exports = router;
