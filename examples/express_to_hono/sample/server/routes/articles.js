'use strict';
const express = require('../../lib/express');

const router = express.Router();

const articles = [
  { slug: 'hello-world', title: 'Hello, world', tags: ['intro'], published: true },
  { slug: 'scaling-postgres', title: 'Scaling Postgres', tags: ['db', 'ops'], published: true },
  { slug: 'draft-notes', title: 'Draft notes', tags: ['ops'], published: false },
];

router.get('/articles', (req, res) => {
  const tag = req.query.tag;
  const drafts = req.query.drafts === 'true';
  const rows = articles
    .filter((a) => drafts || a.published)
    .filter((a) => !tag || a.tags.includes(tag));
  res.json({ articles: rows.map((a) => a.slug) });
});

router.get('/articles/:slug', (req, res) => {
  const article = articles.find((a) => a.slug === req.params.slug);
  if (!article || !article.published) {
    return res.status(404).json({ error: 'article not found' });
  }
  res.json(article);
});

module.exports = router;
