'use strict';
const express = require('../../lib/express');

const router = express.Router();

const rates = { USD: 1, EUR: 0.92, GBP: 0.79, JPY: 151.2 };

router.get('/currencies', (req, res) => {
  res.json({ base: 'USD', codes: Object.keys(rates) });
});

router.get('/currencies/:code', (req, res) => {
  const code = req.params.code.toUpperCase();
  const rate = rates[code];
  if (rate === undefined) return res.status(404).json({ error: `unknown currency ${code}` });
  const amount = Number(req.query.amount || 1);
  res.json({ code, rate, converted: Math.round(amount * rate * 100) / 100 });
});

module.exports = router;
