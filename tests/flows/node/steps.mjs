// What the node scripts share: how an error is shown to the test, and the loop that
// answers the test's JSON-line requests (tests/flows/node_script.py drives it).
import { createInterface } from 'node:readline';

// An error as the test sees it. openid-client wraps oauth4webapi's errors in a ClientError
// with a generic message and a code; the wrapped error's message says which check failed.
export function describe(err) {
  const out = { name: err?.name, code: err?.code, message: err?.message };
  out.reason = err?.cause instanceof Error ? err.cause.message : err?.message;
  // ResponseBodyError / AuthorizationResponseError: the OAuth error the server sent.
  if (err?.error !== undefined) out.error = err.error;
  if (err?.error_description !== undefined) out.error_description = err.error_description;
  if (err?.status !== undefined) out.status = err.status;
  // WWWAuthenticateChallengeError: the challenges of the WWW-Authenticate header.
  if (err?.name === 'WWWAuthenticateChallengeError') out.challenges = err.cause;
  return out;
}

// Answer each request line {"op": ..., ...} with steps[op]'s result, {"ok": true, ...},
// or {"ok": false, "error": ...}, one JSON line each, until stdin closes.
export async function serve(steps) {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let reply;
    try {
      const request = JSON.parse(line);
      const step = steps[request.op];
      if (!step) throw new Error(`unknown op ${request.op}`);
      reply = { ok: true, ...(await step(request)) };
    } catch (err) {
      reply = { ok: false, error: describe(err) };
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
  }
}

// A customFetch that sends every request unchanged and records the exchange: the
// request's method, URL, Authorization scheme, Content-Type and body (a form as pairs,
// client_secret masked, also under "form"; JSON decoded), the response's status,
// Content-Type, Location and JSON body. take() returns what was recorded since the last
// call.
export function recorder() {
  let seen = [];
  async function recordingFetch(url, options) {
    const headers = new Headers(options?.headers);
    const authorization = headers.get('authorization');
    let form = null;
    let request = null;
    if (options?.body instanceof URLSearchParams) {
      form = [...options.body.entries()].map(([k, v]) => [k, k === 'client_secret' ? '***' : v]);
      request = form;
    } else if (typeof options?.body === 'string') {
      try {
        request = JSON.parse(options.body);
      } catch {
        request = options.body;
      }
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
    seen.push({
      method: options?.method ?? 'GET',
      url: String(url),
      authorization_scheme: authorization ? authorization.split(' ')[0] : null,
      request_content_type: headers.get('content-type'),
      form,
      request,
      status: response.status,
      content_type: type,
      location: response.headers.get('location'),
      body,
    });
    return response;
  }
  return {
    fetch: recordingFetch,
    take() {
      const taken = seen;
      seen = [];
      return taken;
    },
  };
}

// What a token response holds, as the tests compare it.
export function tokenSummary(tokens) {
  return {
    access_token: tokens.access_token,
    token_type: tokens.token_type,
    refresh_token: tokens.refresh_token ?? null,
    scope: tokens.scope ?? null,
    expires_in: tokens.expiresIn() ?? null,
  };
}

// The authorization code flow with PKCE as steps, for a script whose Configuration
// configOf() returns:
//   {"op": "start", "flow", "redirect_uri", "scope", "par"?: bool} -> {"url", "state"}
//       "par": buildAuthorizationUrlWithPAR (the library pushes the parameters, then
//       builds the URL from the request_uri it got); otherwise buildAuthorizationUrl
//   {"op": "callback", "flow", "url"} -> {"tokens", "claims"}
//       authorizationCodeGrant with the flow's PKCE verifier and expected state
export function codeFlowSteps(client, configOf) {
  const flows = new Map(); // name -> {verifier, state}
  return {
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
        ? await client.buildAuthorizationUrlWithPAR(configOf(), parameters)
        : client.buildAuthorizationUrl(configOf(), parameters);
      flows.set(flow, { verifier, state });
      return { url: url.href, state };
    },

    async callback({ flow, url }) {
      const f = flows.get(flow);
      const tokens = await client.authorizationCodeGrant(configOf(), new URL(url), {
        pkceCodeVerifier: f.verifier,
        expectedState: f.state,
      });
      return { tokens: tokenSummary(tokens), claims: tokens.claims() ?? null };
    },
  };
}
