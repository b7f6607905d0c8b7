'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/subscriptions');

test('GET /subscriptions/:id returns the subscription', async () => {
  const res = await router.request('GET', '/subscriptions/sub_1');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 'sub_1', customerId: 'c1', plan: 'pro', status: 'active' });
});

test('GET /subscriptions/:id answers 404 for an unknown id', async () => {
  const res = await router.request('GET', '/subscriptions/sub_404');
  assert.strictEqual(res.status, 404);
});

test('POST /subscriptions rejects an invalid plan', async () => {
  const res = await router.request('POST', '/subscriptions', { body: { customerId: 'c9', plan: '' } });
  assert.strictEqual(res.status, 400);
  assert.deepStrictEqual(res.body, { error: 'plan is required' });
});

test('POST /subscriptions creates a active subscription', async () => {
  const res = await router.request('POST', '/subscriptions', { body: { customerId: 'c9', plan: 'free' } });
  assert.strictEqual(res.status, 201);
  assert.deepStrictEqual(res.body, { id: 'sub_2', customerId: 'c9', plan: 'free', status: 'active' });
});

test('POST /subscriptions/:id/pause moves it once, then conflicts', async () => {
  const first = await router.request('POST', '/subscriptions/sub_1/pause', { body: {} });
  assert.strictEqual(first.status, 200);
  assert.strictEqual(first.body.status, 'paused');
  const again = await router.request('POST', '/subscriptions/sub_1/pause', { body: {} });
  assert.strictEqual(again.status, 409);
  assert.deepStrictEqual(again.body, { error: 'subscription is paused' });
});
