'use strict';
const express = require('../../lib/express');

const router = express.Router();

const DISALLOW = ['/admin', '/api', '/checkout'];

router.get('/robots.txt', (req, res) => {
  const lines = ['User-agent: *', ...DISALLOW.map((path) => `Disallow: ${path}`)];
  res.send(lines.join('\n'));
});

module.exports = router;
