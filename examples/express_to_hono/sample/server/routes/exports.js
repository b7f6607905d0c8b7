'use strict';
const express = require('../../lib/express');

const router = express.Router();

const sales = [
  { day: '2024-05-01', region: 'eu', orders: 14, revenueCents: 81200 },
  { day: '2024-05-01', region: 'us', orders: 9, revenueCents: 50300 },
  { day: '2024-05-02', region: 'eu', orders: 11, revenueCents: 60150 },
];

function toCsv(rows) {
  const header = Object.keys(rows[0]).join(',');
  return [header, ...rows.map((row) => Object.values(row).join(','))].join('\n');
}

router.get('/exports/sales.csv', (req, res) => {
  const region = req.query.region;
  const rows = region ? sales.filter((row) => row.region === region) : sales;
  if (rows.length === 0) return res.status(404).send('no rows for that region');
  const csv = toCsv(rows);
  res.send(csv);
});

module.exports = router;
