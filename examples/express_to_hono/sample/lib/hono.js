'use strict';
// A minimal Hono, so the sample runs with no npm install. Handlers take a
// context c and return a response: c.json(x, status?), c.text(s, status?),
// c.body(null, status?). Reading the request: c.req.param(name),
// c.req.query(name), await c.req.json(). app.request(method, path,
// { query, body }) is the test helper: it resolves to { status, body }.

function compile(path) {
  const keys = [];
  const pattern = path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, key) => {
    keys.push(key);
    return '([^/]+)';
  });
  return { regex: new RegExp(`^${pattern}/?$`), keys };
}

function createContext(method, path, params, options) {
  const query = { ...(options.query || {}) };
  const raw = options.body === undefined ? undefined : JSON.stringify(options.body);
  const respond = (status, body) => ({ __response: true, status, body });
  return {
    req: {
      method,
      path,
      param: (name) => (name === undefined ? { ...params } : params[name]),
      query: (name) => (name === undefined ? { ...query } : query[name]),
      json: async () => {
        if (raw === undefined) throw new SyntaxError('Unexpected end of JSON input');
        return JSON.parse(raw);
      },
    },
    json: (value, status = 200) =>
      respond(status, value === undefined ? null : JSON.parse(JSON.stringify(value))),
    text: (value, status = 200) => respond(status, String(value)),
    body: (value, status = 200) => respond(status, value === null ? '' : String(value)),
  };
}

class Hono {
  constructor() {
    this.routes = [];
    for (const method of ['get', 'post', 'put', 'delete']) {
      this[method] = (path, handler) => {
        this.routes.push({ method: method.toUpperCase(), handler, ...compile(path) });
        return this;
      };
    }
  }

  async request(method, path, options = {}) {
    const verb = method.toUpperCase();
    for (const route of this.routes) {
      if (route.method !== verb) continue;
      const found = route.regex.exec(path);
      if (!found) continue;
      const params = {};
      route.keys.forEach((key, i) => {
        params[key] = decodeURIComponent(found[i + 1]);
      });
      let response;
      try {
        response = await route.handler(createContext(verb, path, params, options));
      } catch (err) {
        return { status: 500, body: 'Internal Server Error' };
      }
      if (!response || !response.__response) {
        throw new Error(`${method} ${path}: the handler did not return a response (context is not finalized)`);
      }
      return { status: response.status, body: response.body };
    }
    return { status: 404, body: 'Not Found' };
  }
}

module.exports = { Hono };
