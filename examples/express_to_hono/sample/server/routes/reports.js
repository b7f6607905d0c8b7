'use strict';
const express = require('../../lib/express');

const router = express.Router();

const signups = [
  { day: '2024-05-01', plan: 'free', count: 40 },
  { day: '2024-05-01', plan: 'pro', count: 6 },
  { day: '2024-05-02', plan: 'free', count: 31 },
  { day: '2024-05-02', plan: 'pro', count: 9 },
  { day: '2024-05-03', plan: 'free', count: 27 },
];

router.get('/reports/signups', async (req, res) => {
  const from = req.query.from || '0000-00-00';
  const to = req.query.to || '9999-99-99';
  if (from > to) return res.status(400).json({ error: 'from must not be after to' });
  const rows = signups.filter((row) => row.day >= from && row.day <= to);
  const byPlan = {};
  for (const row of rows) byPlan[row.plan] = (byPlan[row.plan] || 0) + row.count;
  res.json({ from, to, total: rows.reduce((sum, row) => sum + row.count, 0), byPlan });
});

module.exports = router;
