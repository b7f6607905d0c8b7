'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/messages');

test('GET /channels/:channelId/messages lists the channel\'s messages', async () => {
  const res = await router.request('GET', '/channels/1/messages');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.length, 2);
});

test('GET /channels/:channelId/messages?pinned=true filters', async () => {
  const res = await router.request('GET', '/channels/1/messages', { query: { pinned: 'true' } });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.length, 1);
});

test('GET /channels/:channelId/messages answers 404 for an unknown channel', async () => {
  const res = await router.request('GET', '/channels/9/messages');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.body, { error: 'channel not found' });
});

test('GET /channels/:channelId/messages/:messageId is scoped to the channel', async () => {
  const own = await router.request('GET', '/channels/2/messages/3');
  assert.strictEqual(own.status, 200);
  assert.strictEqual(own.body.text, 'budget review');
  const other = await router.request('GET', '/channels/1/messages/3');
  assert.strictEqual(other.status, 404);
});

test('POST /channels/:channelId/messages creates a message', async () => {
  const res = await router.request('POST', '/channels/2/messages', { body: { text: 'lunch?' } });
  assert.strictEqual(res.status, 201);
  assert.deepStrictEqual(res.body, { id: 4, channelId: 2, text: 'lunch?', pinned: false });
});
