'use strict';
// The official Auth0 Node SDK (npm "auth0"): AuthenticationClient.passwordless end to end.
// sendEmail/sendSMS ask the server for a code; the Go test (compat/passwordless_test.go)
// reads it from the mail its SMTP listener received, or from the SMS webhook's request, and
// hands it out at SESAME_CODES_URL; loginWithEmail/loginWithSMS exchange it (the SDK
// validates the ID token), then oauth.refreshTokenGrant uses the refresh token. Email goes
// with a client secret, SMS with a private_key_jwt client assertion the SDK signs.

const { config, decodeJWT, run } = require('./lib.cjs');
const { AuthenticationClient } = require('auth0');

const cfg = config();
const codesURL = process.env.SESAME_CODES_URL;
const email = process.env.SESAME_PWL_EMAIL;
const phone = process.env.SESAME_PWL_PHONE;
const scope = 'openid profile email offline_access';

// code waits for the n-th code delivered to `to` (the Go side blocks until it arrives).
const code = async (to, n) => {
  const res = await fetch(`${codesURL}?to=${encodeURIComponent(to)}&n=${n}`);
  if (res.status !== 200) throw new Error(`code for ${to}: HTTP ${res.status}`);
  return (await res.text()).trim();
};
const other = (c) => (c === '000000' ? '000001' : '000000');

const tokenFacts = (data) => ({
  token_type: data.token_type,
  scope: data.scope,
  expires_in: data.expires_in,
  has_refresh_token: typeof data.refresh_token === 'string' && data.refresh_token !== '',
  id_token: decodeJWT(data.id_token),
  access_token: decodeJWT(data.access_token),
});

const confidential = new AuthenticationClient({ domain: cfg.domain, clientId: cfg.clientId, clientSecret: cfg.clientSecret });
const jwt = new AuthenticationClient({ domain: cfg.domain, clientId: cfg.jwtClientId, clientAssertionSigningKey: cfg.jwtKeyPEM });

run([
  ['email/send', async () => {
    const res = await confidential.passwordless.sendEmail({ email, send: 'code' });
    return { status: res.status };
  }],
  ['email/login', async (ctx) => {
    const { data } = await confidential.passwordless.loginWithEmail({ email, code: await code(email, 1), audience: cfg.audience, scope });
    ctx.email = data;
    return tokenFacts(data);
  }],
  ['email/refresh', async (ctx) => {
    const { data } = await confidential.oauth.refreshTokenGrant({ refresh_token: ctx.email.refresh_token });
    return tokenFacts(data);
  }],
  ['email/wrong_code', async () => {
    await confidential.passwordless.sendEmail({ email, send: 'code' });
    await confidential.passwordless.loginWithEmail({ email, code: other(await code(email, 2)) });
    throw new Error('loginWithEmail with a wrong code resolved');
  }],
  ['email/link', async () => {
    await confidential.passwordless.sendEmail({ email, send: 'link' });
    throw new Error('sendEmail with send: link resolved');
  }],
  ['sms/send', async () => {
    const res = await jwt.passwordless.sendSMS({ phone_number: phone });
    return { status: res.status };
  }],
  ['sms/login', async (ctx) => {
    const { data } = await jwt.passwordless.loginWithSMS({ phone_number: phone, code: await code(phone, 1), audience: cfg.audience, scope });
    ctx.sms = data;
    return tokenFacts(data);
  }],
  ['sms/refresh', async (ctx) => {
    const { data } = await jwt.oauth.refreshTokenGrant({ refresh_token: ctx.sms.refresh_token });
    return tokenFacts(data);
  }],
  ['sms/wrong_code', async () => {
    await jwt.passwordless.sendSMS({ phone_number: phone });
    await jwt.passwordless.loginWithSMS({ phone_number: phone, code: other(await code(phone, 2)) });
    throw new Error('loginWithSMS with a wrong code resolved');
  }],
]);
