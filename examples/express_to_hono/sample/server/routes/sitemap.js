'use strict';
const express = require('../../lib/express');

const router = express.Router();

const ORIGIN = 'https://shop.example.com';
const pages = ['/', '/catalog', '/articles/hello-world', '/articles/scaling-postgres'];

router.get('/sitemap.xml', (req, res) => {
  const urls = pages.map((path) => `  <url><loc>${ORIGIN}${path}</loc></url>`);
  const xml = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset>', ...urls, '</urlset>'].join('\n');
  res.send(xml);
});

router.get('/sitemap/count', (req, res) => {
  res.json({ pages: pages.length });
});

module.exports = router;
