'use strict';
const express = require('../../lib/express');

const router = express.Router();

const VAT = { DE: 19, FR: 20, GB: 20, IE: 23, US: 0 };
const REDUCED = { DE: 7, FR: 5.5, GB: 5, IE: 13.5, US: 0 };

router.get('/tax/:country', (req, res) => {
  const country = req.params.country.toUpperCase();
  if (!(country in VAT)) return res.status(404).json({ error: 'unsupported country' });
  const reduced = req.query.category === 'food' || req.query.category === 'books';
  res.json({ country, percent: reduced ? REDUCED[country] : VAT[country], reduced });
});

router.post('/tax/:country/quote', (req, res) => {
  const country = req.params.country.toUpperCase();
  if (!(country in VAT)) return res.status(404).json({ error: 'unsupported country' });
  const netCents = req.body.netCents;
  if (!Number.isInteger(netCents)) {
    return res.status(400).json({ error: 'netCents must be an integer' });
  }
  const taxCents = Math.round((netCents * VAT[country]) / 100);
  res.json({ netCents, taxCents, grossCents: netCents + taxCents });
});

module.exports = router;
