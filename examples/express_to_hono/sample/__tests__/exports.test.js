'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/exports');

test('GET /exports/sales.csv returns CSV with a header', async () => {
  const res = await router.request('GET', '/exports/sales.csv');
  assert.strictEqual(res.status, 200);
  const lines = res.body.split('\n');
  assert.strictEqual(lines[0], 'day,region,orders,revenueCents');
  assert.strictEqual(lines.length, 4);
});

test('GET /exports/sales.csv filters by region', async () => {
  const res = await router.request('GET', '/exports/sales.csv', { query: { region: 'us' } });
  assert.strictEqual(res.body, 'day,region,orders,revenueCents\n2024-05-01,us,9,50300');
  const none = await router.request('GET', '/exports/sales.csv', { query: { region: 'apac' } });
  assert.strictEqual(none.status, 404);
  assert.strictEqual(none.body, 'no rows for that region');
});
