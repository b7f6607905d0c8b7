'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/profiles');

test('GET /profiles/:id returns the profile', async () => {
  const res = await router.request('GET', '/profiles/1');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 1, displayName: 'ada', bio: 'Analyst', theme: 'dark' });
});

test('GET /profiles/:id answers 404 for an unknown id', async () => {
  const res = await router.request('GET', '/profiles/404');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.body, { error: 'no such profile' });
});

test('PUT /profiles/:id changes editable fields', async () => {
  const res = await router.request('PUT', '/profiles/2', { body: { bio: 'Mathematician' } });
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 2, displayName: 'alan', bio: 'Mathematician', theme: 'light' });
});

test('PUT /profiles/:id refuses other fields with 422', async () => {
  const res = await router.request('PUT', '/profiles/1', { body: { verified: true } });
  assert.strictEqual(res.status, 422);
  assert.deepStrictEqual(res.body, { error: 'cannot change verified' });
});
