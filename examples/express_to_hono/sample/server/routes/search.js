'use strict';
const express = require('../../lib/express');

const router = express.Router();

const documents = [
  { id: 'doc-1', title: 'Getting started', kind: 'guide' },
  { id: 'doc-2', title: 'Billing and invoices', kind: 'guide' },
  { id: 'doc-3', title: 'Invoice API reference', kind: 'reference' },
  { id: 'doc-4', title: 'Webhooks', kind: 'reference' },
  { id: 'doc-5', title: 'Starting a trial', kind: 'faq' },
];

router.get('/search', (req, res) => {
  const q = (req.query.q || '').trim().toLowerCase();
  if (q.length < 2) {
    return res.status(400).json({ error: 'q must have at least 2 characters' });
  }
  const limit = Math.min(Number(req.query.limit || 10), 50);
  const hits = documents.filter((doc) => doc.title.toLowerCase().includes(q));
  res.json({ q, total: hits.length, results: hits.slice(0, limit) });
});

module.exports = router;
