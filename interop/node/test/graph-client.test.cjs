'use strict';
// The Graph JavaScript client (@microsoft/microsoft-graph-client) with @azure/identity:
// through graphhook's proxy (fetchOptions.dispatcher for Node's fetch, proxyOptions for
// the credential) it lists users, creates a subscription and receives the notification
// of a change; in direct HTTPS mode (baseUrl and customHosts) it lists users.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { test } = require('node:test');
const { ClientSecretCredential } = require('@azure/identity');
const { Client } = require('@microsoft/microsoft-graph-client');
const { TokenCredentialAuthenticationProvider } = require('@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials');
const { tenant, graphScope, graphhook, checkGuard, receiver, ProxyAgent } = require('./common.cjs');

checkGuard();

function proxyOptions(g) {
  const u = new URL(g.httpURL);
  return { host: `${u.protocol}//${u.hostname}`, port: Number(u.port) };
}

async function hasAdele(client) {
  const users = await client.api('/users').get();
  assert.ok(users.value.some((u) => u.userPrincipalName === tenant.adeleUpn), `GET /users has no Adele: ${JSON.stringify(users)}`);
}

test('proxy: Graph client lists users, subscribes, and is notified of a new message', async () => {
  const g = graphhook();
  const credential = new ClientSecretCredential(tenant.id, tenant.appId, tenant.appSecret, { proxyOptions: proxyOptions(g) });
  const client = Client.initWithMiddleware({
    authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [graphScope] }),
    fetchOptions: { dispatcher: new ProxyAgent(g.httpURL) },
  });
  await hasAdele(client);

  const hook = await receiver();
  const clientState = `interop-${crypto.randomUUID()}`;
  const sub = await client.api('/subscriptions').post({
    changeType: 'created',
    notificationUrl: hook.url,
    resource: `users/${tenant.adeleId}/messages`,
    expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
    clientState,
  });
  assert.ok(hook.validations >= 1, `validation handshakes before the subscription was created: ${hook.validations}`);
  try {
    const msg = await client.api(`/users/${tenant.adeleId}/messages`).post({
      subject: `interop ${clientState}`,
      body: { contentType: 'text', content: 'sent through graphhook by the Graph JavaScript client' },
    });
    const n = await hook.wait(sub.id, 60_000);
    assert.equal(n.changeType, 'created');
    assert.equal(n.clientState, clientState);
    assert.equal(n.resourceData.id, msg.id);
    assert.equal(n.tenantId.toLowerCase(), tenant.id);
  } finally {
    await client.api(`/subscriptions/${sub.id}`).delete();
  }
});

test('direct: Graph client with baseUrl and customHosts lists users', async () => {
  const g = graphhook();
  const credential = new ClientSecretCredential(tenant.id, tenant.appId, tenant.appSecret, { authorityHost: g.httpsURL, disableInstanceDiscovery: true });
  const client = Client.initWithMiddleware({
    authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [graphScope] }),
    baseUrl: g.httpsURL,
    customHosts: new Set([g.httpsHostname]),
  });
  await hasAdele(client);
});
