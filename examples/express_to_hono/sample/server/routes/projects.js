'use strict';
const express = require('../../lib/express');

const router = express.Router();

const projects = [
  { id: 1, name: 'Apollo', owner: 'ada', state: 'active' },
  { id: 2, name: 'Gemini', owner: 'alan', state: 'archived' },
];
let nextId = 3;

router.get('/projects', (req, res) => {
  const state = req.query.state;
  const rows = state ? projects.filter((row) => row.state === state) : projects;
  res.json({ data: rows, count: rows.length });
});

router.get('/projects/:id', (req, res) => {
  const project = projects.find((row) => row.id === parseInt(req.params.id, 10));
  if (!project) return res.status(404).json({ error: 'project not found' });
  res.json(project);
});

router.post('/projects', (req, res) => {
  const { name, owner } = req.body;
  if (!name || !owner) {
    return res.status(400).json({ error: 'name and owner are required' });
  }
  const project = { id: nextId++, name, owner, state: 'active' };
  projects.push(project);
  res.status(201).json(project);
});

router.delete('/projects/:id', (req, res) => {
  const index = projects.findIndex((row) => row.id === parseInt(req.params.id, 10));
  if (index === -1) return res.status(404).json({ error: 'project not found' });
  projects.splice(index, 1);
  res.status(204).send();
});

module.exports = router;
