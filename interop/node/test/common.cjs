'use strict';
// What every interop test file shares: the running graphhook (started by
// scripts/interop.sh inside the namespace), the fixture's tenant, the guard's check,
// a loopback webhook receiver, and a person who signs in through the HTML pages.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const { after } = require('node:test');
const { ProxyAgent, fetch } = require('undici');

const tenant = {
  id: '6f1c2d3e-0000-4000-8000-000000000001',
  domain: 'contoso.onmicrosoft.com',
  appId: '11111111-0000-4000-8000-000000000001',
  appSecret: 'demo-app-secret',
  publicAppId: '11111111-0000-4000-8000-0000000000c1',
  adeleId: '22222222-0000-4000-8000-000000000001',
  adeleUpn: 'adele@contoso.onmicrosoft.com',
  password: 'Passw0rd!',
};
const graphScope = 'https://graph.microsoft.com/.default';

// graphhook returns the running server's URLs, or throws why it is not running.
function graphhook() {
  if (process.env.GRAPHHOOK_START_ERROR) {
    throw new Error(`graphhook did not start:\n${process.env.GRAPHHOOK_START_ERROR}`);
  }
  const httpURL = process.env.GRAPHHOOK_HTTP_URL || '';
  const httpsURL = process.env.GRAPHHOOK_HTTPS_URL || '';
  const caFile = process.env.NODE_EXTRA_CA_CERTS || process.env.GRAPHHOOK_CA_FILE || '';
  if (!httpURL.startsWith('http://') || !httpsURL.startsWith('https://') || !fs.existsSync(caFile)) {
    throw new Error(`GRAPHHOOK_HTTP_URL=${httpURL} GRAPHHOOK_HTTPS_URL=${httpsURL} NODE_EXTRA_CA_CERTS=${caFile}: scripts/interop.sh sets these`);
  }
  const https = new URL(httpsURL);
  return { httpURL, httpsURL: httpsURL.replace(/\/$/, ''), caFile, httpsHost: https.host, httpsHostname: https.hostname, httpsPort: Number(https.port) };
}

// Every test file fails if the guard refused something it did not provoke on purpose.
function checkGuard() {
  after(() => {
    const guard = globalThis[Symbol.for('graphhook.interop.guard')];
    assert.ok(guard, 'the socket guard is not loaded: run with NODE_OPTIONS=--require=guard.cjs (scripts/interop.sh does)');
    assert.deepEqual(guard.violations(), [], 'the guard refused connections to hosts other than loopback');
  });
}

// ProxyNetworkClient is MSAL Node's documented extension point for a proxy (a custom
// INetworkModule in system.networkClient): fetch through graphhook's proxy.
class ProxyNetworkClient {
  constructor(proxyURL) {
    this.dispatcher = new ProxyAgent(proxyURL);
  }
  sendGetRequestAsync(url, options) {
    return this.send(url, 'GET', options);
  }
  sendPostRequestAsync(url, options) {
    return this.send(url, 'POST', options);
  }
  async send(url, method, options = {}) {
    const res = await fetch(url, { method, headers: options.headers, body: options.body, dispatcher: this.dispatcher });
    const text = await res.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${url}: ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    return { headers: Object.fromEntries(res.headers), body, status: res.status };
  }
}

// receiver is an app's webhook on loopback: it answers the validation handshake and
// collects the notifications it is sent.
async function receiver() {
  const state = { validations: 0, received: [], waiters: [] };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const token = url.searchParams.get('validationToken');
    if (token) {
      state.validations++;
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(token);
      return;
    }
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      try {
        for (const n of JSON.parse(data).value) state.received.push(n);
      } catch (e) {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(202).end();
      for (const w of state.waiters.splice(0)) w();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => server.close());
  return {
    url: `http://127.0.0.1:${server.address().port}/notify`,
    get validations() {
      return state.validations;
    },
    // wait resolves with the first notification for subscriptionId, or rejects after ms.
    async wait(subscriptionId, ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        const n = state.received.find((x) => x.subscriptionId === subscriptionId);
        if (n) return n;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no notification for subscription ${subscriptionId} within ${ms} ms (got ${JSON.stringify(state.received)})`);
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, left);
          state.waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}

// A person signs in on graphhook's HTML pages as someone in a browser would: follows
// redirects, fills each form (the device code, the user name, the password, or their
// entry where the page lists accounts) and submits it, until a redirect goes to the
// app's loopback redirect URI (returned) or a page asks for nothing more (null). It
// knows no field names, so the pages stay free to change while a person can use them.
class Person {
  constructor({ upn, password, userCode = '', dispatcher }) {
    Object.assign(this, { upn, password, userCode, dispatcher });
    this.cookies = new Map();
    this.steps = [];
  }

  fail(msg) {
    return new Error(`sign-in as ${this.upn}: ${msg} (steps: ${this.steps.join(' → ')})`);
  }

  async signIn(start) {
    let method = 'GET';
    let target = start;
    let form = null;
    for (let step = 0; step < 12; step++) {
      this.steps.push(`${method} ${target}`);
      const headers = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
      let url = target;
      let body;
      if (method === 'POST') {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(form).toString();
      } else if (form) {
        const u = new URL(target);
        u.search = new URLSearchParams(form).toString();
        url = u.toString();
      }
      const res = await fetch(url, { method, headers, body, redirect: 'manual', dispatcher: this.dispatcher });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const i = pair.indexOf('=');
        this.cookies.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
      }
      const text = await res.text();
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, url);
        if (isAppRedirect(next)) {
          this.steps.push(`redirect to the app: ${next}`);
          return next;
        }
        [method, target, form] = ['GET', next.toString(), null];
        continue;
      }
      if (res.status >= 400) throw this.fail(`${method} ${url} = ${res.status}: ${excerpt(text)}`);
      const f = this.pickForm(text);
      if (!f) {
        const link = this.accountLink(text);
        if (link) {
          [method, target, form] = ['GET', new URL(link, url).toString(), null];
          continue;
        }
        this.steps.push(`final page: ${excerpt(text)}`);
        return null;
      }
      const action = new URL(f.action || url, url);
      if (isAppRedirect(action)) {
        // A form_post response: the browser would post the code to the app.
        for (const [k, v] of f.values) action.searchParams.set(k, v);
        this.steps.push(`form to the app: ${action}`);
        return action;
      }
      [method, target, form] = [f.method, action.toString(), f.values];
    }
    throw this.fail('no end after 12 steps');
  }

  mine(s) {
    s = decode(String(s || '')).toLowerCase();
    return s !== '' && s.includes(this.upn.toLowerCase());
  }

  // pickForm fills the first form that asks for something, else the first form of
  // hidden fields only, which a browser with scripts submits by itself (form_post).
  pickForm(page) {
    let auto = null;
    for (const m of page.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
      const attrs = parseAttrs(m[1]);
      const filled = this.fill(m[2]);
      const method = (attrs.method || 'GET').toUpperCase() === 'POST' ? 'POST' : 'GET';
      const f = { method, action: decode(attrs.action || ''), values: filled.values };
      if (filled.asks) return f;
      if (!auto && filled.values.length > 0) auto = f;
    }
    return auto;
  }

  fill(inner) {
    const values = [];
    const set = (k, v) => {
      const i = values.findIndex(([n]) => n === k);
      if (i >= 0) values[i] = [k, v];
      else values.push([k, v]);
    };
    let asks = false;
    const submits = [];
    for (const m of inner.matchAll(/<(input|button|select|textarea)\b([^>]*)>(?:([\s\S]*?)<\/\1>)?/gi)) {
      const tag = m[1].toLowerCase();
      const a = parseAttrs(m[2]);
      const type = (a.type || '').toLowerCase();
      const name = a.name;
      if (tag === 'button' || type === 'submit') {
        if (type === '' || type === 'submit') {
          submits.push({ name, value: a.value || '', text: stripTags(m[3] || '') });
          asks = true;
        }
      } else if (!name) {
        continue;
      } else if (tag === 'select') {
        const options = [...(m[3] || '').matchAll(/<option\b([^>]*)>([^<]*)/gi)].map((o) => ({ a: parseAttrs(o[1]), text: o[2].trim() }));
        const mineOpt = options.find((o) => this.mine(o.a.value) || this.mine(o.text));
        const pick = mineOpt || options.find((o) => 'selected' in o.a) || options[0];
        if (pick) set(name, pick.a.value ?? pick.text);
        asks = true;
      } else if (type === 'hidden') {
        set(name, decode(a.value || ''));
      } else if (type === 'password') {
        set(name, this.password);
        asks = true;
      } else if (type === 'radio' || type === 'checkbox') {
        if (this.mine(a.value) || ('checked' in a && !values.some(([n]) => n === name))) set(name, decode(a.value || 'on'));
        asks = true;
      } else {
        set(name, this.typed(a));
        asks = true;
      }
    }
    const press = submits.find((b) => this.mine(b.value) || this.mine(b.text)) || submits.find((b) => b.name);
    if (press && press.name) set(press.name, decode(press.value));
    return { values, asks };
  }

  typed(a) {
    const hint = `${a.name || ''} ${a.id || ''} ${a.placeholder || ''} ${a.autocomplete || ''}`.toLowerCase();
    if (this.userCode && (hint.includes('code') || hint.includes('otc'))) return this.userCode;
    if (/user|login|email|upn|account/.test(hint) || (a.type || '').toLowerCase() === 'email') return this.upn;
    return a.value ? decode(a.value) : this.upn;
  }

  accountLink(page) {
    for (const m of page.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/gi)) {
      const href = parseAttrs(m[1]).href;
      if (href && (this.mine(href) || this.mine(stripTags(m[2])))) return decode(href);
    }
    return null;
  }
}

// isAppRedirect: an app's loopback redirect URI, where a browser hands over the code.
function isAppRedirect(u) {
  if (u.protocol !== 'http:') return false;
  if (u.hostname === 'localhost') return true;
  return ['127.0.0.1', '[::1]'].includes(u.hostname) && (u.searchParams.has('code') || u.searchParams.has('error'));
}

function parseAttrs(s) {
  const out = {};
  for (const m of s.matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    out[m[1].toLowerCase()] = m[2] ?? m[3] ?? m[4] ?? '';
  }
  return out;
}

function decode(s) {
  return s
    .replace(/&#(\d+);/g, (_, d) => String.fromCharCode(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCharCode(parseInt(h, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function stripTags(s) {
  return decode(s.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
}

function excerpt(page) {
  const t = stripTags(page);
  return t.length > 300 ? `${t.slice(0, 300)}…` : t;
}

module.exports = { tenant, graphScope, graphhook, checkGuard, ProxyNetworkClient, receiver, Person, fetch, ProxyAgent };
