'use strict';
const express = require('../../lib/express');

const router = express.Router();

const employees = [
  { id: 1, name: 'Lin', department: 'eng', title: 'Engineer' },
  { id: 2, name: 'Sam', department: 'sales', title: 'Account executive' },
  { id: 3, name: 'Kai', department: 'eng', title: 'Staff engineer' },
];
let nextId = 4;

router.get('/employees', (req, res) => {
  const department = req.query.department;
  const rows = department ? employees.filter((row) => row.department === department) : employees;
  res.json({ data: rows, count: rows.length });
});

router.get('/employees/:id', (req, res) => {
  const employee = employees.find((row) => row.id === Number(req.params.id));
  if (!employee) return res.status(404).json({ error: 'employee not found' });
  res.json(employee);
});

router.post('/employees', (req, res) => {
  const { name, department } = req.body;
  if (!name || !department) {
    return res.status(400).json({ error: 'name and department are required' });
  }
  const employee = { id: nextId++, name, department, title: 'New hire' };
  employees.push(employee);
  res.status(201).json(employee);
});

router.delete('/employees/:id', (req, res) => {
  const index = employees.findIndex((row) => row.id === Number(req.params.id));
  if (index === -1) return res.status(404).json({ error: 'employee not found' });
  employees.splice(index, 1);
  res.status(204).send();
});

module.exports = router;
