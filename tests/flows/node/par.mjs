// A client using pushed authorization requests (RFC 9126), built on panva's openid-client
// (v6, on oauth4webapi), driven step by step by tests/flows/test_par_node.py.
//
// Protocol: one JSON object per line on stdin, one JSON object per line on stdout in
// reply: {"ok": true, ...} or {"ok": false, "error": {name, code, message, ...}}. The
// script keeps the library's Configuration and each flow's state and PKCE verifier
// between steps; Python plays the user's browser in between.
//
//   {"op": "discover", "issuer", "client_id", "client_secret"?,
//    "auth": "none"|"basic"|"post", "algorithm": "oidc"|"oauth2"}   -> {"metadata"}
//   {"op": "start", "flow", "redirect_uri", "scope", "par": bool}    -> {"url", "state"}
//       "par": buildAuthorizationUrlWithPAR (the library pushes the parameters, then
//       builds the URL from the request_uri it got); otherwise buildAuthorizationUrl
//   {"op": "callback", "flow", "url"}                                -> {"tokens", "claims"}
//       authorizationCodeGrant with the flow's PKCE verifier and expected state
//   {"op": "exchanges"}                                              -> {"exchanges"}
//       every HTTP exchange since the last call, as customFetch saw it: the request's
//       method, URL, Authorization scheme, form body (client_secret masked), and the
//       response's status, Content-Type, Location and JSON body


import * as client from 'openid-client';

import { serve } from './steps.mjs';

let config;
const flows = new Map(); // name -> {verifier, state}
let exchanges = [];

// Every request the library makes goes through here: sent unchanged, the exchange recorded.
async function capturingFetch(url, options) {
  const headers = new Headers(options?.headers);
  const authorization = headers.get('authorization');
  let form = null;
  if (options?.body instanceof URLSearchParams) {
    form = [...options.body.entries()].map(([k, v]) => [k, k === 'client_secret' ? '***' : v]);
  }
  const response = await fetch(url, { ...options, redirect: 'manual' });
  let body = null;
  const type = response.headers.get('content-type');
  if (type?.startsWith('application/json')) {
    try {
      body = await response.clone().json();
    } catch {
      body = null;
    }
  }
  exchanges.push({
    method: options?.method ?? 'GET',
    url: String(url),
    authorization_scheme: authorization ? authorization.split(' ')[0] : null,
    form,
    status: response.status,
    content_type: type,
    location: response.headers.get('location'),
    body,
  });
  return response;
}

const authentication = {
  none: () => client.None(),
  basic: (secret) => client.ClientSecretBasic(secret),
  post: (secret) => client.ClientSecretPost(secret),
};

const steps = {
  async discover({ issuer, client_id, client_secret, auth, algorithm }) {
    // Django's live server is plain http on the loopback interface; openid-client v6
    // refuses http unless allowInsecureRequests is among the execute options.
    config = await client.discovery(
      new URL(issuer),
      client_id,
      { id_token_signed_response_alg: 'RS256' },
      authentication[auth](client_secret),
      {
        execute: [client.allowInsecureRequests],
        algorithm: algorithm ?? 'oidc',
        [client.customFetch]: capturingFetch,
      },
    );
    config[client.customFetch] = capturingFetch;
    // The ID token's JWS signature is checked against jwks_uri, not only its claims.
    client.enableNonRepudiationChecks(config);
    return { metadata: config.serverMetadata() };
  },

  async start({ flow, redirect_uri, scope, par }) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const parameters = {
      redirect_uri,
      scope,
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    };
    const url = par
      ? await client.buildAuthorizationUrlWithPAR(config, parameters)
      : client.buildAuthorizationUrl(config, parameters);
    flows.set(flow, { verifier, state });
    return { url: url.href, state };
  },

  async callback({ flow, url }) {
    const f = flows.get(flow);
    const tokens = await client.authorizationCodeGrant(config, new URL(url), {
      pkceCodeVerifier: f.verifier,
      expectedState: f.state,
    });
    return {
      tokens: {
        access_token: tokens.access_token,
        token_type: tokens.token_type,
        refresh_token: tokens.refresh_token ?? null,
        scope: tokens.scope ?? null,
        expires_in: tokens.expiresIn() ?? null,
      },
      claims: tokens.claims() ?? null,
    };
  },

  async exchanges() {
    const seen = exchanges;
    exchanges = [];
    return { exchanges: seen };
  },
};

await serve(steps);
