'use strict';
// Auth0's API-side middleware, express-oauth2-jwt-bearer, guarding a small node:http API on
// loopback: it discovers the issuer (issuerBaseURL), fetches the JWKS, and checks each access
// token's signature, alg (against the discovery document's id_token_signing_alg_values_supported),
// iss, aud, exp, and in strict mode the RFC 9068 profile (typ at+jwt, client_id, jti, sub, iat).
// Each API under test gets a token from the password grant and is called with it.

const http = require('node:http');
const { auth, requiredScopes } = require('express-oauth2-jwt-bearer');
const { config, describeError, decodeJWT, run } = require('./lib.cjs');

const cfg = config();
// SESAME_APIS: [{"name", "audience", "strict" (RFC 9068 checks), "secret" (HS256 APIs)}].
const apis = JSON.parse(process.env.SESAME_APIS || `[{"name":"default","audience":${JSON.stringify(cfg.audience)}}]`);
const scope = process.env.SESAME_API_SCOPE || 'read:data';

// chain runs express-style middleware on a plain node:http request.
const chain = (handlers, req, res) => new Promise((resolve) => {
  let i = 0;
  const next = (err) => {
    if (err) return resolve(err);
    const h = handlers[i++];
    if (!h) return resolve(null);
    Promise.resolve(h(req, res, next)).catch(next);
  };
  next();
});

// serve answers 200 with the verified claims, or the middleware's error status, its
// WWW-Authenticate challenge and its error code.
const serve = (guards) => http.createServer(async (req, res) => {
  // The few express request helpers the middleware reads.
  req.protocol = 'http';
  req.originalUrl = req.url;
  req.query = {};
  req.is = () => false;
  req.get = (name) => req.headers[name.toLowerCase()];
  const err = await chain(guards[req.url] || [], req, res);
  const headers = { 'content-type': 'application/json' };
  if (err) {
    Object.assign(headers, err.headers || {});
    res.writeHead(err.status || 500, headers);
    res.end(JSON.stringify({ error: err.code || err.name, message: err.message }));
    return;
  }
  res.writeHead(200, headers);
  res.end(JSON.stringify({ claims: req.auth && req.auth.payload }));
});

const passwordGrant = async (audience) => {
  const res = await fetch(new URL('oauth/token', cfg.issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password', client_id: cfg.clientId, client_secret: cfg.clientSecret,
      // openid too: an RS256 API's token then has aud [api, https://host/userinfo].
      username: cfg.username, password: cfg.password, audience, scope: `openid ${scope}`,
    }),
  });
  const body = await res.json();
  if (res.status !== 200) throw Object.assign(new Error(`token endpoint: ${res.status}`), body);
  return body.access_token;
};

const call = async (base, path, token) => {
  const res = await fetch(base + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, www_authenticate: res.headers.get('www-authenticate'), body: await res.json() };
};

(async () => {
  const guards = {};
  for (const api of apis) {
    // An HS256 API's tokens are checked with its signing secret, as Auth0 documents.
    const hmac = api.secret ? { secret: api.secret, tokenSigningAlg: 'HS256' } : {};
    const check = auth({ issuerBaseURL: cfg.issuer, audience: api.audience, strict: !!api.strict, ...hmac });
    guards[`/${api.name}`] = [check, requiredScopes(scope)];
    guards[`/${api.name}/admin`] = [check, requiredScopes('admin:everything')];
  }
  const server = serve(guards);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const steps = [];
  for (const api of apis) {
    steps.push(
      [`${api.name}/token`, async (ctx) => {
        ctx[api.name] = await passwordGrant(api.audience);
        return { header: decodeJWT(ctx[api.name]).header };
      }],
      [`${api.name}/call`, async (ctx) => call(base, `/${api.name}`, ctx[api.name])],
      [`${api.name}/insufficient_scope`, async (ctx) => call(base, `/${api.name}/admin`, ctx[api.name])],
      [`${api.name}/no_token`, async () => call(base, `/${api.name}`)],
    );
  }
  try {
    await run(steps);
  } finally {
    server.close();
  }
})().catch((e) => {
  process.stdout.write(JSON.stringify({ fatal: describeError(e) }) + '\n');
  process.exitCode = 1;
});
