'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/ping');

test('GET /ping answers pong', async () => {
  const res = await router.request('GET', '/ping');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { pong: true });
});

test('POST /ping/echo echoes the message', async () => {
  const res = await router.request('POST', '/ping/echo', { body: { message: 'hi' } });
  assert.deepStrictEqual(res.body, { echo: 'hi' });
});
