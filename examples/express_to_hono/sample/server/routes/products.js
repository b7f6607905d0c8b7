'use strict';
const express = require('../../lib/express');

const router = express.Router();

const products = [
  { id: 1, sku: 'BK-101', title: 'Refactoring', category: 'books' },
  { id: 2, sku: 'MG-202', title: 'Espresso mug', category: 'kitchen' },
  { id: 3, sku: 'BK-102', title: 'SICP', category: 'books' },
];
let nextId = 4;

router.get('/products', (req, res) => {
  const category = req.query.category;
  const rows = category ? products.filter((row) => row.category === category) : products;
  res.json({ data: rows, count: rows.length });
});

router.get('/products/:id', (req, res) => {
  const product = products.find((row) => row.id === Number(req.params.id));
  if (!product) return res.status(404).json({ error: 'product not found' });
  res.json(product);
});

router.post('/products', (req, res) => {
  const { sku, title } = req.body;
  if (!sku || !title) {
    return res.status(400).json({ error: 'sku and title are required' });
  }
  const product = { id: nextId++, sku, title, category: 'misc' };
  products.push(product);
  res.status(201).json(product);
});

router.delete('/products/:id', (req, res) => {
  const index = products.findIndex((row) => row.id === Number(req.params.id));
  if (index === -1) return res.status(404).json({ error: 'product not found' });
  products.splice(index, 1);
  res.status(204).send();
});

module.exports = router;
