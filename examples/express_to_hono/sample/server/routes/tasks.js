'use strict';
const express = require('../../lib/express');

const router = express.Router();

const projects = { 1: 'Apollo', 2: 'Gemini' };
const tasks = [
  { id: 1, projectId: 1, title: 'Draft plan', done: true },
  { id: 2, projectId: 1, title: 'Review budget', done: false },
  { id: 3, projectId: 2, title: 'Archive docs', done: false },
];

router.get('/projects/:projectId/tasks', (req, res) => {
  const projectId = Number(req.params.projectId);
  if (!projects[projectId]) return res.status(404).json({ error: 'project not found' });
  let rows = tasks.filter((row) => row.projectId === projectId);
  if (req.query.done !== undefined) {
    rows = rows.filter((row) => String(row.done) === req.query.done);
  }
  res.json(rows);
});

router.get('/projects/:projectId/tasks/:taskId', (req, res) => {
  const projectId = Number(req.params.projectId);
  const row = tasks.find((r) => r.projectId === projectId && r.id === Number(req.params.taskId));
  if (!row) return res.status(404).json({ error: 'task not found in this project' });
  res.json(row);
});

router.post('/projects/:projectId/tasks', (req, res) => {
  const projectId = Number(req.params.projectId);
  if (!projects[projectId]) return res.status(404).json({ error: 'project not found' });
  const title = req.body.title;
  if (!title) return res.status(400).json({ error: 'title is required' });
  const row = { id: tasks.length + 1, projectId, title, done: false };
  tasks.push(row);
  res.status(201).json(row);
});

module.exports = router;
