'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/sitemap');

test('GET /sitemap.xml lists every page', async () => {
  const res = await router.request('GET', '/sitemap.xml');
  assert.strictEqual(res.status, 200);
  assert.ok(res.body.startsWith('<?xml'));
  assert.strictEqual((res.body.match(/<url>/g) || []).length, 4);
  assert.ok(res.body.includes('<loc>https://shop.example.com/catalog</loc>'));
});

test('GET /sitemap/count counts pages', async () => {
  const res = await router.request('GET', '/sitemap/count');
  assert.deepStrictEqual(res.body, { pages: 4 });
});
