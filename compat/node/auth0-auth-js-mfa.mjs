// MFA inside the password flow with @auth0/auth0-auth-js: the password grant answers
// mfa_required with an mfa_token, the user enrols an OTP authenticator (/mfa/associate),
// verifies it with the mfa-otp grant, and on the next login lists authenticators, challenges
// and uses a recovery code (the mfa-recovery-code grant, which hands out a new code).

import { createHmac } from 'node:crypto';
import { AuthClient } from '@auth0/auth0-auth-js';
import lib from './lib.cjs';

const { config, decodeJWT, run } = lib;
const cfg = config();

const auth = new AuthClient({ domain: cfg.domain, clientId: cfg.clientId, clientSecret: cfg.clientSecret });

// totp is RFC 6238 with SHA-1, 6 digits, 30 s steps: what an authenticator app shows.
const totp = (base32Secret, at = Date.now()) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32Secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, '0');
};

// login logs in and keeps the mfa_token the SDK lifted off the mfa_required error.
const login = async (ctx, key) => {
  try {
    await auth.getTokenByPassword({ username: cfg.username, password: cfg.password, audience: cfg.audience, scope: 'openid profile email offline_access' });
  } catch (e) {
    ctx[key] = e.cause && e.cause.mfa_token;
    throw Object.assign(e, { mfa_token_present: typeof ctx[key] === 'string' && ctx[key] !== '' });
  }
  throw new Error('getTokenByPassword resolved, want mfa_required');
};

const tokenFacts = (t) => ({
  scope: t.scope,
  has_refresh_token: typeof t.refreshToken === 'string' && t.refreshToken !== '',
  claims: t.claims,
  access_token: decodeJWT(t.accessToken),
  has_new_recovery_code: typeof t.recoveryCode === 'string' && t.recoveryCode !== '',
});

run([
  ['login', (ctx) => login(ctx, 'mfaToken')],
  ['list_before', async (ctx) => ({ authenticators: await auth.mfa.listAuthenticators({ mfaToken: ctx.mfaToken }) })],
  ['enroll_otp', async (ctx) => {
    ctx.enrolment = await auth.mfa.enrollAuthenticator({ mfaToken: ctx.mfaToken, authenticatorTypes: ['otp'] });
    const { secret, recoveryCodes, barcodeUri } = ctx.enrolment;
    return { authenticatorType: ctx.enrolment.authenticatorType, has_secret: !!secret, barcodeUri, recovery_codes: (recoveryCodes || []).length };
  }],
  ['wrong_otp', async (ctx) => {
    await auth.mfa.verify({ mfaToken: ctx.mfaToken, factorType: 'otp', otp: totp(ctx.enrolment.secret) === '000000' ? '111111' : '000000' });
    throw new Error('verify with a wrong otp resolved');
  }],
  ['verify_otp', async (ctx) => tokenFacts(await auth.mfa.verify({ mfaToken: ctx.mfaToken, factorType: 'otp', otp: totp(ctx.enrolment.secret) }))],
  ['login_again', (ctx) => login(ctx, 'mfaToken2')],
  ['list_after', async (ctx) => ({ authenticators: await auth.mfa.listAuthenticators({ mfaToken: ctx.mfaToken2 }) })],
  ['challenge_otp', async (ctx) => auth.mfa.challengeAuthenticator({ mfaToken: ctx.mfaToken2, challengeType: 'otp' })],
  ['verify_recovery_code', async (ctx) => tokenFacts(await auth.mfa.verify({
    mfaToken: ctx.mfaToken2, factorType: 'recovery-code', recoveryCode: ctx.enrolment.recoveryCodes[0],
  }))],
]);
