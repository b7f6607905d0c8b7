'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/employees');

test('GET /employees lists every employee', async () => {
  const res = await router.request('GET', '/employees');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 3);
});

test('GET /employees?department= filters the list', async () => {
  const res = await router.request('GET', '/employees', { query: { department: 'eng' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 2);
  assert.ok(res.body.data.every((row) => row.department === 'eng'));
});

test('GET /employees/:id finds one employee or answers 404', async () => {
  const found = await router.request('GET', '/employees/1');
  assert.strictEqual(found.status, 200);
  assert.deepStrictEqual(found.body, { id: 1, name: 'Lin', department: 'eng', title: 'Engineer' });
  const missing = await router.request('GET', '/employees/999');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'employee not found' });
});

test('POST /employees validates, then creates', async () => {
  const invalid = await router.request('POST', '/employees', { body: { name: 'Lin-new' } });
  assert.strictEqual(invalid.status, 400);
  const created = await router.request('POST', '/employees', { body: { name: 'Lin-new', department: 'eng-new' } });
  assert.strictEqual(created.status, 201);
  assert.deepStrictEqual(created.body, { id: 4, name: 'Lin-new', department: 'eng-new', title: 'New hire' });
});

test('DELETE /employees/:id removes the employee', async () => {
  const res = await router.request('DELETE', '/employees/2');
  assert.strictEqual(res.status, 204);
  const after = await router.request('GET', '/employees/2');
  assert.strictEqual(after.status, 404);
});
