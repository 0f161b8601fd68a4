// A device (a TV app, a command-line tool) built on panva's openid-client (v6, on
// oauth4webapi), run by tests/flows/test_device_flow_node.py through the device
// authorization grant (RFC 8628).
//
// Protocol: one JSON object on stdin (the settings below), then the script runs the
// whole flow by itself and reports it as JSON lines on stdout, each with an "event":
//
//   stdin:  {"issuer", "client_id", "client_secret"?, "auth": "none"|"basic"|"post",
//            "algorithm": "oidc"|"oauth2", "scope", "poll_interval"?, "timeout"?}
//   {"event": "device", "response", "device_authorization_endpoint", "request"}
//       the device authorization response, as the library validated and returned it;
//       "request" is how the library sent the request (see summarise below)
//   {"event": "poll", "status", "error", "grant_type", "request"}
//       each token endpoint response seen while the library polls (through customFetch)
//   {"event": "tokens", "access_token", ..., "claims"}
//       what pollDeviceAuthorizationGrant resolved to; claims are the ID token's claims
//       as the library validated them (null without an ID token)
//   {"event": "error", "stage": "discovery"|"initiate"|"poll", "error"}
//       what the library threw; the script then exits
//
// "poll_interval" replaces the response's interval when given: a device that polls
// faster than it was told, so the server answers slow_down.

import { createInterface } from 'node:readline';

import * as client from 'openid-client';

import { describe } from './steps.mjs';

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

// How the library sent a request: the Authorization header's scheme and the names of the
// body's parameters (values would include secrets; the test needs only the shape).
function summarise(options) {
  const headers = new Headers(options?.headers);
  const authorization = headers.get('authorization');
  const body = options?.body instanceof URLSearchParams ? options.body : new URLSearchParams();
  return {
    authorization_scheme: authorization ? authorization.split(' ')[0] : null,
    parameters: [...new Set(body.keys())].sort(),
    client_id: body.get('client_id'),
  };
}

async function readSettings() {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim()) {
      lines.close();
      return JSON.parse(line);
    }
  }
  throw new Error('no settings on stdin');
}

const settings = await readSettings();
const endpoints = {};
const sent = { device: null };

// Records the device authorization request and every token endpoint response, so the test
// sees the polls (authorization_pending, slow_down) the library otherwise handles quietly.
async function observingFetch(url, options) {
  const response = await fetch(url, options);
  const href = String(url);
  if (href === endpoints.device_authorization) {
    sent.device = summarise(options);
  } else if (href === endpoints.token) {
    let error = null;
    if (response.status !== 200) {
      try {
        error = (await response.clone().json()).error ?? null;
      } catch {
        error = null;
      }
    }
    const request = summarise(options);
    emit({
      event: 'poll',
      status: response.status,
      error,
      grant_type: new URLSearchParams(options?.body).get('grant_type'),
      request,
    });
  }
  return response;
}

const authentication = {
  none: () => client.None(),
  basic: () => client.ClientSecretBasic(settings.client_secret),
  post: () => client.ClientSecretPost(settings.client_secret),
}[settings.auth];

let stage = 'discovery';
try {
  // Django's live server is plain http on the loopback interface; openid-client v6
  // refuses http unless allowInsecureRequests is among the execute options.
  const config = await client.discovery(
    new URL(settings.issuer),
    settings.client_id,
    { id_token_signed_response_alg: 'RS256' },
    authentication(),
    {
      execute: [client.allowInsecureRequests],
      algorithm: settings.algorithm ?? 'oidc',
      [client.customFetch]: observingFetch,
    },
  );
  // The ID token's JWS signature is checked against jwks_uri, not only its claims.
  client.enableNonRepudiationChecks(config);
  const metadata = config.serverMetadata();
  endpoints.device_authorization = metadata.device_authorization_endpoint;
  endpoints.token = metadata.token_endpoint;

  stage = 'initiate';
  const response = await client.initiateDeviceAuthorization(config, { scope: settings.scope });
  emit({
    event: 'device',
    response,
    device_authorization_endpoint: endpoints.device_authorization,
    request: sent.device,
  });

  stage = 'poll';
  const told = settings.poll_interval ? { ...response, interval: settings.poll_interval } : response;
  const tokens = await client.pollDeviceAuthorizationGrant(config, told, undefined, {
    signal: AbortSignal.timeout((settings.timeout ?? 20) * 1000),
  });
  emit({
    event: 'tokens',
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token ?? null,
    token_type: tokens.token_type,
    scope: tokens.scope ?? null,
    expires_in: tokens.expiresIn() ?? null,
    id_token: tokens.id_token ?? null,
    claims: tokens.claims() ?? null,
  });
} catch (err) {
  emit({ event: 'error', stage, error: describe(err) });
}
