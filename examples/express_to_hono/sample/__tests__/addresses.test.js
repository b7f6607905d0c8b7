'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/addresses');

test('GET /addresses/:id returns the address', async () => {
  const res = await router.request('GET', '/addresses/1');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 1, line1: '1 Main St', city: 'Springfield', zip: '12345' });
});

test('GET /addresses/:id answers 404 for an unknown id', async () => {
  const res = await router.request('GET', '/addresses/404');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.body, { error: 'no such address' });
});

test('PUT /addresses/:id changes editable fields', async () => {
  const res = await router.request('PUT', '/addresses/2', { body: { zip: '54321' } });
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 2, line1: '9 Rue Haute', city: 'Lyon', zip: '54321' });
});

test('PUT /addresses/:id refuses other fields with 422', async () => {
  const res = await router.request('PUT', '/addresses/1', { body: { country: 'FR' } });
  assert.strictEqual(res.status, 422);
  assert.deepStrictEqual(res.body, { error: 'cannot change country' });
});
