'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/robots');

test('GET /robots.txt disallows private paths', async () => {
  const res = await router.request('GET', '/robots.txt');
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.body.split('\n')[0], 'User-agent: *');
  assert.ok(res.body.includes('Disallow: /checkout'));
});
