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

import { codeFlowSteps, recorder, serve } from './steps.mjs';

let config;
const recorded = recorder();

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
        [client.customFetch]: recorded.fetch,
      },
    );
    config[client.customFetch] = recorded.fetch;
    // The ID token's JWS signature is checked against jwks_uri, not only its claims.
    client.enableNonRepudiationChecks(config);
    return { metadata: config.serverMetadata() };
  },

  ...codeFlowSteps(client, () => config),

  async exchanges() {
    return { exchanges: recorded.take() };
  },
};

await serve(steps);
