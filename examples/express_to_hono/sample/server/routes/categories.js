'use strict';
const express = require('../../lib/express');

const router = express.Router();

const categories = [
  { id: 1, name: 'Books', parent: 'root' },
  { id: 2, name: 'Fiction', parent: 'Books' },
];
let nextId = 3;

router.get('/categories', (req, res) => {
  const parent = req.query.parent;
  const rows = parent ? categories.filter((row) => row.parent === parent) : categories;
  res.json({ data: rows, count: rows.length });
});

router.get('/categories/:id', (req, res) => {
  const category = categories.find((row) => row.id === parseInt(req.params.id, 10));
  if (!category) return res.status(404).json({ error: 'category not found' });
  res.json(category);
});

router.post('/categories', (req, res) => {
  const { name } = req.body;
  if (!name) {
    return res.status(400).json({ error: 'name is required' });
  }
  const category = { id: nextId++, name, parent: 'root' };
  categories.push(category);
  res.status(201).json(category);
});

router.delete('/categories/:id', (req, res) => {
  const index = categories.findIndex((row) => row.id === parseInt(req.params.id, 10));
  if (index === -1) return res.status(404).json({ error: 'category not found' });
  categories.splice(index, 1);
  res.status(204).send();
});

module.exports = router;
