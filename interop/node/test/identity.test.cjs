'use strict';
// @azure/identity's ClientSecretCredential through graphhook's proxy (its proxyOptions)
// and in direct HTTPS mode (authorityHost, disableInstanceDiscovery).
const assert = require('node:assert/strict');
const { test } = require('node:test');
const { ClientSecretCredential } = require('@azure/identity');
const { tenant, graphScope, graphhook, checkGuard } = require('./common.cjs');

checkGuard();

// proxyOptions is @azure/identity's documented proxy setting: the proxy's scheme and
// host, and its port.
function proxyOptions(g) {
  const u = new URL(g.httpURL);
  return { host: `${u.protocol}//${u.hostname}`, port: Number(u.port) };
}

function directOptions(g) {
  return { authorityHost: g.httpsURL, disableInstanceDiscovery: true };
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

async function checkToken(cred) {
  const token = await cred.getToken(graphScope);
  assert.ok(token.token, 'no token');
  assert.ok(token.expiresOnTimestamp > Date.now(), `expiresOnTimestamp ${token.expiresOnTimestamp} is not in the future`);
  const c = claims(token.token);
  assert.equal(c.tid, tenant.id);
  assert.equal(c.appid, tenant.appId);
}

async function wrongSecret(options) {
  const cred = new ClientSecretCredential(tenant.id, tenant.appId, 'not-the-secret', options);
  // @azure/identity reports MSAL's invalid_client as an AuthenticationRequiredError; what
  // an app reads is Entra's code in the message.
  await assert.rejects(cred.getToken(graphScope), (err) => {
    assert.match(err.message, /AADSTS7000215/, `${err.name}: ${err.message}`);
    assert.match(err.message, /invalid_client/);
    return true;
  });
}

test('proxy: ClientSecretCredential gets a Graph token', async () => {
  await checkToken(new ClientSecretCredential(tenant.id, tenant.appId, tenant.appSecret, { proxyOptions: proxyOptions(graphhook()) }));
});

test('proxy: a wrong client secret is AADSTS7000215', async () => {
  await wrongSecret({ proxyOptions: proxyOptions(graphhook()) });
});

test('direct: ClientSecretCredential gets a Graph token', async () => {
  await checkToken(new ClientSecretCredential(tenant.id, tenant.appId, tenant.appSecret, directOptions(graphhook())));
});

test('direct: a wrong client secret is AADSTS7000215', async () => {
  await wrongSecret(directOptions(graphhook()));
});

