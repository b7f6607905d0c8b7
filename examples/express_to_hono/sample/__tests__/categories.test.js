'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/categories');

test('GET /categories lists every category', async () => {
  const res = await router.request('GET', '/categories');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 2);
});

test('GET /categories?parent= filters the list', async () => {
  const res = await router.request('GET', '/categories', { query: { parent: 'root' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 1);
  assert.ok(res.body.data.every((row) => row.parent === 'root'));
});

test('GET /categories/:id finds one category or answers 404', async () => {
  const found = await router.request('GET', '/categories/1');
  assert.strictEqual(found.status, 200);
  assert.deepStrictEqual(found.body, { id: 1, name: 'Books', parent: 'root' });
  const missing = await router.request('GET', '/categories/999');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'category not found' });
});

test('POST /categories validates, then creates', async () => {
  const invalid = await router.request('POST', '/categories', { body: { note: 'nothing useful' } });
  assert.strictEqual(invalid.status, 400);
  const created = await router.request('POST', '/categories', { body: { name: 'Books-new' } });
  assert.strictEqual(created.status, 201);
  assert.deepStrictEqual(created.body, { id: 3, name: 'Books-new', parent: 'root' });
});

test('DELETE /categories/:id removes the category', async () => {
  const res = await router.request('DELETE', '/categories/2');
  assert.strictEqual(res.status, 204);
  const after = await router.request('GET', '/categories/2');
  assert.strictEqual(after.status, 404);
});
