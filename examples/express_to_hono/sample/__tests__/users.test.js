'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/users');

test('GET /users lists every user', async () => {
  const res = await router.request('GET', '/users');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 3);
});

test('GET /users?role= filters the list', async () => {
  const res = await router.request('GET', '/users', { query: { role: 'admin' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 1);
  assert.ok(res.body.data.every((row) => row.role === 'admin'));
});

test('GET /users/:id finds one user or answers 404', async () => {
  const found = await router.request('GET', '/users/1');
  assert.strictEqual(found.status, 200);
  assert.deepStrictEqual(found.body, { id: 1, name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin' });
  const missing = await router.request('GET', '/users/999');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'user not found' });
});

test('POST /users validates, then creates', async () => {
  const invalid = await router.request('POST', '/users', { body: { name: 'Ada Lovelace-new' } });
  assert.strictEqual(invalid.status, 400);
  const created = await router.request('POST', '/users', { body: { name: 'Ada Lovelace-new', email: 'ada@example.com-new' } });
  assert.strictEqual(created.status, 201);
  assert.deepStrictEqual(created.body, { id: 4, name: 'Ada Lovelace-new', email: 'ada@example.com-new', role: 'member' });
});

test('DELETE /users/:id removes the user', async () => {
  const res = await router.request('DELETE', '/users/2');
  assert.strictEqual(res.status, 204);
  const after = await router.request('GET', '/users/2');
  assert.strictEqual(after.status, 404);
});
