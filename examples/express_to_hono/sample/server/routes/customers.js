'use strict';
const express = require('../../lib/express');

const router = express.Router();

const customers = [
  { id: 1, name: 'Acme GmbH', country: 'DE', tier: 'gold' },
  { id: 2, name: 'Globex', country: 'US', tier: 'standard' },
];
let nextId = 3;

router.get('/customers', (req, res) => {
  const country = req.query.country;
  const rows = country ? customers.filter((row) => row.country === country) : customers;
  res.json({ data: rows, count: rows.length });
});

router.get('/customers/:id', (req, res) => {
  const customer = customers.find((row) => row.id === parseInt(req.params.id, 10));
  if (!customer) return res.status(404).json({ error: 'customer not found' });
  res.json(customer);
});

router.post('/customers', (req, res) => {
  const { name, country } = req.body;
  if (!name || !country) {
    return res.status(400).json({ error: 'name and country are required' });
  }
  const customer = { id: nextId++, name, country, tier: 'standard' };
  customers.push(customer);
  res.status(201).json(customer);
});

router.delete('/customers/:id', (req, res) => {
  const index = customers.findIndex((row) => row.id === parseInt(req.params.id, 10));
  if (index === -1) return res.status(404).json({ error: 'customer not found' });
  customers.splice(index, 1);
  res.status(204).send();
});

module.exports = router;
