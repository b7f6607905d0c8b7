'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/channels');

test('GET /channels lists every channel', async () => {
  const res = await router.request('GET', '/channels');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 2);
});

test('GET /channels?visibility= filters the list', async () => {
  const res = await router.request('GET', '/channels', { query: { visibility: 'public' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.count, 1);
  assert.ok(res.body.data.every((row) => row.visibility === 'public'));
});

test('GET /channels/:id finds one channel or answers 404', async () => {
  const found = await router.request('GET', '/channels/1');
  assert.strictEqual(found.status, 200);
  assert.deepStrictEqual(found.body, { id: 1, name: 'general', topic: 'Everything', visibility: 'public' });
  const missing = await router.request('GET', '/channels/999');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'channel not found' });
});

test('POST /channels validates, then creates', async () => {
  const invalid = await router.request('POST', '/channels', { body: { name: 'general-new' } });
  assert.strictEqual(invalid.status, 400);
  const created = await router.request('POST', '/channels', { body: { name: 'general-new', topic: 'Everything-new' } });
  assert.strictEqual(created.status, 201);
  assert.deepStrictEqual(created.body, { id: 3, name: 'general-new', topic: 'Everything-new', visibility: 'public' });
});

test('DELETE /channels/:id removes the channel', async () => {
  const res = await router.request('DELETE', '/channels/2');
  assert.strictEqual(res.status, 204);
  const after = await router.request('GET', '/channels/2');
  assert.strictEqual(after.status, 404);
});
