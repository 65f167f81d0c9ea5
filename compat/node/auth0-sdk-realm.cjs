'use strict';
// The official Auth0 Node SDK (npm "auth0"), current major and v4 API, logging in through a
// realm named by SESAME_REALM (a custom-database connection whose login script Sesame runs):
// the password grant with realm, and a wrong password. The SDK validates every ID token it
// receives; a grant that resolves has passed it.

const { config, decodeJWT, run } = require('./lib.cjs');

const flavours = {
  current: require('auth0'),
  v4: require('auth0/legacy'),
};

const cfg = config();
const steps = [];
for (const [flavour, sdk] of Object.entries(flavours)) {
  const auth = new sdk.AuthenticationClient({
    domain: cfg.domain,
    clientId: cfg.clientId,
    clientSecret: cfg.clientSecret,
  });
  steps.push(
    [`${flavour}/password_realm`, async () => {
      const { data } = await auth.oauth.passwordGrant({
        username: cfg.username, password: cfg.password, audience: cfg.audience,
        scope: 'openid profile email', realm: cfg.realm,
      });
      return { id_token: decodeJWT(data.id_token), access_token: decodeJWT(data.access_token) };
    }],
    [`${flavour}/wrong_password`, async () => {
      await auth.oauth.passwordGrant({
        username: cfg.username, password: cfg.password + ' wrong', audience: cfg.audience, realm: cfg.realm,
      });
    }],
  );
}

run(steps);
