'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/shipping_rates');

test('GET /shipping/:zone prices by weight', async () => {
  const res = await router.request('GET', '/shipping/eu', { query: { weightKg: '2.5' } });
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { zone: 'eu', weightKg: 2.5, cents: 1899 });
});

test('GET /shipping/:zone doubles the price for priority', async () => {
  const res = await router.request('GET', '/shipping/domestic', { query: { priority: 'true' } });
  assert.strictEqual(res.body.cents, 998);
});

test('GET /shipping/:zone validates weight and zone', async () => {
  const heavy = await router.request('GET', '/shipping/world', { query: { weightKg: '31' } });
  assert.strictEqual(heavy.status, 422);
  const nowhere = await router.request('GET', '/shipping/moon');
  assert.strictEqual(nowhere.status, 404);
  assert.deepStrictEqual(nowhere.body, { error: 'no such shipping zone' });
});
