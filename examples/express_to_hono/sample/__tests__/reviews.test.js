'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/reviews');

test('GET /products/:productId/reviews lists the product\'s reviews', async () => {
  const res = await router.request('GET', '/products/1/reviews');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.length, 2);
});

test('GET /products/:productId/reviews?verified=true filters', async () => {
  const res = await router.request('GET', '/products/1/reviews', { query: { verified: 'true' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.length, 1);
});

test('GET /products/:productId/reviews answers 404 for an unknown product', async () => {
  const res = await router.request('GET', '/products/9/reviews');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.body, { error: 'product not found' });
});

test('GET /products/:productId/reviews/:reviewId is scoped to the product', async () => {
  const own = await router.request('GET', '/products/2/reviews/3');
  assert.strictEqual(own.status, 200);
  assert.strictEqual(own.body.stars, 4);
  const other = await router.request('GET', '/products/1/reviews/3');
  assert.strictEqual(other.status, 404);
});

test('POST /products/:productId/reviews creates a review', async () => {
  const res = await router.request('POST', '/products/2/reviews', { body: { stars: 4 } });
  assert.strictEqual(res.status, 201);
  assert.deepStrictEqual(res.body, { id: 4, productId: 2, stars: 4, verified: false });
});
