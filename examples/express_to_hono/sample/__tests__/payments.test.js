'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/payments');

test('GET /payments/:id returns the payment', async () => {
  const res = await router.request('GET', '/payments/pay_1');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 'pay_1', orderId: 'ord_1', amountCents: 4200, status: 'authorized' });
});

test('GET /payments/:id answers 404 for an unknown id', async () => {
  const res = await router.request('GET', '/payments/pay_404');
  assert.strictEqual(res.status, 404);
});

test('POST /payments rejects an invalid amountCents', async () => {
  const res = await router.request('POST', '/payments', { body: { orderId: 'ord_2', amountCents: -5 } });
  assert.strictEqual(res.status, 400);
  assert.deepStrictEqual(res.body, { error: 'amountCents must be a positive integer' });
});

test('POST /payments creates a authorized payment', async () => {
  const res = await router.request('POST', '/payments', { body: { orderId: 'ord_2', amountCents: 1999 } });
  assert.strictEqual(res.status, 201);
  assert.deepStrictEqual(res.body, { id: 'pay_2', orderId: 'ord_2', amountCents: 1999, status: 'authorized' });
});

test('POST /payments/:id/capture moves it once, then conflicts', async () => {
  const first = await router.request('POST', '/payments/pay_1/capture', { body: {} });
  assert.strictEqual(first.status, 200);
  assert.strictEqual(first.body.status, 'captured');
  const again = await router.request('POST', '/payments/pay_1/capture', { body: {} });
  assert.strictEqual(again.status, 409);
  assert.deepStrictEqual(again.body, { error: 'payment is captured' });
});
