'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/customers');

test('GET /customers lists every customer', async () => {
  const res = await router.request('GET', '/customers');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 2);
});

test('GET /customers?country= filters the list', async () => {
  const res = await router.request('GET', '/customers', { query: { country: 'DE' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 1);
  assert.ok(res.body.data.every((row) => row.country === 'DE'));
});

test('GET /customers/:id finds one customer or answers 404', async () => {
  const found = await router.request('GET', '/customers/1');
  assert.strictEqual(found.status, 200);
  assert.deepStrictEqual(found.body, { id: 1, name: 'Acme GmbH', country: 'DE', tier: 'gold' });
  const missing = await router.request('GET', '/customers/999');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'customer not found' });
});

test('POST /customers validates, then creates', async () => {
  const invalid = await router.request('POST', '/customers', { body: { name: 'Acme GmbH-new' } });
  assert.strictEqual(invalid.status, 400);
  const created = await router.request('POST', '/customers', { body: { name: 'Acme GmbH-new', country: 'DE-new' } });
  assert.strictEqual(created.status, 201);
  assert.deepStrictEqual(created.body, { id: 3, name: 'Acme GmbH-new', country: 'DE-new', tier: 'standard' });
});

test('DELETE /customers/:id removes the customer', async () => {
  const res = await router.request('DELETE', '/customers/2');
  assert.strictEqual(res.status, 204);
  const after = await router.request('GET', '/customers/2');
  assert.strictEqual(after.status, 404);
});
