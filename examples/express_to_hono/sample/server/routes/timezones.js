'use strict';
const express = require('../../lib/express');

const router = express.Router();

const OFFSETS = {
  'Europe/London': 0,
  'Europe/Berlin': 60,
  'America/New_York': -300,
  'Asia/Tokyo': 540,
};

function format(minutes) {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `UTC${sign}${hh}:${mm}`;
}

router.get('/timezones', (req, res) => {
  res.json(Object.keys(OFFSETS));
});

router.get('/timezones/:region/:city', (req, res) => {
  const name = `${req.params.region}/${req.params.city}`;
  if (!(name in OFFSETS)) return res.status(404).json({ error: `unknown zone ${name}` });
  res.json({ name, offset: format(OFFSETS[name]) });
});

module.exports = router;
