'use strict';
// MSAL Node: a confidential client (client credentials) and a public client (device
// code, authorization code with PKCE) through graphhook's proxy, with MSAL's documented
// proxy hook (system.networkClient), and in direct HTTPS mode with knownAuthorities.
const assert = require('node:assert/strict');
const { test } = require('node:test');
const msal = require('@azure/msal-node');
const { tenant, graphScope, graphhook, checkGuard, ProxyNetworkClient, Person, fetch, ProxyAgent } = require('./common.cjs');

checkGuard();
const entra = `https://login.microsoftonline.com/${tenant.domain}`;

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

async function listUsers(url, token, dispatcher) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, dispatcher });
  const body = await res.json();
  assert.equal(res.status, 200, `GET ${url}: ${JSON.stringify(body)}`);
  assert.ok(body.value.some((u) => u.userPrincipalName === tenant.adeleUpn), `GET ${url} has no Adele: ${JSON.stringify(body)}`);
}

async function me(url, token, dispatcher) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, dispatcher });
  const body = await res.json();
  assert.equal(res.status, 200, `GET ${url}: ${JSON.stringify(body)}`);
  assert.equal(body.userPrincipalName.toLowerCase(), tenant.adeleUpn);
}

function checkAdele(result) {
  assert.ok(result.accessToken, 'no access token');
  assert.equal(result.account.username.toLowerCase(), tenant.adeleUpn);
  assert.equal(result.account.tenantId, tenant.id);
  assert.equal(result.idTokenClaims.oid, tenant.adeleId);
}

async function deviceCode(pca, dispatcher) {
  // A failed sign-in cancels MSAL's polling, which would otherwise go on until the code
  // expires; the timeout bounds it in any case.
  let failure;
  const request = {
    scopes: ['User.Read'],
    timeout: 60,
    deviceCodeCallback: (r) => {
      if (!r.userCode || !r.verificationUri) {
        failure = new Error(`device code response without a user code or verification URI: ${JSON.stringify(r)}`);
        request.cancel = true;
        return;
      }
      new Person({ upn: tenant.adeleUpn, password: tenant.password, userCode: r.userCode, dispatcher }).signIn(r.verificationUri).catch((err) => {
        failure = err;
        request.cancel = true;
      });
    },
  };
  let result;
  try {
    result = await pca.acquireTokenByDeviceCode(request);
  } catch (err) {
    throw failure || err;
  }
  if (failure) throw failure;
  checkAdele(result);
  return result.accessToken;
}

async function authCode(pca, dispatcher) {
  const { verifier, challenge } = await new msal.CryptoProvider().generatePkceCodes();
  const redirectUri = 'http://localhost';
  const scopes = ['User.Read'];
  const url = await pca.getAuthCodeUrl({ scopes, redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256' });
  const back = await new Person({ upn: tenant.adeleUpn, password: tenant.password, dispatcher }).signIn(url);
  assert.ok(back, 'the sign-in ended without a redirect to the app');
  const code = back.searchParams.get('code');
  assert.ok(code, `redirect to the app without a code: ${back}`);
  const result = await pca.acquireTokenByCode({ code, scopes, redirectUri, codeVerifier: verifier });
  checkAdele(result);
  return result.accessToken;
}

test('proxy: confidential client, client credentials, then GET /users', async () => {
  const g = graphhook();
  const cca = new msal.ConfidentialClientApplication({
    auth: { clientId: tenant.appId, clientSecret: tenant.appSecret, authority: entra },
    system: { networkClient: new ProxyNetworkClient(g.httpURL) },
  });
  const result = await cca.acquireTokenByClientCredential({ scopes: [graphScope] });
  const c = claims(result.accessToken);
  assert.equal(c.tid, tenant.id);
  assert.equal(c.appid, tenant.appId);
  await listUsers('https://graph.microsoft.com/v1.0/users', result.accessToken, new ProxyAgent(g.httpURL));
});

test('proxy: a wrong client secret is AADSTS7000215', async () => {
  const g = graphhook();
  const cca = new msal.ConfidentialClientApplication({
    auth: { clientId: tenant.appId, clientSecret: 'not-the-secret', authority: entra },
    system: { networkClient: new ProxyNetworkClient(g.httpURL) },
  });
  await assert.rejects(cca.acquireTokenByClientCredential({ scopes: [graphScope] }), (err) => {
    assert.equal(err.errorCode, 'invalid_client', String(err));
    assert.match(err.errorMessage, /AADSTS7000215/);
    return true;
  });
});

test('proxy: public client, device code', async () => {
  const g = graphhook();
  const pca = new msal.PublicClientApplication({
    auth: { clientId: tenant.publicAppId, authority: entra },
    system: { networkClient: new ProxyNetworkClient(g.httpURL) },
  });
  const dispatcher = new ProxyAgent(g.httpURL);
  await me('https://graph.microsoft.com/v1.0/me', await deviceCode(pca, dispatcher), dispatcher);
});

test('proxy: public client, authorization code with PKCE', async () => {
  const g = graphhook();
  const pca = new msal.PublicClientApplication({
    auth: { clientId: tenant.publicAppId, authority: entra },
    system: { networkClient: new ProxyNetworkClient(g.httpURL) },
  });
  const dispatcher = new ProxyAgent(g.httpURL);
  await me('https://graph.microsoft.com/v1.0/me', await authCode(pca, dispatcher), dispatcher);
});

test('direct: confidential client with knownAuthorities, then GET /users', async () => {
  const g = graphhook();
  const cca = new msal.ConfidentialClientApplication({
    auth: { clientId: tenant.appId, clientSecret: tenant.appSecret, authority: `${g.httpsURL}/${tenant.domain}`, knownAuthorities: [g.httpsHost] },
  });
  const result = await cca.acquireTokenByClientCredential({ scopes: [graphScope] });
  await listUsers(`${g.httpsURL}/v1.0/users`, result.accessToken);
});

test('direct: a wrong client secret is AADSTS7000215', async () => {
  const g = graphhook();
  const cca = new msal.ConfidentialClientApplication({
    auth: { clientId: tenant.appId, clientSecret: 'not-the-secret', authority: `${g.httpsURL}/${tenant.domain}`, knownAuthorities: [g.httpsHost] },
  });
  await assert.rejects(cca.acquireTokenByClientCredential({ scopes: [graphScope] }), /AADSTS7000215/);
});

test('direct: public client, device code', async () => {
  const g = graphhook();
  const pca = new msal.PublicClientApplication({
    auth: { clientId: tenant.publicAppId, authority: `${g.httpsURL}/${tenant.domain}`, knownAuthorities: [g.httpsHost] },
  });
  await me(`${g.httpsURL}/v1.0/me`, await deviceCode(pca));
});

test('direct: public client, authorization code with PKCE', async () => {
  const g = graphhook();
  const pca = new msal.PublicClientApplication({
    auth: { clientId: tenant.publicAppId, authority: `${g.httpsURL}/${tenant.domain}`, knownAuthorities: [g.httpsHost] },
  });
  await me(`${g.httpsURL}/v1.0/me`, await authCode(pca));
});
