'use strict';
const express = require('../../lib/express');

const router = express.Router();

const suppliers = [
  { id: 1, name: 'Maison Dupont', city: 'Lyon', rating: 4 },
  { id: 2, name: 'Nordic Parts', city: 'Oslo', rating: 5 },
];
let nextId = 3;

router.get('/suppliers', (req, res) => {
  const city = req.query.city;
  const rows = city ? suppliers.filter((row) => row.city === city) : suppliers;
  res.json({ data: rows, count: rows.length });
});

router.get('/suppliers/:id', (req, res) => {
  const supplier = suppliers.find((row) => row.id === Number(req.params.id));
  if (!supplier) return res.status(404).json({ error: 'supplier not found' });
  res.json(supplier);
});

router.post('/suppliers', (req, res) => {
  const { name, city } = req.body;
  if (!name || !city) {
    return res.status(400).json({ error: 'name and city are required' });
  }
  const supplier = { id: nextId++, name, city, rating: 0 };
  suppliers.push(supplier);
  res.status(201).json(supplier);
});

router.delete('/suppliers/:id', (req, res) => {
  const index = suppliers.findIndex((row) => row.id === Number(req.params.id));
  if (index === -1) return res.status(404).json({ error: 'supplier not found' });
  suppliers.splice(index, 1);
  res.status(204).send();
});

module.exports = router;
