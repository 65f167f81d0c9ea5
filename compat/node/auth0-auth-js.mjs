// Auth0's current JavaScript SDK for server-side apps (@auth0/auth0-auth-js), which node-auth0 v7
// points to for authentication. It runs on openid-client v6: OIDC discovery of the issuer,
// then the token endpoint, validating the ID token claims (issuer, audience, times, no nonce).

import { AuthClient } from '@auth0/auth0-auth-js';
import lib from './lib.cjs';

const { config, decodeJWT, run } = lib;
const cfg = config();
const scope = 'openid profile email offline_access';

const auth = new AuthClient({ domain: cfg.domain, clientId: cfg.clientId, clientSecret: cfg.clientSecret });

const tokenFacts = (t) => ({
  scope: t.scope,
  token_type: t.tokenType,
  has_refresh_token: typeof t.refreshToken === 'string' && t.refreshToken !== '',
  expires_in_positive: t.expiresAt > Math.floor(Date.now() / 1000),
  claims: t.claims, // what the SDK decoded from the validated ID token
  access_token: decodeJWT(t.accessToken),
});

run([
  ['metadata', async () => {
    const m = await auth.getServerMetadata();
    return { issuer: m.issuer, token_endpoint: m.token_endpoint, jwks_uri: m.jwks_uri };
  }],
  ['password', async (ctx) => {
    ctx.tokens = await auth.getTokenByPassword({
      username: cfg.username, password: cfg.password, audience: cfg.audience, scope,
    });
    return tokenFacts(ctx.tokens);
  }],
  ['password_realm', async () => tokenFacts(await auth.getTokenByPassword({
    username: cfg.username, password: cfg.password, audience: cfg.audience, scope, realm: cfg.realm,
  }))],
  ['wrong_password', async () => {
    await auth.getTokenByPassword({ username: cfg.username, password: 'not the password', realm: cfg.realm });
    throw new Error('getTokenByPassword with a wrong password resolved');
  }],
  ['refresh', async (ctx) => {
    ctx.refreshed = await auth.getTokenByRefreshToken({ refreshToken: ctx.tokens.refreshToken });
    return tokenFacts(ctx.refreshed);
  }],
  ['userinfo', async (ctx) => ({
    userinfo: await auth.getUserInfo({ accessToken: ctx.refreshed.accessToken, expectedSubject: ctx.refreshed.claims.sub }),
  })],
  ['revoke', async (ctx) => {
    await auth.revokeToken({ token: ctx.refreshed.refreshToken });
  }],
  ['refresh_revoked', async (ctx) => {
    await auth.getTokenByRefreshToken({ refreshToken: ctx.refreshed.refreshToken });
    throw new Error('getTokenByRefreshToken with a revoked token resolved');
  }],
]);
