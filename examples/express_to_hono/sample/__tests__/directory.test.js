'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/directory');

test('GET /directory lists everyone', async () => {
  const res = await router.request('GET', '/directory');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.length, 4);
});

test('GET /directory filters by office and handle prefix', async () => {
  const byOffice = await router.request('GET', '/directory', { query: { office: 'London' } });
  assert.deepStrictEqual(byOffice.body, [{ handle: 'ada', name: 'Ada Lovelace' }]);
  const byPrefix = await router.request('GET', '/directory', { query: { prefix: 'A' } });
  assert.deepStrictEqual(byPrefix.body.map((p) => p.handle), ['ada', 'alan']);
});

test('GET /directory/:handle is case-insensitive and 404s', async () => {
  const found = await router.request('GET', '/directory/Grace');
  assert.strictEqual(found.status, 200);
  assert.strictEqual(found.body.ext, 103);
  const missing = await router.request('GET', '/directory/linus');
  assert.strictEqual(missing.status, 404);
  assert.deepStrictEqual(missing.body, { error: 'nobody called linus' });
});
