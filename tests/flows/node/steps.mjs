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
