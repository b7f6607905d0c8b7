'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/roles');

test('GET /roles/:key returns the role', async () => {
  const res = await router.request('GET', '/roles/admin');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { key: 'admin', permissions: ['read', 'write', 'delete'] });
});

test('GET /roles/:key answers 404 for an unknown key', async () => {
  const res = await router.request('GET', '/roles/nope');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.body, { error: 'no such role' });
});

test('PUT /roles/:key changes editable fields', async () => {
  const res = await router.request('PUT', '/roles/viewer', { body: { permissions: ['read', 'comment'] } });
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { key: 'viewer', permissions: ['read', 'comment'] });
});

test('PUT /roles/:key refuses other fields with 422', async () => {
  const res = await router.request('PUT', '/roles/admin', { body: { builtIn: true } });
  assert.strictEqual(res.status, 422);
  assert.deepStrictEqual(res.body, { error: 'cannot change builtIn' });
});
