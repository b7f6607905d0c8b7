'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/preferences');

test('GET /preferences/:id returns the preference set', async () => {
  const res = await router.request('GET', '/preferences/1');
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 1, locale: 'en-GB', timezone: 'Europe/London', digest: 'weekly' });
});

test('GET /preferences/:id answers 404 for an unknown id', async () => {
  const res = await router.request('GET', '/preferences/404');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.body, { error: 'no such preference set' });
});

test('PUT /preferences/:id changes editable fields', async () => {
  const res = await router.request('PUT', '/preferences/2', { body: { digest: 'daily' } });
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual(res.body, { id: 2, locale: 'de-DE', timezone: 'Europe/Berlin', digest: 'daily' });
});

test('PUT /preferences/:id refuses other fields with 422', async () => {
  const res = await router.request('PUT', '/preferences/1', { body: { userId: 7 } });
  assert.strictEqual(res.status, 422);
  assert.deepStrictEqual(res.body, { error: 'cannot change userId' });
});
