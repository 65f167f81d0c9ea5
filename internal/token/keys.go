package token

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sesameauth/sesame/internal/seal"
	"github.com/sesameauth/sesame/internal/store"
)

// DefaultPreviousKeyTTL is how long a rotated-out key stays in the JWKS. It covers the longest
// token Auth0 lets an API or client configure (2,592,000 s = 30 days) plus a day for clock skew
// and for resource servers that cached the key set late.
const DefaultPreviousKeyTTL = 31 * 24 * time.Hour

// RefreshInterval is the longest a Keys serves keys it read from the store before reading them
// again, so that a rotation made by another process (`sesame keys rotate`) takes effect on every
// node within about a second.
const RefreshInterval = time.Second

// maxTokenSize bounds what Verify parses: custom claims may be 100 KB, base64 adds a third.
const maxTokenSize = 256 << 10

// Keys manages the tenant's asymmetric signing keys. Per JWS algorithm there is a "current" key
// that signs, a "next" key that is already published in the JWKS (clients such as go-auth0
// cache the key set and never refetch it on an unknown kid, so a key must be published well
// before it signs), and "previous" keys still published until the tokens they signed expire.
//
// Keys reads the store at most once per RefreshInterval and keeps unsealed private keys in
// memory per key id. It is safe for concurrent use.
type Keys struct {
	// PreviousKeyTTL is how long Rotate keeps the rotated-out key published. It must be at
	// least the longest access- or ID-token lifetime. NewKeys sets DefaultPreviousKeyTTL.
	PreviousKeyTTL time.Duration

	st  store.SigningKeys
	box *seal.Box
	now func() time.Time

	snap atomic.Pointer[snapshot]

	mu     sync.Mutex            // serialises reloads; guards loaded
	loaded map[string]*loadedKey // by kid; never evicted (a handful per rotation)
}

// KeyInfo describes one signing key, without its private part.
type KeyInfo struct {
	KID          string
	Alg          string
	State        string
	CreatedAt    time.Time
	ActivatedAt  time.Time
	PublishUntil time.Time
	// Thumbprint is the RFC 7638 SHA-256 thumbprint of the public key, base64url.
	Thumbprint string
	// Certificate is a self-signed X.509 certificate (DER) of the public key, for the
	// Management API, which shows signing keys as certificates as Auth0 does.
	Certificate []byte
}

// loadedKey is an unsealed key with what signing and publishing need, computed once.
type loadedKey struct {
	kid     string
	alg     string
	priv    crypto.Signer
	public  jose.JSONWebKey // public part, kid, alg, use
	jwkJSON []byte
	thumb   string

	signersMu sync.Mutex
	signers   atomic.Pointer[map[string]jose.Signer] // by typ header; copy-on-write

	certOnce sync.Once
	cert     []byte
	certErr  error
}

// snapshot is what one read of the store yields: the keys in effect at a moment.
type snapshot struct {
	at        time.Time
	current   map[string]*loadedKey // by alg
	published map[string]publishedKey
	jwks      []byte
}

type publishedKey struct {
	state string
	key   *loadedKey
}

// NewKeys returns a Keys over the store. now is the clock (time.Now in production).
func NewKeys(st store.SigningKeys, box *seal.Box, now func() time.Time) *Keys {
	if now == nil {
		now = time.Now
	}
	return &Keys{
		PreviousKeyTTL: DefaultPreviousKeyTTL,
		st:             st,
		box:            box,
		now:            now,
		loaded:         map[string]*loadedKey{},
	}
}

// Ensure makes sure each algorithm in algs, and RS256 always (ID tokens and /userinfo tokens
// are RS256), has a current and a next key, generating what is missing. Several nodes may call
// it at once on a fresh database: the store lets one of them create each key
// (store.ErrConflict for the others), and the losers re-read and keep the winner's keys.
func (k *Keys) Ensure(ctx context.Context, algs ...string) error {
	want := []string{"RS256"}
	for _, a := range algs {
		if !SupportedAlg(a) {
			return fmt.Errorf("%w: %q (want one of %v)", ErrUnsupportedAlg, a, Algs)
		}
		if !slices.Contains(want, a) {
			want = append(want, a)
		}
	}
	defer k.invalidate()
	for attempt := 0; ; attempt++ {
		recs, err := k.st.ListSigningKeys(ctx)
		if err != nil {
			return fmt.Errorf("token: listing signing keys: %w", err)
		}
		conflicted := false
		for _, alg := range want {
			for _, state := range []string{store.KeyCurrent, store.KeyNext} {
				if hasKey(recs, alg, state) {
					continue
				}
				err := k.create(ctx, alg, state)
				if errors.Is(err, store.ErrConflict) {
					conflicted = true
					continue
				}
				if err != nil {
					return err
				}
			}
		}
		if !conflicted {
			return nil
		}
		if attempt == 2 {
			return fmt.Errorf("token: signing keys kept conflicting with another node: %w", store.ErrConflict)
		}
	}
}

func hasKey(recs []store.SigningKey, alg, state string) bool {
	return slices.ContainsFunc(recs, func(r store.SigningKey) bool { return r.Alg == alg && r.State == state })
}

// create generates a key for alg and stores it in state.
func (k *Keys) create(ctx context.Context, alg, state string) error {
	rec, err := k.newRecord(alg, state)
	if err != nil {
		return err
	}
	if err := k.st.CreateSigningKey(ctx, rec); err != nil {
		return fmt.Errorf("token: storing %s %s key: %w", state, alg, err)
	}
	return nil
}

// newRecord generates a key and seals its PKCS#8 form, bound to its kid.
func (k *Keys) newRecord(alg, state string) (store.SigningKey, error) {
	priv, err := generateKey(alg)
	if err != nil {
		return store.SigningKey{}, err
	}
	kid, err := thumbprint(priv.Public())
	if err != nil {
		return store.SigningKey{}, err
	}
	der, err := marshalPrivate(priv)
	if err != nil {
		return store.SigningKey{}, err
	}
	defer clear(der)
	now := k.now().UTC()
	rec := store.SigningKey{
		KID:           kid,
		Alg:           alg,
		State:         state,
		PrivateSealed: k.box.Seal(der, store.SigningKeyAAD(kid)),
		CreatedAt:     now,
	}
	if state == store.KeyCurrent {
		rec.ActivatedAt = now
	}
	return rec, nil
}

// Rotate retires the current key of alg (it becomes previous, published for PreviousKeyTTL),
// makes the next key current, and publishes a freshly generated next key. An empty alg rotates
// every algorithm that has keys.
func (k *Keys) Rotate(ctx context.Context, alg string) error {
	if alg != "" && !SupportedAlg(alg) {
		return fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
	}
	recs, err := k.st.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("token: listing signing keys: %w", err)
	}
	var algs []string
	if alg != "" {
		algs = []string{alg}
	} else {
		for _, r := range recs {
			if (r.State == store.KeyCurrent || r.State == store.KeyNext) && !slices.Contains(algs, r.Alg) {
				algs = append(algs, r.Alg)
			}
		}
		if len(algs) == 0 {
			return fmt.Errorf("%w: there are no keys to rotate", ErrNoKey)
		}
	}
	defer k.invalidate()
	for _, a := range algs {
		// Only a key that was published as next may start signing; without one, rotating would
		// hand out tokens signed by a key no client has cached.
		if !hasKey(recs, a, store.KeyNext) {
			return fmt.Errorf("%w: %s has no next key to promote (run the server once, or Ensure, first)", ErrNoKey, a)
		}
		next, err := k.newRecord(a, store.KeyNext)
		if err != nil {
			return err
		}
		now := k.now().UTC()
		if err := k.st.RotateSigningKeys(ctx, a, next, now, now.Add(k.PreviousKeyTTL)); err != nil {
			return fmt.Errorf("token: rotating %s keys: %w", a, err)
		}
	}
	return nil
}

// Revocation is what Revoke did: the key withdrawn, as it was before, and the current key of
// its algorithm afterwards (the one that signs now).
type Revocation struct {
	Revoked KeyInfo
	Current string
}

// Revoke withdraws a compromised key at once (emergency revocation), unlike Rotate, which keeps
// the rotated-out key published for PreviousKeyTTL: the key leaves the JWKS and stops verifying
// tokens (Verify, hence introspection and /userinfo) on this node now and on every other node
// at its next store read, within RefreshInterval. A current key is rotated out first (the next
// key, already published, starts signing) and a current or next key is replaced by a freshly
// generated next key, all in one store transaction. The only key of an algorithm (a current
// key without a next one to take over) is never revoked: ErrNoKey.
func (k *Keys) Revoke(ctx context.Context, kid string) (Revocation, error) {
	recs, err := k.st.ListSigningKeys(ctx)
	if err != nil {
		return Revocation{}, fmt.Errorf("token: listing signing keys: %w", err)
	}
	i := slices.IndexFunc(recs, func(r store.SigningKey) bool { return r.KID == kid })
	if i < 0 {
		return Revocation{}, fmt.Errorf("token: no signing key %q: %w", kid, store.ErrNotFound)
	}
	r := recs[i]
	var newNext *store.SigningKey
	switch r.State {
	case store.KeyRevoked:
		return Revocation{}, fmt.Errorf("token: signing key %s is already revoked: %w", kid, store.ErrConflict)
	case store.KeyCurrent, store.KeyNext:
		if r.State == store.KeyCurrent && !hasKey(recs, r.Alg, store.KeyNext) {
			return Revocation{}, fmt.Errorf("%w: %s is the only %s key and there is no next key to take over; run the server once, or Ensure, first",
				ErrNoKey, kid, r.Alg)
		}
		rec, err := k.newRecord(r.Alg, store.KeyNext)
		if err != nil {
			return Revocation{}, err
		}
		newNext = &rec
	}
	defer k.invalidate()
	before, err := k.st.RevokeSigningKey(ctx, kid, newNext, k.now().UTC())
	if err != nil {
		return Revocation{}, fmt.Errorf("token: revoking signing key %s: %w", kid, err)
	}
	out := Revocation{Revoked: KeyInfo{KID: before.KID, Alg: before.Alg, State: before.State, CreatedAt: before.CreatedAt,
		ActivatedAt: before.ActivatedAt, PublishUntil: before.PublishUntil}}
	if recs, err = k.st.ListSigningKeys(ctx); err != nil {
		return out, fmt.Errorf("token: listing signing keys: %w", err)
	}
	if j := slices.IndexFunc(recs, func(r store.SigningKey) bool { return r.Alg == before.Alg && r.State == store.KeyCurrent }); j >= 0 {
		out.Current = recs[j].KID
	}
	return out, nil
}

// List returns every stored key, retired ones included, ordered as the store orders them.
func (k *Keys) List(ctx context.Context) ([]KeyInfo, error) {
	recs, err := k.st.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("token: listing signing keys: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]KeyInfo, 0, len(recs))
	for _, r := range recs {
		lk, err := k.load(r)
		if err != nil {
			return nil, err
		}
		cert, err := lk.certificate(r.CreatedAt)
		if err != nil {
			return nil, err
		}
		out = append(out, KeyInfo{
			KID: r.KID, Alg: r.Alg, State: r.State, CreatedAt: r.CreatedAt,
			ActivatedAt: r.ActivatedAt, PublishUntil: r.PublishUntil, Thumbprint: lk.thumb, Certificate: cert,
		})
	}
	return out, nil
}

// JWKS returns the public key set (RFC 7517 §5) as served at /.well-known/jwks.json: every
// next, current and still-published previous key, RSA keys first (some clients only look at
// the first key), each with kty, kid, alg and use "sig". Private parts are never included.
// The document is built once per store read; each call gets its own copy.
func (k *Keys) JWKS(ctx context.Context) ([]byte, error) {
	s, err := k.get(ctx)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(s.jwks), nil
}

// Sign signs claims with the current key of alg. The header carries alg, kid and typ.
func (k *Keys) Sign(ctx context.Context, alg, typ string, claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("token: encoding claims: %w", err)
	}
	return k.SignPayload(ctx, alg, typ, payload)
}

// SignPayload is Sign for claims already encoded as a JSON object.
func (k *Keys) SignPayload(ctx context.Context, alg, typ string, payload []byte) (string, error) {
	s, err := k.get(ctx)
	if err != nil {
		return "", err
	}
	lk := s.current[alg]
	if lk == nil {
		if !SupportedAlg(alg) {
			return "", fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
		}
		return "", fmt.Errorf("%w: %s", ErrNoKey, alg)
	}
	signer, err := lk.signer(typ)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("token: signing with %s: %w", lk.kid, err)
	}
	return jws.CompactSerialize()
}

// Verify checks a compact JWS signed by one of the keys in our JWKS and returns its claims
// (JSON numbers as float64). algs restricts the accepted algorithms (none: any of Algs); "none"
// and HMAC are never accepted here. The key is found by the header's kid and must be a key for
// the header's alg. Verify does not judge exp, nbf, iss or aud: see ValidateTime.
func (k *Keys) Verify(ctx context.Context, raw string, algs ...string) (map[string]any, error) {
	allowed := make([]jose.SignatureAlgorithm, 0, len(Algs))
	for _, a := range Algs {
		if len(algs) == 0 || slices.Contains(algs, a) {
			allowed = append(allowed, jose.SignatureAlgorithm(a))
		}
	}
	if len(allowed) == 0 {
		return nil, fmt.Errorf("%w: none of %v", ErrUnsupportedAlg, algs)
	}
	if len(raw) > maxTokenSize {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, maxTokenSize)
	}
	jws, err := jose.ParseSignedCompact(raw, allowed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	h := jws.Signatures[0].Header
	s, err := k.get(ctx)
	if err != nil {
		return nil, err
	}
	pk, ok := s.published[h.KeyID]
	if !ok || pk.key.alg != h.Algorithm {
		return nil, fmt.Errorf("%w: no published %s key with kid %q", ErrInvalidToken, h.Algorithm, h.KeyID)
	}
	payload, err := jws.Verify(pk.key.public.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return decodeClaims(payload)
}

// decodeClaims parses a JWT claims set, which must be a JSON object (RFC 7519 §7.2 step 10).
func decodeClaims(payload []byte) (map[string]any, error) {
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, fmt.Errorf("%w: claims are not a JSON object", ErrInvalidToken)
	}
	return claims, nil
}

// ValidateTime checks the exp (required) and nbf (optional) claims of a verified token against
// now, allowing leeway for clock skew (RFC 7519 §4.1.4, §4.1.5).
func ValidateTime(claims map[string]any, now time.Time, leeway time.Duration) error {
	exp, ok := numericDate(claims["exp"])
	if !ok {
		return fmt.Errorf("%w: exp is missing or not a number", ErrInvalidToken)
	}
	if !now.Before(exp.Add(leeway)) {
		return fmt.Errorf("%w at %s", ErrExpired, exp.UTC().Format(time.RFC3339))
	}
	if v, present := claims["nbf"]; present {
		nbf, ok := numericDate(v)
		if !ok {
			return fmt.Errorf("%w: nbf is not a number", ErrInvalidToken)
		}
		if nbf.After(now.Add(leeway)) {
			return fmt.Errorf("%w before %s", ErrNotYetValid, nbf.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// numericDate reads a JWT NumericDate (RFC 7519 §2): seconds since the epoch, possibly
// fractional.
func numericDate(v any) (time.Time, bool) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return time.Time{}, false
		}
	case int64:
		f = float64(n)
	case int:
		f = float64(n)
	default:
		return time.Time{}, false
	}
	// Beyond ±2^53 s the value is nonsense and time.Unix would overflow.
	if f != f || f > 1<<53 || f < -(1<<53) {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), true
}

// invalidate makes the next use re-read the store (after this process changed it).
func (k *Keys) invalidate() { k.snap.Store(nil) }

// get returns the keys in effect, reading the store when the cached view is older than
// RefreshInterval. While one caller reloads, others keep using the stale view rather than
// queueing behind the store.
func (k *Keys) get(ctx context.Context) (*snapshot, error) {
	now := k.now()
	s := k.snap.Load()
	if s != nil && fresh(s, now) {
		return s, nil
	}
	if s != nil {
		if !k.mu.TryLock() {
			return s, nil
		}
	} else {
		k.mu.Lock()
	}
	defer k.mu.Unlock()
	if s := k.snap.Load(); s != nil && fresh(s, now) {
		return s, nil
	}
	s, err := k.reload(ctx)
	if err != nil {
		return nil, err
	}
	k.snap.Store(s)
	return s, nil
}

func fresh(s *snapshot, now time.Time) bool {
	return !now.Before(s.at) && now.Sub(s.at) < RefreshInterval
}

// reload reads the keys from the store; k.mu is held.
func (k *Keys) reload(ctx context.Context) (*snapshot, error) {
	recs, err := k.st.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("token: listing signing keys: %w", err)
	}
	now := k.now()
	s := &snapshot{at: now, current: map[string]*loadedKey{}, published: map[string]publishedKey{}}
	var pub []publishedKey
	for _, r := range recs {
		switch {
		case r.State == store.KeyCurrent, r.State == store.KeyNext:
		case r.State == store.KeyPrevious && now.Before(r.PublishUntil):
		default:
			continue
		}
		lk, err := k.load(r)
		if err != nil {
			return nil, err
		}
		if r.State == store.KeyCurrent {
			s.current[r.Alg] = lk
		}
		p := publishedKey{state: r.State, key: lk}
		s.published[r.KID] = p
		pub = append(pub, p)
	}
	slices.SortStableFunc(pub, func(a, b publishedKey) int {
		return cmp.Or(
			cmp.Compare(ktyRank(a.key.alg), ktyRank(b.key.alg)),
			cmp.Compare(algRank(a.key.alg), algRank(b.key.alg)),
			cmp.Compare(stateRank(a.state), stateRank(b.state)),
		)
	})
	var buf bytes.Buffer
	buf.WriteString(`{"keys":[`)
	for i, p := range pub {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(p.key.jwkJSON)
	}
	buf.WriteString("]}")
	s.jwks = buf.Bytes()
	return s, nil
}

// ktyRank puts RSA keys first: several libraries only try the first key of a set.
func ktyRank(alg string) int {
	switch alg {
	case "RS256", "PS256", "RS512":
		return 0
	case "ES256":
		return 1
	}
	return 2
}

func algRank(alg string) int { return slices.Index(Algs, alg) }

// stateRank puts the signing key first, then the one that signs next, then the retiring ones.
func stateRank(state string) int {
	switch state {
	case store.KeyCurrent:
		return 0
	case store.KeyNext:
		return 1
	}
	return 2
}

// load unseals a key, or returns it from memory; k.mu is held.
func (k *Keys) load(r store.SigningKey) (*loadedKey, error) {
	if lk, ok := k.loaded[r.KID]; ok && lk.alg == r.Alg {
		return lk, nil
	}
	der, err := k.box.Open(r.PrivateSealed, store.SigningKeyAAD(r.KID))
	if err != nil {
		return nil, fmt.Errorf("token: signing key %s (%s): %w", r.KID, r.Alg, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("token: signing key %s: not a PKCS#8 private key: %w", r.KID, err)
	}
	if err := checkKeyType(r.Alg, parsed); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", r.KID, err)
	}
	priv := parsed.(crypto.Signer) // every type checkKeyType accepts is a crypto.Signer
	thumb, err := thumbprint(priv.Public())
	if err != nil {
		return nil, err
	}
	lk := &loadedKey{
		kid:    r.KID,
		alg:    r.Alg,
		priv:   priv,
		public: jose.JSONWebKey{Key: priv.Public(), KeyID: r.KID, Algorithm: r.Alg, Use: "sig"},
		thumb:  thumb,
	}
	if lk.jwkJSON, err = lk.public.MarshalJSON(); err != nil {
		return nil, err
	}
	k.loaded[r.KID] = lk
	return lk, nil
}

// signer returns a go-jose signer for this key and typ header, made once per typ.
func (lk *loadedKey) signer(typ string) (jose.Signer, error) {
	if m := lk.signers.Load(); m != nil {
		if s, ok := (*m)[typ]; ok {
			return s, nil
		}
	}
	lk.signersMu.Lock()
	defer lk.signersMu.Unlock()
	old := lk.signers.Load()
	if old != nil {
		if s, ok := (*old)[typ]; ok {
			return s, nil
		}
	}
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(lk.alg),
		Key:       jose.JSONWebKey{Key: lk.priv, KeyID: lk.kid, Algorithm: lk.alg},
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("token: signer for %s: %w", lk.kid, err)
	}
	m := map[string]jose.Signer{typ: s}
	if old != nil {
		for t, v := range *old {
			m[t] = v
		}
	}
	lk.signers.Store(&m)
	return s, nil
}
