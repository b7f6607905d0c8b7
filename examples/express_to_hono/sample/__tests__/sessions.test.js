'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/sessions');

test('GET /sessions/:id returns the session', async () => {
  const res = await router.request('GET', '/sessions/sess_1');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 'sess_1', userId: 1, device: 'laptop', status: 'active' });
});

test('GET /sessions/:id answers 404 for an unknown id', async () => {
  const res = await router.request('GET', '/sessions/sess_404');
  assert.strictEqual(res.status, 404);
});

test('POST /sessions rejects an invalid device', async () => {
  const res = await router.request('POST', '/sessions', { body: { userId: 2, device: '' } });
  assert.strictEqual(res.status, 400);
  assert.deepStrictEqual(res.body, { error: 'device is required' });
});

test('POST /sessions creates a active session', async () => {
  const res = await router.request('POST', '/sessions', { body: { userId: 2, device: 'phone' } });
  assert.strictEqual(res.status, 201);
  assert.deepStrictEqual(res.body, { id: 'sess_2', userId: 2, device: 'phone', status: 'active' });
});

test('POST /sessions/:id/revoke moves it once, then conflicts', async () => {
  const first = await router.request('POST', '/sessions/sess_1/revoke', { body: {} });
  assert.strictEqual(first.status, 200);
  assert.strictEqual(first.body.status, 'revoked');
  const again = await router.request('POST', '/sessions/sess_1/revoke', { body: {} });
  assert.strictEqual(again.status, 409);
  assert.deepStrictEqual(again.body, { error: 'session is revoked' });
});
