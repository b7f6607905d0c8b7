'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/products');

test('GET /products lists every product', async () => {
  const res = await router.request('GET', '/products');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 3);
});

test('GET /products?category= filters the list', async () => {
  const res = await router.request('GET', '/products', { query: { category: 'books' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 2);
  assert.ok(res.body.data.every((row) => row.category === 'books'));
});

test('GET /products/:id finds one product or answers 404', async () => {
  const found = await router.request('GET', '/products/1');
  assert.strictEqual(found.status, 200);
  assert.deepStrictEqual(found.body, { id: 1, sku: 'BK-101', title: 'Refactoring', category: 'books' });
  const missing = await router.request('GET', '/products/999');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'product not found' });
});

test('POST /products validates, then creates', async () => {
  const invalid = await router.request('POST', '/products', { body: { sku: 'BK-101-new' } });
  assert.strictEqual(invalid.status, 400);
  const created = await router.request('POST', '/products', { body: { sku: 'BK-101-new', title: 'Refactoring-new' } });
  assert.strictEqual(created.status, 201);
  assert.deepStrictEqual(created.body, { id: 4, sku: 'BK-101-new', title: 'Refactoring-new', category: 'misc' });
});

test('DELETE /products/:id removes the product', async () => {
  const res = await router.request('DELETE', '/products/2');
  assert.strictEqual(res.status, 204);
  const after = await router.request('GET', '/products/2');
  assert.strictEqual(after.status, 404);
});
