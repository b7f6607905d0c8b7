'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/accounts');

test('GET /accounts/:id returns the account', async () => {
  const res = await router.request('GET', '/accounts/1');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 1, owner: 'acme', currency: 'EUR', status: 'active' });
});

test('GET /accounts/:id answers 404 for an unknown id', async () => {
  const res = await router.request('GET', '/accounts/404');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.body, { error: 'no such account' });
});

test('PUT /accounts/:id changes editable fields', async () => {
  const res = await router.request('PUT', '/accounts/2', { body: { status: 'closed' } });
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 2, owner: 'globex', currency: 'USD', status: 'closed' });
});

test('PUT /accounts/:id refuses other fields with 422', async () => {
  const res = await router.request('PUT', '/accounts/1', { body: { currency: 'GBP' } });
  assert.strictEqual(res.status, 422);
  assert.deepStrictEqual(res.body, { error: 'cannot change currency' });
});
