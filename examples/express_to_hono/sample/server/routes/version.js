'use strict';
const express = require('../../lib/express');

const router = express.Router();

const BUILD = { version: '2.14.0', commit: '9f1c2ab', builtAt: '2024-05-01' };

router.get('/version', (req, res) => {
  if (req.query.format === 'text') {
    return res.send(`${BUILD.version} (${BUILD.commit})`);
  }
  res.json(BUILD);
});

module.exports = router;
