'use strict';
const express = require('../../lib/express');

const router = express.Router();

const products = { 1: 'Refactoring', 2: 'Espresso mug' };
const reviews = [
  { id: 1, productId: 1, stars: 5, verified: true },
  { id: 2, productId: 1, stars: 3, verified: false },
  { id: 3, productId: 2, stars: 4, verified: true },
];

router.get('/products/:productId/reviews', (req, res) => {
  const productId = Number(req.params.productId);
  if (!products[productId]) return res.status(404).json({ error: 'product not found' });
  let rows = reviews.filter((row) => row.productId === productId);
  if (req.query.verified !== undefined) {
    rows = rows.filter((row) => String(row.verified) === req.query.verified);
  }
  res.json(rows);
});

router.get('/products/:productId/reviews/:reviewId', (req, res) => {
  const productId = Number(req.params.productId);
  const row = reviews.find((r) => r.productId === productId && r.id === Number(req.params.reviewId));
  if (!row) return res.status(404).json({ error: 'review not found in this product' });
  res.json(row);
});

router.post('/products/:productId/reviews', (req, res) => {
  const productId = Number(req.params.productId);
  if (!products[productId]) return res.status(404).json({ error: 'product not found' });
  const stars = req.body.stars;
  if (!Number.isInteger(stars) || stars < 1 || stars > 5) return res.status(400).json({ error: 'stars must be 1 to 5' });
  const row = { id: reviews.length + 1, productId, stars, verified: false };
  reviews.push(row);
  res.status(201).json(row);
});

module.exports = router;
