'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/carts');

test('POST /carts/:id/items adds and merges items', async () => {
  const first = await router.request('POST', '/carts/c1/items', { body: { sku: 'MG-202', quantity: 2 } });
  assert.strictEqual(first.status, 201);
  assert.strictEqual(first.body.subtotalCents, 2500);
  const second = await router.request('POST', '/carts/c1/items', { body: { sku: 'MG-202', quantity: 1 } });
  assert.deepStrictEqual(second.body, { id: 'c1', items: [{ sku: 'MG-202', quantity: 3 }], subtotalCents: 3750 });
});

test('POST /carts/:id/items validates sku and quantity', async () => {
  const sku = await router.request('POST', '/carts/c2/items', { body: { sku: 'NOPE', quantity: 1 } });
  assert.deepStrictEqual(sku.body, { error: 'unknown sku NOPE' });
  const qty = await router.request('POST', '/carts/c2/items', { body: { sku: 'BK-101', quantity: 0 } });
  assert.strictEqual(qty.status, 400);
});

test('GET and DELETE /carts/:id', async () => {
  const found = await router.request('GET', '/carts/c1');
  assert.strictEqual(found.status, 200);
  const removed = await router.request('DELETE', '/carts/c1');
  assert.strictEqual(removed.status, 204);
  const gone = await router.request('GET', '/carts/c1');
  assert.strictEqual(gone.status, 404);
});
