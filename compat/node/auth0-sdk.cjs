'use strict';
// The official Auth0 Node SDK (npm "auth0"): AuthenticationClient.oauth (password grant with
// and without realm, refresh, revoke) and UserInfoClient, for the current major (main entry)
// and for the v4 API (the "auth0/legacy" entry, which is node-auth0 4.x). The SDK validates
// every ID token it receives (IDTokenValidator); a grant that resolves has passed it.

const { config, decodeJWT, run } = require('./lib.cjs');

const flavours = {
  current: require('auth0'),
  v4: require('auth0/legacy'),
};

const cfg = config();
const scope = 'openid profile email offline_access';

const tokenFacts = (data) => ({
  token_type: data.token_type,
  scope: data.scope,
  expires_in: data.expires_in,
  has_refresh_token: typeof data.refresh_token === 'string' && data.refresh_token !== '',
  id_token: decodeJWT(data.id_token),
  access_token: decodeJWT(data.access_token),
});

const steps = [];
for (const [flavour, sdk] of Object.entries(flavours)) {
  const auth = new sdk.AuthenticationClient({
    domain: cfg.domain,
    clientId: cfg.clientId,
    clientSecret: cfg.clientSecret,
  });
  const hs256 = new sdk.AuthenticationClient({
    domain: cfg.domain,
    clientId: cfg.hs256ClientId,
    clientSecret: cfg.hs256ClientSecret,
    idTokenSigningAlg: 'HS256',
  });
  const keyJWT = new sdk.AuthenticationClient({
    domain: cfg.domain,
    clientId: cfg.jwtClientId,
    clientAssertionSigningKey: cfg.jwtKeyPEM,
  });
  const wrongSecret = new sdk.AuthenticationClient({
    domain: cfg.domain,
    clientId: cfg.clientId,
    clientSecret: 'not the secret',
  });
  const userInfo = new sdk.UserInfoClient({ domain: cfg.domain });
  steps.push(
    [`${flavour}/password`, async (ctx) => {
      const { data } = await auth.oauth.passwordGrant({
        username: cfg.username, password: cfg.password, audience: cfg.audience, scope,
      });
      ctx[flavour] = data;
      return tokenFacts(data);
    }],
    [`${flavour}/password_realm`, async () => {
      const { data } = await auth.oauth.passwordGrant({
        username: cfg.username, password: cfg.password, audience: cfg.audience, scope, realm: cfg.realm,
      });
      return tokenFacts(data);
    }],
    [`${flavour}/wrong_password`, async () => {
      await auth.oauth.passwordGrant({ username: cfg.username, password: 'not the password', realm: cfg.realm });
      throw new Error('passwordGrant with a wrong password resolved');
    }],
    [`${flavour}/refresh`, async (ctx) => {
      const { data } = await auth.oauth.refreshTokenGrant({ refresh_token: ctx[flavour].refresh_token });
      ctx[`${flavour}/refreshed`] = data;
      return tokenFacts(data);
    }],
    [`${flavour}/userinfo`, async (ctx) => {
      const { data } = await userInfo.getUserInfo(ctx[`${flavour}/refreshed`].access_token);
      return { userinfo: data };
    }],
    [`${flavour}/revoke`, async (ctx) => {
      const res = await auth.oauth.revokeRefreshToken({ token: ctx[`${flavour}/refreshed`].refresh_token });
      return { status: res.status };
    }],
    [`${flavour}/refresh_revoked`, async (ctx) => {
      await auth.oauth.refreshTokenGrant({ refresh_token: ctx[`${flavour}/refreshed`].refresh_token });
      throw new Error('refreshTokenGrant with a revoked token resolved');
    }],
    [`${flavour}/private_key_jwt`, async () => {
      const { data } = await keyJWT.oauth.passwordGrant({ username: cfg.username, password: cfg.password, scope, realm: cfg.realm });
      return tokenFacts(data);
    }],
    [`${flavour}/wrong_client_secret`, async () => {
      await wrongSecret.oauth.passwordGrant({ username: cfg.username, password: cfg.password, realm: cfg.realm });
      throw new Error('passwordGrant with a wrong client secret resolved');
    }],
    [`${flavour}/unknown_audience`, async () => {
      await auth.oauth.passwordGrant({ username: cfg.username, password: cfg.password, audience: 'https://unknown.example.com' });
      throw new Error('passwordGrant for an unknown audience resolved');
    }],
    [`${flavour}/hs256_id_token`, async () => {
      const { data } = await hs256.oauth.passwordGrant({ username: cfg.username, password: cfg.password, scope });
      return tokenFacts(data);
    }],
  );
}

run(steps);
