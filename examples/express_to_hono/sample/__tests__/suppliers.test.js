'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/suppliers');

test('GET /suppliers lists every supplier', async () => {
  const res = await router.request('GET', '/suppliers');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 2);
});

test('GET /suppliers?city= filters the list', async () => {
  const res = await router.request('GET', '/suppliers', { query: { city: 'Lyon' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 1);
  assert.ok(res.body.data.every((row) => row.city === 'Lyon'));
});

test('GET /suppliers/:id finds one supplier or answers 404', async () => {
  const found = await router.request('GET', '/suppliers/1');
  assert.strictEqual(found.status, 200);
  assert.deepStrictEqual(found.body, { id: 1, name: 'Maison Dupont', city: 'Lyon', rating: 4 });
  const missing = await router.request('GET', '/suppliers/999');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'supplier not found' });
});

test('POST /suppliers validates, then creates', async () => {
  const invalid = await router.request('POST', '/suppliers', { body: { name: 'Maison Dupont-new' } });
  assert.strictEqual(invalid.status, 400);
  const created = await router.request('POST', '/suppliers', { body: { name: 'Maison Dupont-new', city: 'Lyon-new' } });
  assert.strictEqual(created.status, 201);
  assert.deepStrictEqual(created.body, { id: 3, name: 'Maison Dupont-new', city: 'Lyon-new', rating: 0 });
});

test('DELETE /suppliers/:id removes the supplier', async () => {
  const res = await router.request('DELETE', '/suppliers/2');
  assert.strictEqual(res.status, 204);
  const after = await router.request('GET', '/suppliers/2');
  assert.strictEqual(after.status, 404);
});
