'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/refunds');

test('GET /refunds/:id returns the refund', async () => {
  const res = await router.request('GET', '/refunds/re_1');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 're_1', paymentId: 'pay_1', amountCents: 500, status: 'requested' });
});

test('GET /refunds/:id answers 404 for an unknown id', async () => {
  const res = await router.request('GET', '/refunds/re_404');
  assert.strictEqual(res.status, 404);
});

test('POST /refunds rejects an invalid amountCents', async () => {
  const res = await router.request('POST', '/refunds', { body: { paymentId: 'pay_2', amountCents: -5 } });
  assert.strictEqual(res.status, 400);
  assert.deepStrictEqual(res.body, { error: 'amountCents must be a positive integer' });
});

test('POST /refunds creates a requested refund', async () => {
  const res = await router.request('POST', '/refunds', { body: { paymentId: 'pay_2', amountCents: 250 } });
  assert.strictEqual(res.status, 201);
  assert.deepStrictEqual(res.body, { id: 're_2', paymentId: 'pay_2', amountCents: 250, status: 'requested' });
});

test('POST /refunds/:id/approve moves it once, then conflicts', async () => {
  const first = await router.request('POST', '/refunds/re_1/approve', { body: {} });
  assert.strictEqual(first.status, 200);
  assert.strictEqual(first.body.status, 'approved');
  const again = await router.request('POST', '/refunds/re_1/approve', { body: {} });
  assert.strictEqual(again.status, 409);
  assert.deepStrictEqual(again.body, { error: 'refund is approved' });
});
