'use strict';
// Helpers shared by the compat scripts: read the environment the Go test passes in, run named
// steps and print one JSON object with what each step saw, so that the Go test asserts on it.

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
};

const config = () => ({
  issuer: env('SESAME_ISSUER'), // https://127.0.0.1:PORT/
  domain: new URL(env('SESAME_ISSUER')).host, // 127.0.0.1:PORT, what the Auth0 SDKs take
  clientId: env('SESAME_CLIENT_ID'),
  clientSecret: env('SESAME_CLIENT_SECRET'),
  audience: env('SESAME_AUDIENCE'),
  realm: env('SESAME_REALM'),
  username: env('SESAME_USERNAME'),
  password: env('SESAME_PASSWORD'),
  // A confidential client whose ID tokens are HS256, and a public client (no secret).
  hs256ClientId: env('SESAME_HS256_CLIENT_ID'),
  hs256ClientSecret: env('SESAME_HS256_CLIENT_SECRET'),
  publicClientId: env('SESAME_PUBLIC_CLIENT_ID'),
  // A private_key_jwt client and its PKCS #8 private key (PEM).
  jwtClientId: env('SESAME_JWT_CLIENT_ID'),
  jwtKeyPEM: env('SESAME_JWT_KEY_PEM'),
});

// decodeJWT returns the header and claims of a compact JWS without verifying it; the libraries
// under test verify, the report only shows what they accepted.
const decodeJWT = (jwt) => {
  if (typeof jwt !== 'string') return null;
  const [h, p] = jwt.split('.');
  const part = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: part(h), claims: part(p) };
};

// describeError keeps the fields a caller of each library can read off an error.
const describeError = (e) => {
  const out = { name: e && e.name, message: e && e.message };
  for (const k of ['error', 'error_description', 'statusCode', 'status', 'code', 'body_error', 'body_error_description', 'mfa_token_present']) {
    if (e && e[k] !== undefined && typeof e[k] !== 'object') out[k] = e[k];
  }
  // openid-client's WWWAuthenticateChallengeError carries the parsed challenges as its cause.
  if (e && Array.isArray(e.cause)) {
    out.challenges = e.cause.map((c) => ({ scheme: c.scheme, parameters: { ...c.parameters } }));
  } else if (e && e.cause && typeof e.cause === 'object') {
    for (const k of ['error', 'error_description', 'code', 'message', 'status']) {
      if (e.cause[k] !== undefined && typeof e.cause[k] !== 'object') out[`cause_${k}`] = e.cause[k];
    }
  }
  return out;
};

// run executes steps in order; a step returns the facts to report or throws. A failed step
// is reported with its error and the later steps still run (they may depend on it and fail too).
const run = async (steps) => {
  const report = {};
  const ctx = {};
  for (const [name, fn] of steps) {
    try {
      report[name] = { ok: true, ...((await fn(ctx)) || {}) };
    } catch (e) {
      report[name] = { ok: false, error: describeError(e) };
    }
  }
  process.stdout.write(JSON.stringify(report) + '\n');
};

module.exports = { config, decodeJWT, describeError, run };
