'use strict';
// The official Auth0 Node SDK (npm "auth0", current and v4 "auth0/legacy") against an LDAP
// realm: the password grant with realm = the ad connection, a refresh, and a wrong password.

const { config, decodeJWT, run } = require('./lib.cjs');

const flavours = { current: require('auth0'), v4: require('auth0/legacy') };
const cfg = config();
const scope = 'openid profile email offline_access';

const facts = (data) => ({
  has_refresh_token: typeof data.refresh_token === 'string' && data.refresh_token !== '',
  id_token: decodeJWT(data.id_token),
});

const steps = [];
for (const [flavour, sdk] of Object.entries(flavours)) {
  const auth = new sdk.AuthenticationClient({ domain: cfg.domain, clientId: cfg.clientId, clientSecret: cfg.clientSecret });
  steps.push(
    [`${flavour}/password_realm`, async (ctx) => {
      const { data } = await auth.oauth.passwordGrant({
        username: cfg.username, password: cfg.password, audience: cfg.audience, scope, realm: cfg.realm,
      });
      ctx[flavour] = data;
      return facts(data);
    }],
    [`${flavour}/refresh`, async (ctx) => {
      const { data } = await auth.oauth.refreshTokenGrant({ refresh_token: ctx[flavour].refresh_token });
      return facts(data);
    }],
    [`${flavour}/wrong_password`, async () => {
      await auth.oauth.passwordGrant({ username: cfg.username, password: 'not the password', realm: cfg.realm });
      throw new Error('passwordGrant with a wrong password resolved');
    }],
  );
}

run(steps);
