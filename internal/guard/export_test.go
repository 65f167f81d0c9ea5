package guard

// Allowed exposes the allowlist match to the external tests.
var Allowed = allowed
