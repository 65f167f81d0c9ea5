-- The per-user MFA failure bucket moved to guard_buckets (key mfa|<user_id>), where the
-- attempt is taken before the factor is checked and given back when it passes.
DROP TABLE mfa_buckets;
