package oauthserver

// HooksRecheck is how long a node trusts its compiled Rules and Actions: tests advance their
// clock by it to make the server re-read them.
const HooksRecheck = hooksRecheck
