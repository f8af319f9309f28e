'use strict';
// The socket guard: a connection or look-up for anything but loopback fails at once,
// and a client that ignores its proxy setting fails instead of reaching Microsoft.
const assert = require('node:assert/strict');
const dns = require('node:dns');
const net = require('node:net');
const { test } = require('node:test');
const msal = require('@azure/msal-node');
const { tenant, graphScope, checkGuard } = require('./common.cjs');

const guard = () => globalThis[Symbol.for('graphhook.interop.guard')];
checkGuard();

test('the guard refuses connections and look-ups beyond loopback', async () => {
  assert.ok(guard(), 'guard.cjs is not preloaded');
  const start = Date.now();
  assert.throws(() => net.connect(443, '203.0.113.1'), { code: 'EGRAPHHOOKGUARD' });
  assert.throws(() => net.connect({ host: 'graph.microsoft.com', port: 443 }), { code: 'EGRAPHHOOKGUARD' });
  assert.throws(() => dns.lookup('login.microsoftonline.com', () => {}), { code: 'EGRAPHHOOKGUARD' });
  await assert.rejects(dns.promises.lookup('graph.microsoft.com'), { code: 'EGRAPHHOOKGUARD' });
  await assert.rejects(fetch('https://203.0.113.1/'), (err) => err.cause?.code === 'EGRAPHHOOKGUARD');
  assert.ok(Date.now() - start < 10_000, `the guard took ${Date.now() - start} ms, want a refusal at once (not a connect timeout)`);
  assert.equal(guard().violations().length, 5);
  guard().forgive(5);
});

test('the guard lets loopback through', async () => {
  const server = net.createServer((c) => c.end());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  for (const host of ['127.0.0.1', 'localhost']) {
    await new Promise((resolve, reject) => net.connect(port, host, resolve).on('error', reject));
  }
  server.close();
});

test('a client that ignores the proxy fails the test instead of reaching Microsoft', async () => {
  const cca = new msal.ConfidentialClientApplication({
    auth: { clientId: tenant.appId, clientSecret: tenant.appSecret, authority: `https://login.microsoftonline.com/${tenant.domain}` },
  });
  const before = guard().violations().length;
  await assert.rejects(cca.acquireTokenByClientCredential({ scopes: [graphScope] }));
  const refused = guard().violations().slice(before);
  assert.ok(refused.length > 0 && refused.every((v) => v.includes('login.microsoftonline.com')), `violations ${JSON.stringify(refused)}`);
  guard().forgive(refused.length);
});
