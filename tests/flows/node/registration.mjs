// A client that registers itself (RFC 7591) with panva's openid-client (v6, on
// oauth4webapi), then runs the authorization code flow with PKCE as the client it
// became. Driven step by step by tests/flows/test_registration_node.py.
//
// Protocol: one JSON object per line on stdin, one per line on stdout in reply (see
// steps.mjs): {"ok": true, ...} or {"ok": false, "error": {...}}.
//
//   {"op": "register", "issuer", "initial_access_token"?, "metadata",
//    "algorithm": "oidc"|"oauth2"}                  -> {"client", "server"}
//       dynamicClientRegistration: discovery, then a JSON POST of the metadata to
//       registration_endpoint with the initial access token as a Bearer token; the
//       returned Configuration authenticates as the library chooses (client_secret_post
//       when it got a secret, none otherwise)
//   {"op": "start", "flow", "redirect_uri", "scope"} -> {"url", "state"}
//   {"op": "callback", "flow", "url"}                -> {"tokens", "claims"}
//   {"op": "exchanges"}                              -> {"exchanges"}
//       every HTTP exchange since the last call: method, URL, Authorization scheme,
//       request body (JSON or form, secrets masked), status, Content-Type and JSON body

import * as client from 'openid-client';

import { codeFlowSteps, recorder, serve } from './steps.mjs';

let config;
const recorded = recorder();

const steps = {
  async register({ issuer, initial_access_token, metadata, algorithm }) {
    // Django's live server is plain http on loopback: allowInsecureRequests.
    config = await client.dynamicClientRegistration(new URL(issuer), metadata, undefined, {
      initialAccessToken: initial_access_token ?? undefined,
      algorithm: algorithm ?? 'oidc',
      execute: [client.allowInsecureRequests],
      [client.customFetch]: recorded.fetch,
    });
    config[client.customFetch] = recorded.fetch;
    client.enableNonRepudiationChecks(config);
    return { client: config.clientMetadata(), server: config.serverMetadata() };
  },

  ...codeFlowSteps(client, () => config),

  async exchanges() {
    return { exchanges: recorded.take() };
  },
};

await serve(steps);
