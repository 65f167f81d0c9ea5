-- A client's web_origins (Auth0's "Allowed Web Origins"): the browser origins whose scripts may
-- call the token, revocation, userinfo and MFA endpoints (CORS). JSON list of origins.

ALTER TABLE clients ADD COLUMN web_origins TEXT NOT NULL DEFAULT '[]';
