// A client that authenticates with private_key_jwt (RFC 7523 §2.2), built on panva's
// openid-client (v6, on oauth4webapi), driven step by step by
// tests/flows/test_private_key_jwt_node.py.
//
// Protocol: JSON lines (see steps.mjs).
//
//   {"op": "discover", "issuer", "client_id", "jwk", "kid"?, "alg"}   -> {"metadata"}
//       the private JWK is imported with WebCrypto; client.PrivateKeyJwt signs each
//       request's client assertion with it
//   {"op": "client_credentials", "scope"}                              -> {"tokens"}
//   {"op": "start", "flow", "redirect_uri", "scope", "par": bool}      -> {"url", "state"}
//   {"op": "callback", "flow", "url"}                                  -> {"tokens", "claims"}
//   {"op": "refresh", "refresh_token"}                                 -> {"tokens"}
//   {"op": "revoke", "token"}                                          -> {}
//   {"op": "exchanges"}                                                -> {"exchanges"}

import * as client from 'openid-client';

import { codeFlowSteps, recorder, serve, tokenSummary } from './steps.mjs';

let config;
const recorded = recorder();

const IMPORT = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  ES384: { name: 'ECDSA', namedCurve: 'P-384' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
};

const steps = {
  async discover({ issuer, client_id, jwk, kid, alg }) {
    const key = await crypto.subtle.importKey('jwk', jwk, IMPORT[alg], false, ['sign']);
    config = await client.discovery(
      new URL(issuer),
      client_id,
      { id_token_signed_response_alg: 'RS256' },
      client.PrivateKeyJwt(kid ? { key, kid } : key),
      {
        execute: [client.allowInsecureRequests],
        [client.customFetch]: recorded.fetch,
      },
    );
    config[client.customFetch] = recorded.fetch;
    client.enableNonRepudiationChecks(config);
    return { metadata: config.serverMetadata() };
  },

  async client_credentials({ scope }) {
    return { tokens: tokenSummary(await client.clientCredentialsGrant(config, { scope })) };
  },

  ...codeFlowSteps(client, () => config),

  async refresh({ refresh_token }) {
    return { tokens: tokenSummary(await client.refreshTokenGrant(config, refresh_token)) };
  },

  async revoke({ token }) {
    await client.tokenRevocation(config, token);
    return {};
  },

  async exchanges() {
    return { exchanges: recorded.take() };
  },
};

await serve(steps);
