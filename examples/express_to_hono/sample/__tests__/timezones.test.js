'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/timezones');

test('GET /timezones lists zone names', async () => {
  const res = await router.request('GET', '/timezones');
  assert.strictEqual(res.status, 200);
  assert.ok(res.body.includes('Asia/Tokyo'));
});

test('GET /timezones/:region/:city formats the offset', async () => {
  const ny = await router.request('GET', '/timezones/America/New_York');
  assert.deepStrictEqual(ny.body, { name: 'America/New_York', offset: 'UTC-05:00' });
  const tokyo = await router.request('GET', '/timezones/Asia/Tokyo');
  assert.strictEqual(tokyo.body.offset, 'UTC+09:00');
});

test('GET /timezones/:region/:city answers 404 for unknown zones', async () => {
  const res = await router.request('GET', '/timezones/Mars/Olympus');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.body, { error: 'unknown zone Mars/Olympus' });
});
