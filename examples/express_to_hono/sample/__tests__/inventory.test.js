'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/inventory');

test('GET /inventory lists stock, or only low stock', async () => {
  const all = await router.request('GET', '/inventory');
  assert.strictEqual(all.body.length, 3);
  const low = await router.request('GET', '/inventory', { query: { low: 'true' } });
  assert.deepStrictEqual(low.body.map((row) => row.sku), ['MG-202', 'BK-102']);
});

test('PUT /inventory/:sku adjusts stock', async () => {
  const res = await router.request('PUT', '/inventory/BK-102', { body: { delta: 4 } });
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { sku: 'BK-102', count: 7 });
});

test('PUT /inventory/:sku refuses to go below zero', async () => {
  const res = await router.request('PUT', '/inventory/MG-202', { body: { delta: -1 } });
  assert.strictEqual(res.status, 409);
  assert.deepStrictEqual(res.body, { error: 'not enough stock', available: 0 });
  const unknown = await router.request('PUT', '/inventory/XX-1', { body: { delta: 1 } });
  assert.strictEqual(unknown.status, 404);
});
