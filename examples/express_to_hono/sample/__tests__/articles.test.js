'use strict';
const test = require('node:test');
const assert = require('node:assert');
const router = require('../server/routes/articles');

test('GET /articles hides drafts unless asked', async () => {
  const published = await router.request('GET', '/articles');
  assert.deepStrictEqual(published.body, { articles: ['hello-world', 'scaling-postgres'] });
  const all = await router.request('GET', '/articles', { query: { drafts: 'true', tag: 'ops' } });
  assert.deepStrictEqual(all.body, { articles: ['scaling-postgres', 'draft-notes'] });
});

test('GET /articles/:slug returns published articles only', async () => {
  const found = await router.request('GET', '/articles/scaling-postgres');
  assert.strictEqual(found.status, 200);
  assert.deepStrictEqual(found.body.tags, ['db', 'ops']);
  const draft = await router.request('GET', '/articles/draft-notes');
  assert.strictEqual(draft.status, 404);
});
