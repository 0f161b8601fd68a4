// A DPoP client (RFC 9449) built on panva's openid-client (v6, on oauth4webapi), driven
// step by step by tests/flows/test_dpop_node.py.
//
// Protocol: one JSON object per line on stdin, one JSON object per line on stdout in
// reply: {"ok": true, ...} or {"ok": false, "error": {name, code, message, ...}}. The
// script keeps the library's Configuration, its DPoP keys and handles, and each flow's
// state and PKCE verifier between steps; Python plays the user's browser in between.
//
//   {"op": "discover", "issuer", "client_id", "client_secret"?, "algorithm"}
//                                                      -> {"metadata"}
//   {"op": "key", "name", "alg"?}                      -> {"jwk", "jkt"}
//       a new key pair (randomDPoPKeyPair) and a DPoP handle for it; "jkt" is the
//       thumbprint the library computes
//   {"op": "handle", "name"}                           -> {}
//       a fresh handle for the same key: the server nonces it learnt are forgotten
//   {"op": "start", "flow", "redirect_uri", "scope", "bind"?}   -> {"url", "state"}
//       "bind": the name of a key whose thumbprint goes as dpop_jkt (§10)
//   {"op": "callback", "flow", "url", "key"?}           -> {"tokens"}
//   {"op": "refresh", "flow", "key"?}                   -> {"tokens"}
//   {"op": "client_credentials", "flow", "parameters", "key"?}  -> {"tokens"}
//   {"op": "resource", "url", "token"? | "flow"?, "key"?, "method"?}
//       fetchProtectedResource (with DPoP when "key" is given)  -> {"status", "body"}
//   {"op": "exchanges"}                                 -> {"exchanges"}
//       every HTTP exchange since the last call, as customFetch saw it: the request's
//       method, URL, DPoP and Authorization headers, the response's status, DPoP-Nonce,
//       WWW-Authenticate and OAuth error. The DPoP proofs are the ones the library made
//       and sent; the test verifies them on its own.
//
// "key" is a name given to "key"; without one the library sends no proof (Bearer).


import * as client from 'openid-client';

import { serve, tokenSummary } from './steps.mjs';

let config;
const keys = new Map(); // name -> {pair, handle}
const flows = new Map(); // name -> {verifier, state, tokens}
let exchanges = [];

// Every request the library makes goes through here (discovery, token endpoint,
// resources): it is sent unchanged and the exchange recorded.
async function capturingFetch(url, options) {
  const headers = new Headers(options?.headers);
  const response = await fetch(url, options);
  let error = null;
  if (response.status >= 400) {
    try {
      error = (await response.clone().json()).error ?? null;
    } catch {
      error = null;
    }
  }
  exchanges.push({
    method: options?.method ?? 'GET',
    url: String(url),
    dpop: headers.get('dpop'),
    authorization: headers.get('authorization'),
    status: response.status,
    dpop_nonce: response.headers.get('dpop-nonce'),
    www_authenticate: response.headers.get('www-authenticate'),
    error,
  });
  return response;
}

function dpop(name) {
  if (name === undefined || name === null) return {};
  const key = keys.get(name);
  if (!key) throw new Error(`unknown key ${name}`);
  return { DPoP: key.handle };
}

const steps = {
  async discover({ issuer, client_id, client_secret, algorithm }) {
    // Django's live server is plain http on the loopback interface; openid-client v6
    // refuses http unless allowInsecureRequests is among the execute options.
    config = await client.discovery(
      new URL(issuer),
      client_id,
      undefined,
      client_secret ? client.ClientSecretBasic(client_secret) : client.None(),
      {
        execute: [client.allowInsecureRequests],
        algorithm: algorithm ?? 'oauth2',
        [client.customFetch]: capturingFetch,
      },
    );
    config[client.customFetch] = capturingFetch;
    return { metadata: config.serverMetadata() };
  },

  async key({ name, alg }) {
    const pair = await client.randomDPoPKeyPair(alg ?? 'ES256');
    const handle = client.getDPoPHandle(config, pair);
    keys.set(name, { pair, handle });
    const exported = await crypto.subtle.exportKey('jwk', pair.publicKey);
    const members = exported.kty === 'RSA' ? ['kty', 'n', 'e'] : ['kty', 'crv', 'x', 'y'];
    const jwk = Object.fromEntries(members.map((m) => [m, exported[m]]));
    return { jwk, jkt: await handle.calculateThumbprint() };
  },

  async handle({ name }) {
    const key = keys.get(name);
    key.handle = client.getDPoPHandle(config, key.pair);
    return {};
  },

  async start({ flow, redirect_uri, scope, bind }) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const parameters = {
      redirect_uri,
      scope,
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    };
    if (bind) parameters.dpop_jkt = await keys.get(bind).handle.calculateThumbprint();
    const url = client.buildAuthorizationUrl(config, parameters);
    flows.set(flow, { verifier, state });
    return { url: url.href, state };
  },

  async callback({ flow, url, key }) {
    const f = flows.get(flow);
    const tokens = await client.authorizationCodeGrant(
      config,
      new URL(url),
      { pkceCodeVerifier: f.verifier, expectedState: f.state },
      undefined,
      dpop(key),
    );
    f.tokens = tokens;
    return { tokens: tokenSummary(tokens) };
  },

  async refresh({ flow, key }) {
    const f = flows.get(flow);
    const tokens = await client.refreshTokenGrant(
      config,
      f.tokens.refresh_token,
      undefined,
      dpop(key),
    );
    f.tokens = tokens;
    return { tokens: tokenSummary(tokens) };
  },

  async client_credentials({ flow, parameters, key }) {
    const tokens = await client.clientCredentialsGrant(config, parameters, dpop(key));
    flows.set(flow, { tokens });
    return { tokens: tokenSummary(tokens) };
  },

  async resource({ url, token, flow, key, method }) {
    const accessToken = token ?? flows.get(flow).tokens.access_token;
    const response = await client.fetchProtectedResource(
      config,
      accessToken,
      new URL(url),
      method ?? 'GET',
      undefined,
      undefined,
      dpop(key),
    );
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: response.status, body };
  },

  async exchanges() {
    const seen = exchanges;
    exchanges = [];
    return { exchanges: seen };
  },
};

await serve(steps);
