'use strict';
const express = require('../../lib/express');

const router = express.Router();

const zones = {
  domestic: { baseCents: 499, perKgCents: 120 },
  eu: { baseCents: 999, perKgCents: 300 },
  world: { baseCents: 1999, perKgCents: 650 },
};

router.get('/shipping/:zone', (req, res) => {
  const zone = zones[req.params.zone];
  if (!zone) return res.status(404).json({ error: 'no such shipping zone' });
  const weightKg = Number(req.query.weightKg || 0);
  if (weightKg < 0 || weightKg > 30) {
    return res.status(422).json({ error: 'weightKg must be between 0 and 30' });
  }
  const priority = req.query.priority === 'true';
  const cents = zone.baseCents + Math.ceil(weightKg) * zone.perKgCents;
  res.json({ zone: req.params.zone, weightKg, cents: priority ? cents * 2 : cents });
});

module.exports = router;
