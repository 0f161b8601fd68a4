// What a single-page app does at the provider, from its own origin: redeem a code with
// PKCE and a DPoP proof (a header, so the browser sends a CORS preflight first), call
// UserInfo with the DPoP-bound token, revoke it. Each step reports what the page could
// read; a blocked read (CORS) is a TypeError from fetch().

"use strict";

const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const text = (value) => new TextEncoder().encode(value);

async function newKey() {
  const pair = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return { pair, jwk: { kty, crv, x, y } };
}

// RFC 9449 §4.2: a JWT signed with the key, naming the method and URL.
async function proof(key, htm, htu, { nonce, token } = {}) {
  const header = { typ: "dpop+jwt", alg: "ES256", jwk: key.jwk };
  const claims = { jti: crypto.randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) };
  if (nonce) claims.nonce = nonce;
  if (token) claims.ath = b64url(await crypto.subtle.digest("SHA-256", text(token)));
  const input = b64url(text(JSON.stringify(header))) + "." + b64url(text(JSON.stringify(claims)));
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" }, key.pair.privateKey, text(input));
  return input + "." + b64url(signature);
}

// A request with a proof; once more with the server's nonce if it asks (RFC 9449 §8, §9):
// reading DPoP-Nonce needs the provider to expose it.
async function withProof(key, url, init, token) {
  let nonce;
  let response;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const headers = { ...init.headers, DPoP: await proof(key, init.method, url, { nonce, token }) };
    response = await fetch(url, { ...init, headers });
    nonce = response.headers.get("DPoP-Nonce");
    if (response.ok || !nonce) break;
  }
  return response;
}

async function read(response) {
  return { status: response.status, body: await response.json(),
           nonceSeen: response.headers.get("DPoP-Nonce") !== null };
}

window.spa = async function spa(p) {
  const key = await newKey();
  const form = (fields) => ({
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
  const token = await read(await withProof(key, p.tokenUrl, form({
    grant_type: "authorization_code", code: p.code, code_verifier: p.verifier,
    redirect_uri: p.redirectUri, client_id: p.clientId,
  })));
  const result = { token };
  if (token.status !== 200) return result;
  const accessToken = token.body.access_token;
  result.userinfo = await read(await withProof(
    key, p.userinfoUrl, { method: "GET", headers: { Authorization: "DPoP " + accessToken } },
    accessToken));
  // Revocation takes the token alone: a simple request, no preflight.
  const revoked = await fetch(p.revokeUrl, form({ token: accessToken, client_id: p.clientId }));
  result.revocation = { status: revoked.status };
  result.afterRevocation = (await withProof(
    key, p.userinfoUrl, { method: "GET", headers: { Authorization: "DPoP " + accessToken } },
    accessToken)).status;
  return result;
};

// A page the client does not allow tries the same: first as a simple request (no
// preflight, so the POST reaches the provider), then with a DPoP proof (a preflight).
window.intruder = async function intruder(p) {
  const outcome = {};
  const body = new URLSearchParams({
    grant_type: "authorization_code", code: p.code, code_verifier: p.verifier,
    redirect_uri: p.redirectUri, client_id: p.clientId,
  });
  const init = { method: "POST", body,
                 headers: { "Content-Type": "application/x-www-form-urlencoded" } };
  for (const [name, request] of [
    ["simple", () => fetch(p.tokenUrl, init)],
    ["preflighted", async () => withProof(await newKey(), p.tokenUrl, init)],
  ]) {
    try {
      const response = await request();
      outcome[name] = { read: true, status: response.status, body: await response.text() };
    } catch (error) {
      outcome[name] = { read: false, error: String(error) };
    }
  }
  return outcome;
};
