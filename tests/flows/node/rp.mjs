// A relying party built on panva's openid-client (v6, on oauth4webapi), driven step by
// step by tests/flows/test_openid_client_node.py.
//
// Protocol: one JSON object per line on stdin, one JSON object per line on stdout in
// reply: {"ok": true, ...} or {"ok": false, "error": {name, code, message, ...}}. The
// script keeps the library's Configuration and each flow's state, nonce and PKCE
// verifier between steps; Python plays the user's browser in between.
//
//   {"op": "discover", "issuer", "client_id", "client_secret"?, "alg"}
//   {"op": "start", "flow", "redirect_uri", "scope"}            -> {"url"}
//   {"op": "callback", "flow", "url", "expected_nonce"?, "expected_state"?, "tamper"?}
//                                                               -> {"claims", "scope", ...}
//   {"op": "userinfo", "flow", "expected_sub"?}                 -> {"userinfo"}
//   {"op": "refresh", "flow"}                                   -> {"claims", ...}
//   {"op": "logout", "flow", "post_logout_redirect_uri", "hint"?}
//                                                               -> {"url", "state", "id_token_hint"}

import { createHash } from 'node:crypto';

import * as client from 'openid-client';

import { serve } from './steps.mjs';

let config;
const flows = new Map();
// Set by a "callback" step that asks for it: how the next token response's id_token is
// altered in transit (after the server signed it) before the library sees it.
let tamper = null;

function b64url(buffer) {
  return Buffer.from(buffer).toString('base64url');
}

function decodePart(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

// OpenID Connect Core §3.1.3.6: at_hash is the left half of the hash of the access
// token's ASCII octets, with the hash of the ID token's alg (SHA-256 for RS256 and ES256).
// The library does not check at_hash in the code flow (the spec makes it optional there),
// so this script does, and the test asserts the result.
function atHash(accessToken, alg) {
  const bits = { 256: 'sha256', 384: 'sha384', 512: 'sha512' }[alg.slice(-3)];
  const digest = createHash(bits).update(accessToken, 'ascii').digest();
  return b64url(digest.subarray(0, digest.length / 2));
}

// The token endpoint's response with its id_token altered: the payload changed under the
// server's signature (a forged claim), or the signature itself damaged.
async function tampered(response) {
  const body = await response.json();
  const [header, payload, signature] = body.id_token.split('.');
  if (tamper === 'payload') {
    const claims = decodePart(payload);
    claims.sub = 'mallory';
    body.id_token = [header, b64url(JSON.stringify(claims)), signature].join('.');
  } else if (tamper === 'signature') {
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] ^= 0x01;
    body.id_token = [header, payload, b64url(bytes)].join('.');
  } else {
    throw new Error(`unknown tamper ${tamper}`);
  }
  return new Response(JSON.stringify(body), {
    status: response.status,
    headers: response.headers,
  });
}

async function fetchAndMaybeTamper(url, options) {
  const response = await fetch(url, options);
  const tokenEndpoint = config?.serverMetadata().token_endpoint;
  if (tamper && String(url) === tokenEndpoint && response.status === 200) {
    return tampered(response);
  }
  return response;
}

function tokenSummary(tokens, alg) {
  const claims = tokens.claims();
  const header = tokens.id_token ? decodePart(tokens.id_token.split('.')[0]) : null;
  return {
    claims,
    id_token_header: header,
    scope: tokens.scope,
    token_type: tokens.token_type,
    expires_in: tokens.expiresIn(),
    has_refresh_token: typeof tokens.refresh_token === 'string',
    at_hash_matches:
      claims && claims.at_hash !== undefined
        ? claims.at_hash === atHash(tokens.access_token, alg)
        : null,
  };
}

const steps = {
  async discover({ issuer, client_id, client_secret, alg }) {
    // Django's live server is plain http on the loopback interface; openid-client v6
    // refuses http outright unless allowInsecureRequests is among the execute options.
    config = await client.discovery(
      new URL(issuer),
      client_id,
      { id_token_signed_response_alg: alg },
      client_secret ? client.ClientSecretBasic(client_secret) : client.None(),
      { execute: [client.allowInsecureRequests] },
    );
    // Without this the library trusts the token endpoint's TLS for the ID token and does
    // not verify its JWS signature; with it, the signature is checked against jwks_uri.
    client.enableNonRepudiationChecks(config);
    config[client.customFetch] = fetchAndMaybeTamper;
    return { metadata: config.serverMetadata() };
  },

  async start({ flow, redirect_uri, scope }) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri,
      scope,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    flows.set(flow, { verifier, state, nonce, alg: config.clientMetadata().id_token_signed_response_alg });
    return { url: url.href, state, nonce };
  },

  async callback({ flow, url, expected_nonce, expected_state, tamper: how }) {
    const f = flows.get(flow);
    tamper = how ?? null;
    try {
      const tokens = await client.authorizationCodeGrant(config, new URL(url), {
        pkceCodeVerifier: f.verifier,
        expectedState: expected_state ?? f.state,
        expectedNonce: expected_nonce ?? f.nonce,
        idTokenExpected: true,
      });
      f.tokens = tokens;
      f.sub = tokens.claims().sub;
      return tokenSummary(tokens, f.alg);
    } finally {
      tamper = null;
    }
  },

  async userinfo({ flow, expected_sub }) {
    const f = flows.get(flow);
    // The library compares the response's sub with the one given (Core §5.3.4).
    const userinfo = await client.fetchUserInfo(config, f.tokens.access_token, expected_sub ?? f.sub);
    return { userinfo };
  },

  async refresh({ flow }) {
    const f = flows.get(flow);
    const tokens = await client.refreshTokenGrant(config, f.tokens.refresh_token);
    const summary = tokenSummary(tokens, f.alg);
    summary.refresh_token_rotated = tokens.refresh_token !== f.tokens.refresh_token;
    summary.access_token_changed = tokens.access_token !== f.tokens.access_token;
    f.tokens = { ...f.tokens, ...tokens };
    return summary;
  },

  // RP-Initiated Logout 1.0: the URL the user's browser is sent to, built by the library
  // from the discovered end_session_endpoint. The ID token of the sign-in goes as
  // id_token_hint unless hint is false; the library adds client_id itself when it is not
  // given (§2 asks for one of the two with a post_logout_redirect_uri).
  async logout({ flow, post_logout_redirect_uri, hint = true }) {
    const f = flows.get(flow);
    const state = client.randomState();
    const parameters = { post_logout_redirect_uri, state };
    if (hint) parameters.id_token_hint = f.tokens.id_token;
    const url = client.buildEndSessionUrl(config, parameters);
    return { url: url.href, state, id_token_hint: parameters.id_token_hint ?? null };
  },
};

await serve(steps);
