'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/plans');

test('GET /plans/:key returns the plan', async () => {
  const res = await router.request('GET', '/plans/free');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { key: 'free', seats: 1, priceCents: 0 });
});

test('GET /plans/:key answers 404 for an unknown key', async () => {
  const res = await router.request('GET', '/plans/nope');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.body, { error: 'no such plan' });
});

test('PUT /plans/:key changes editable fields', async () => {
  const res = await router.request('PUT', '/plans/pro', { body: { seats: 12 } });
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { key: 'pro', seats: 12, priceCents: 4900 });
});

test('PUT /plans/:key refuses other fields with 422', async () => {
  const res = await router.request('PUT', '/plans/free', { body: { name: 'Pro' } });
  assert.strictEqual(res.status, 422);
  assert.deepStrictEqual(res.body, { error: 'cannot change name' });
});
