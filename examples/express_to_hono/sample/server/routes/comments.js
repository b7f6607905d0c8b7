'use strict';
const express = require('../../lib/express');

const router = express.Router();

const comments = [
  { id: 1, author: 'mia', text: 'Looks good to me' },
  { id: 2, author: 'noah', text: 'Needs a test' },
  { id: 3, author: 'mia', text: 'Fixed in the next commit' },
];
let nextId = 4;

router.get('/comments', (req, res) => {
  const author = req.query.author;
  const rows = author ? comments.filter((row) => row.author === author) : comments;
  res.json({ data: rows, count: rows.length });
});

router.get('/comments/:id', (req, res) => {
  const comment = comments.find((row) => row.id === Number(req.params.id));
  if (!comment) return res.status(404).json({ error: 'comment not found' });
  res.json(comment);
});

router.post('/comments', (req, res) => {
  const { author, text } = req.body;
  if (!author || !text) {
    return res.status(400).json({ error: 'author and text are required' });
  }
  const comment = { id: nextId++, author, text };
  comments.push(comment);
  res.status(201).json(comment);
});

router.delete('/comments/:id', (req, res) => {
  const index = comments.findIndex((row) => row.id === Number(req.params.id));
  if (index === -1) return res.status(404).json({ error: 'comment not found' });
  comments.splice(index, 1);
  res.status(204).send();
});

module.exports = router;
