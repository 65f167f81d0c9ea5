// A strict OpenID Connect relying party: openid-client v6 (on oauth4webapi) with discovery,
// the password and refresh grants through genericGrantRequest/refreshTokenGrant, ID-token
// validation including the signature against the JWKS (enableNonRepudiationChecks), UserInfo
// with a subject check, revocation and introspection; and jose's jwtVerify of the access token
// against the published JWKS with issuer and audience, the way an API would check it.

import * as client from 'openid-client';
import * as jose from 'jose';
import lib from './lib.cjs';

const { config, decodeJWT, run } = lib;
const cfg = config();
const scope = 'openid profile email offline_access';

const tokenFacts = (t) => ({
  token_type: t.token_type,
  scope: t.scope,
  expires_in: t.expires_in,
  has_refresh_token: typeof t.refresh_token === 'string' && t.refresh_token !== '',
  claims: t.claims(), // the validated ID token claims
  id_token_header: t.id_token ? decodeJWT(t.id_token).header : null,
});

let as; // the discovered configuration
let jwks; // the remote JWKS, as an API would use it

run([
  ['discovery', async () => {
    as = await client.discovery(new URL(cfg.issuer), cfg.clientId, cfg.clientSecret);
    // Check every ID token's signature too, not only its claims.
    client.enableNonRepudiationChecks(as);
    const m = as.serverMetadata();
    jwks = jose.createRemoteJWKSet(new URL(m.jwks_uri));
    return { metadata: m };
  }],
  ['password', async (ctx) => {
    ctx.tokens = await client.genericGrantRequest(as, 'password', {
      username: cfg.username, password: cfg.password, audience: cfg.audience, scope,
    });
    return tokenFacts(ctx.tokens);
  }],
  ['password_realm', async () => tokenFacts(await client.genericGrantRequest(as, 'http://auth0.com/oauth/grant-type/password-realm', {
    username: cfg.username, password: cfg.password, audience: cfg.audience, scope, realm: cfg.realm,
  }))],
  ['wrong_password', async () => {
    await client.genericGrantRequest(as, 'password', { username: cfg.username, password: 'not the password' });
    throw new Error('password grant with a wrong password resolved');
  }],
  ['verify_access_token', async (ctx) => {
    const { payload, protectedHeader } = await jose.jwtVerify(ctx.tokens.access_token, jwks, {
      issuer: as.serverMetadata().issuer,
      audience: cfg.audience,
      requiredClaims: ['sub', 'iat', 'exp', 'scope'],
    });
    return { header: protectedHeader, claims: payload };
  }],
  ['verify_id_token', async (ctx) => {
    const { payload, protectedHeader } = await jose.jwtVerify(ctx.tokens.id_token, jwks, {
      issuer: as.serverMetadata().issuer,
      audience: cfg.clientId,
    });
    return { header: protectedHeader, claims: payload };
  }],
  ['refresh', async (ctx) => {
    ctx.refreshed = await client.refreshTokenGrant(as, ctx.tokens.refresh_token);
    return tokenFacts(ctx.refreshed);
  }],
  ['userinfo', async (ctx) => ({
    userinfo: await client.fetchUserInfo(as, ctx.refreshed.access_token, ctx.refreshed.claims().sub),
  })],
  ['userinfo_bad_token', async () => {
    await client.fetchUserInfo(as, 'not-a-token', client.skipSubjectCheck);
    throw new Error('userinfo with a bad token resolved');
  }],
  ['introspect', async (ctx) => {
    const r = await client.tokenIntrospection(as, ctx.refreshed.access_token);
    return { active: r.active, sub: r.sub, client_id: r.client_id, scope: r.scope };
  }],
  ['revoke', async (ctx) => {
    await client.tokenRevocation(as, ctx.refreshed.refresh_token, { token_type_hint: 'refresh_token' });
  }],
  ['refresh_revoked', async (ctx) => {
    await client.refreshTokenGrant(as, ctx.refreshed.refresh_token);
    throw new Error('refresh with a revoked token resolved');
  }],
  ['oauth2_discovery', async () => {
    // RFC 8414 metadata at /.well-known/oauth-authorization-server.
    const c = await client.discovery(new URL(cfg.issuer), cfg.clientId, cfg.clientSecret, undefined, { algorithm: 'oauth2' });
    const m = c.serverMetadata();
    return { issuer: m.issuer, token_endpoint: m.token_endpoint };
  }],
  ['refresh_narrower_scope', async () => {
    const t = await client.genericGrantRequest(as, 'password', {
      username: cfg.username, password: cfg.password, audience: cfg.audience, scope: 'openid offline_access read:data write:data',
    });
    return tokenFacts(await client.refreshTokenGrant(as, t.refresh_token, { scope: 'openid read:data' }));
  }],
  ['client_secret_basic', async () => {
    const basic = new client.Configuration(as.serverMetadata(), cfg.clientId, cfg.clientSecret, client.ClientSecretBasic(cfg.clientSecret));
    client.enableNonRepudiationChecks(basic);
    return tokenFacts(await client.genericGrantRequest(basic, 'password', { username: cfg.username, password: cfg.password, scope }));
  }],
  ['client_secret_basic_wrong', async () => {
    const basic = new client.Configuration(as.serverMetadata(), cfg.clientId, {}, client.ClientSecretBasic('not the secret'));
    try {
      await client.genericGrantRequest(basic, 'password', { username: cfg.username, password: cfg.password });
    } catch (e) {
      // RFC 6749 §5.2: a 401 for HTTP authentication carries a WWW-Authenticate challenge;
      // the OAuth error is still in the body.
      const body = e.response ? await e.response.json() : undefined;
      throw Object.assign(e, { body_error: body && body.error, body_error_description: body && body.error_description });
    }
    throw new Error('password grant with a wrong client secret resolved');
  }],
  ['private_key_jwt', async () => {
    const key = await jose.importPKCS8(cfg.jwtKeyPEM, 'RS256');
    const pk = new client.Configuration(as.serverMetadata(), cfg.jwtClientId, {}, client.PrivateKeyJwt(key));
    client.enableNonRepudiationChecks(pk);
    return tokenFacts(await client.genericGrantRequest(pk, 'password', { username: cfg.username, password: cfg.password, scope }));
  }],
  ['hs256_id_token', async () => {
    // A client registered for HS256 ID tokens. openid-client checks their claims; an HMAC gives
    // no non-repudiation, so the signature is checked with jose and the client secret.
    const hs = new client.Configuration(as.serverMetadata(), cfg.hs256ClientId, {
      client_secret: cfg.hs256ClientSecret,
      id_token_signed_response_alg: 'HS256',
    });
    const t = await client.genericGrantRequest(hs, 'password', { username: cfg.username, password: cfg.password, scope });
    await jose.jwtVerify(t.id_token, new TextEncoder().encode(cfg.hs256ClientSecret), {
      algorithms: ['HS256'], issuer: as.serverMetadata().issuer, audience: cfg.hs256ClientId,
    });
    return tokenFacts(t);
  }],
  ['public_client', async () => {
    // A public client authenticates with its client_id only (token_endpoint_auth_method none).
    const pub = new client.Configuration(as.serverMetadata(), cfg.publicClientId, {}, client.None());
    client.enableNonRepudiationChecks(pub);
    return tokenFacts(await client.genericGrantRequest(pub, 'password', {
      username: cfg.username, password: cfg.password, audience: cfg.audience, scope,
    }));
  }],
]);
