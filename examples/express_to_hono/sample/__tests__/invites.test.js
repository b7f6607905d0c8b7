'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/invites');

test('GET /invites/:id returns the invite', async () => {
  const res = await router.request('GET', '/invites/inv_1');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 'inv_1', email: 'sam@example.com', team: 'platform', status: 'sent' });
});

test('GET /invites/:id answers 404 for an unknown id', async () => {
  const res = await router.request('GET', '/invites/inv_404');
  assert.strictEqual(res.status, 404);
});

test('POST /invites rejects an invalid email', async () => {
  const res = await router.request('POST', '/invites', { body: { email: '', team: 'growth' } });
  assert.strictEqual(res.status, 400);
  assert.deepStrictEqual(res.body, { error: 'email is required' });
});

test('POST /invites creates a sent invite', async () => {
  const res = await router.request('POST', '/invites', { body: { email: 'kai@example.com', team: 'growth' } });
  assert.strictEqual(res.status, 201);
  assert.deepStrictEqual(res.body, { id: 'inv_2', email: 'kai@example.com', team: 'growth', status: 'sent' });
});

test('POST /invites/:id/accept moves it once, then conflicts', async () => {
  const first = await router.request('POST', '/invites/inv_1/accept', { body: {} });
  assert.strictEqual(first.status, 200);
  assert.strictEqual(first.body.status, 'accepted');
  const again = await router.request('POST', '/invites/inv_1/accept', { body: {} });
  assert.strictEqual(again.status, 409);
  assert.deepStrictEqual(again.body, { error: 'invite is accepted' });
});
