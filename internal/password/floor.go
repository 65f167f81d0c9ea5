package password

import (
	"context"
	"sync"
	"time"
)

// Why a timing floor. A directory must answer an unknown user and a wrong password in the
// same time, or the time tells an attacker which accounts exist. For users with a native
// argon2id hash (and imported fast digests, wrapped in argon2id at import: wrap.go) equal
// work gives equal time: the unknown user's dummy verification is one argon2id at the same
// parameters. Imported slow hashes cannot be given equal work: bcrypt-10, PBKDF2 or scrypt
// must run on the password before anything else, cost what their parameters say (87 ms for
// bcrypt-10 against 35 ms for argon2id on one machine), and differ from user to user. No
// single dummy can then match every user: whatever the unknown-user path costs, users of
// some other class differ from it. So Sesame equalises time rather than work. The Hasher
// learns how long a verification of each class of hash (scheme and cost parameters) takes
// on this machine, and holds every failed verification, and every dummy one, until the
// slowest class's estimate has passed since the verification started. Every refusal then
// takes the same time, whichever user was named, while a successful login (which reveals
// nothing the caller does not know) returns as soon as its hash is checked.
//
// The hold is a wait, not work: it takes no hashing slot and no CPU, so an attacker cannot
// use it to exhaust the server. The estimate per class is RFC 6298's smoothed round-trip time
// plus four mean deviations (section 2), an upper bound that follows the machine's load as
// hashing slows or speeds up; the first sample starts the deviation at an eighth of itself
// rather than RFC 6298's half, since hashing time varies less than a network round trip.
// Classes are learned from verifications (and from Calibrate, which directories call at
// start-up for the classes they store), so a class first met in a failed login is held only
// from its second verification on.

// maxFloorClasses bounds the classes tracked; admins, not callers, make classes (by importing
// hashes), so the bound only guards memory.
const maxFloorClasses = 256

// timingFloor is the per-class estimate of verification time.
type timingFloor struct {
	mu      sync.Mutex
	classes map[string]*estimate
}

type estimate struct{ smoothed, deviation time.Duration }

func (e *estimate) bound() time.Duration { return e.smoothed + 4*e.deviation }

// observe records that verifying a hash of class took d.
func (f *timingFloor) observe(class string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.classes[class]
	switch {
	case ok:
		diff := e.smoothed - d
		if diff < 0 {
			diff = -diff
		}
		e.deviation = (3*e.deviation + diff) / 4
		e.smoothed = (7*e.smoothed + d) / 8
	case len(f.classes) < maxFloorClasses:
		if f.classes == nil {
			f.classes = map[string]*estimate{}
		}
		f.classes[class] = &estimate{smoothed: d, deviation: d / 8}
	}
}

// known reports whether class has an estimate.
func (f *timingFloor) known(class string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.classes[class]
	return ok
}

// value is the floor: the largest bound over all classes.
func (f *timingFloor) value() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var m time.Duration
	for _, e := range f.classes {
		m = max(m, e.bound())
	}
	return m
}

// hold waits until the floor has passed since start, or ctx is done (the caller is gone and
// sees no time at all).
func (h *Hasher) hold(ctx context.Context, start time.Time) {
	if d := h.floor.value() - h.now().Sub(start); d > 0 {
		h.sleep(ctx, d)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Calibrate measures how long verifying a hash of encoded's class takes, unless it is known
// already, so that failed logins are held to it from the first. It verifies a random
// password against encoded (which never matches) in a hashing slot. A directory calls it at
// start-up with a hash of each class it stores, and with an empty string for the dummy
// verification of unknown users.
func (h *Hasher) Calibrate(ctx context.Context, encoded string) error {
	if encoded == "" {
		encoded = h.dummy
	}
	v, err := parse(encoded)
	if err != nil {
		return err
	}
	if h.floor.known(v.class()) {
		return nil
	}
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	start := h.now()
	v.verify(b64enc(randomBytes(16)))
	h.floor.observe(v.class(), h.now().Sub(start))
	return nil
}
