'use strict';
const express = require('../../lib/express');

const router = express.Router();

const stores = [
  { id: 'lon', city: 'London', lat: 51.51, lon: -0.13 },
  { id: 'par', city: 'Paris', lat: 48.86, lon: 2.35 },
  { id: 'ber', city: 'Berlin', lat: 52.52, lon: 13.4 },
  { id: 'nyc', city: 'New York', lat: 40.71, lon: -74.01 },
];

function distanceKm(a, b) {
  const rad = (deg) => (deg * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return Math.round(2 * 6371 * Math.asin(Math.sqrt(h)));
}

router.get('/locations/nearby', (req, res) => {
  const lat = Number(req.query.lat);
  const lon = Number(req.query.lon);
  if (Number.isNaN(lat) || Number.isNaN(lon)) {
    return res.status(400).json({ error: 'lat and lon are required numbers' });
  }
  const radius = Number(req.query.radius || 1000);
  const near = stores
    .map((s) => ({ id: s.id, city: s.city, km: distanceKm({ lat, lon }, s) }))
    .filter((s) => s.km <= radius)
    .sort((a, b) => a.km - b.km);
  res.json(near);
});

module.exports = router;
