'use strict';
// A minimal Express-style Router, so the sample runs with no npm install.
// Handlers are (req, res); req.params, req.query, req.body (JSON already
// parsed, as express.json() would); res.status(n), res.json(x), res.send(x).
// router.request(method, path, { query, body }) is the test helper: it
// dispatches like a server would and resolves to { status, body }.

function compile(path) {
  const keys = [];
  const pattern = path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, key) => {
    keys.push(key);
    return '([^/]+)';
  });
  return { regex: new RegExp(`^${pattern}/?$`), keys };
}

function match(routes, method, path) {
  for (const route of routes) {
    if (route.method !== method) continue;
    const found = route.regex.exec(path);
    if (!found) continue;
    const params = {};
    route.keys.forEach((key, i) => {
      params[key] = decodeURIComponent(found[i + 1]);
    });
    return { route, params };
  }
  return null;
}

function createResponse() {
  const res = {
    statusCode: 200,
    finished: false,
    payload: undefined,
    status(code) {
      res.statusCode = code;
      return res;
    },
    json(value) {
      res.payload = value === undefined ? null : JSON.parse(JSON.stringify(value));
      res.finished = true;
      return res;
    },
    send(value) {
      if (value !== null && typeof value === 'object') return res.json(value);
      res.payload = value === undefined ? '' : String(value);
      res.finished = true;
      return res;
    },
  };
  return res;
}

function Router() {
  const routes = [];
  const router = {};
  for (const method of ['get', 'post', 'put', 'delete']) {
    router[method] = (path, handler) => {
      routes.push({ method: method.toUpperCase(), handler, ...compile(path) });
      return router;
    };
  }
  router.request = async (method, path, options = {}) => {
    const found = match(routes, method.toUpperCase(), path);
    if (!found) return { status: 404, body: 'Not Found' };
    const req = {
      method: method.toUpperCase(),
      path,
      params: found.params,
      query: { ...(options.query || {}) },
      body: options.body === undefined ? {} : JSON.parse(JSON.stringify(options.body)),
    };
    const res = createResponse();
    try {
      await found.route.handler(req, res);
    } catch (err) {
      return { status: 500, body: 'Internal Server Error' };
    }
    if (!res.finished) throw new Error(`${method} ${path}: the handler never responded`);
    return { status: res.statusCode, body: res.payload };
  };
  return router;
}

module.exports = { Router };
