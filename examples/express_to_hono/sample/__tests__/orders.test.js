'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/orders');

test('GET /orders/:id returns the order', async () => {
  const res = await router.request('GET', '/orders/ord_1');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 'ord_1', customerId: 'c1', items: ['BK-101'], status: 'pending' });
});

test('GET /orders/:id answers 404 for an unknown id', async () => {
  const res = await router.request('GET', '/orders/ord_404');
  assert.strictEqual(res.status, 404);
});

test('POST /orders rejects an invalid items', async () => {
  const res = await router.request('POST', '/orders', { body: { customerId: 'c2', items: [] } });
  assert.strictEqual(res.status, 400);
  assert.deepStrictEqual(res.body, { error: 'items must be a non-empty list' });
});

test('POST /orders creates a pending order', async () => {
  const res = await router.request('POST', '/orders', { body: { customerId: 'c2', items: ['MG-202', 'BK-102'] } });
  assert.strictEqual(res.status, 201);
  assert.deepStrictEqual(res.body, { id: 'ord_2', customerId: 'c2', items: ['MG-202', 'BK-102'], status: 'pending' });
});

test('POST /orders/:id/cancel moves it once, then conflicts', async () => {
  const first = await router.request('POST', '/orders/ord_1/cancel', { body: {} });
  assert.strictEqual(first.status, 200);
  assert.strictEqual(first.body.status, 'cancelled');
  const again = await router.request('POST', '/orders/ord_1/cancel', { body: {} });
  assert.strictEqual(again.status, 409);
  assert.deepStrictEqual(again.body, { error: 'order is cancelled' });
});
