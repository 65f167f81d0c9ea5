// Package loadgen is the engine of `sesame bench`: it drives a running Sesame server over HTTP
// with one token-endpoint scenario at a fixed concurrency or a fixed rate, always bounded in
// time and count, and reports throughput, latency percentiles and errors by OAuth error code.
//
// It also measures the crypto floor of this machine (floor.go: one argon2id verification and
// one signature per algorithm, with the server's own packages) so that a run reports its
// efficiency: the share of the cores' crypto capacity that turned into answered requests. The
// server's CPU time and peak memory come from /proc when it is a local process (proc.go), and
// Setup (setup.go) creates a bench tenant directly in a store.
package loadgen

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Scenarios are the request mixes Run knows.
var Scenarios = []string{"password", "realm", "refresh", "assertion", "userinfo", "mixed"}

// Request kinds: what one measured request was. A scenario issues one kind, mixed several.
const (
	KindPassword  = "password"
	KindRealm     = "realm"
	KindRefresh   = "refresh"
	KindAssertion = "assertion"
	KindUserinfo  = "userinfo"
)

// Grant types (WIRE.md §1) and RFC 7523's client assertion type.
const (
	grantPassword = "password"
	grantRealm    = "http://auth0.com/oauth/grant-type/password-realm"
	grantRefresh  = "refresh_token"
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// ErrBadOptions is returned by Run for options it cannot honour.
var ErrBadOptions = errors.New("loadgen: bad options")

// Credential is one user's login.
type Credential struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Target is the server and the tenant objects a run uses.
type Target struct {
	// URL is the server's base URL (http://127.0.0.1:3000/).
	URL string
	// Issuer is the server's issuer, the audience of client assertions; read from discovery
	// when empty and the assertion scenario needs it.
	Issuer       string
	ClientID     string
	ClientSecret string
	// Audience is the API identifier tokens are asked for.
	Audience string
	// APIAlg is the API's signing algorithm (for the cost formula); empty means RS256.
	APIAlg string
	// Realm is the connection name the realm scenario sends.
	Realm string
	Users []Credential
	// AssertionClientID and AssertionKey are a private_key_jwt client and its ES256 key.
	AssertionClientID string
	AssertionKey      *ecdsa.PrivateKey
}

// Options shape a run.
type Options struct {
	Scenario string
	// Concurrency is the number of workers (closed loop), or the cap on requests in flight in
	// rate mode; default 8.
	Concurrency int
	// Rate, when positive, issues this many requests per second whatever the answers' speed;
	// a request that finds every worker busy is dropped and counted.
	Rate float64
	// Duration bounds the measured phase; default 10s, at most 1h.
	Duration time.Duration
	// MaxRequests bounds the measured requests; 0 means only the duration bounds the run.
	MaxRequests int
	// Timeout bounds one request; default 10s.
	Timeout time.Duration
	// Scope is sent with logins; default "openid profile email", plus offline_access for the
	// scenarios that need refresh tokens.
	Scope string
	// Client is the HTTP client; nil means one sized for Concurrency.
	Client *http.Client
	// Measuring, if set, is called just before the measured phase starts (true) and just
	// after it ends (false), after the warm-up logins: where the caller samples the server's
	// resource use, so that those logins' password hashes are not charged to the run.
	Measuring func(start bool)
}

// Result is what a run measured.
type Result struct {
	Scenario    string  `json:"scenario"`
	Mode        string  `json:"mode"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate,omitempty"`
	// Elapsed is the measured phase, from the first request to the last answer.
	Elapsed time.Duration `json:"-"`
	// Requests counts measured requests that got an answer or a transport error.
	Requests  int `json:"requests"`
	Successes int `json:"successes"`
	// Errors counts failed requests by OAuth error code, "http_NNN" for an answer without one,
	// and "transport" for requests that got no answer.
	Errors map[string]int `json:"errors"`
	// Dropped counts rate-mode requests not sent because every worker was busy.
	Dropped int `json:"dropped"`
	// Relogins counts logins done between measured requests (a refresh chain broken by an
	// error is started again); they are not measured.
	Relogins int `json:"relogins"`
	// Kinds counts successes per request kind.
	Kinds   map[string]int `json:"kinds"`
	Latency Latency        `json:"latency_ms"`
}

// Throughput is successful requests per second of the measured phase.
func (r *Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Successes) / r.Elapsed.Seconds()
}

// TransportErrors is how many requests got no HTTP answer.
func (r *Result) TransportErrors() int { return r.Errors["transport"] }

// Latency summarises the latencies of answered requests, in milliseconds.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	q := func(p float64) float64 {
		i := int(p*float64(len(ds))+0.5) - 1
		return ms(ds[min(max(i, 0), len(ds)-1)])
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Latency{Mean: ms(sum / time.Duration(len(ds))), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: ms(ds[len(ds)-1])}
}

func (o *Options) normalize(t *Target) error {
	if !slices.Contains(Scenarios, o.Scenario) {
		return fmt.Errorf("%w: scenario %q is not one of %s", ErrBadOptions, o.Scenario, strings.Join(Scenarios, ", "))
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Concurrency > 4096 {
		return fmt.Errorf("%w: concurrency %d is above 4096", ErrBadOptions, o.Concurrency)
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Duration > time.Hour {
		return fmt.Errorf("%w: duration %s is above 1h", ErrBadOptions, o.Duration)
	}
	if o.Rate < 0 || o.Rate > 1e6 {
		return fmt.Errorf("%w: rate %g/s is out of range", ErrBadOptions, o.Rate)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Scope == "" {
		o.Scope = "openid profile email"
		if o.Scenario != KindPassword && o.Scenario != KindRealm {
			o.Scope += " offline_access"
		}
	}
	if len(t.Users) == 0 {
		return fmt.Errorf("%w: no users to log in with", ErrBadOptions)
	}
	if t.URL == "" || t.ClientID == "" {
		return fmt.Errorf("%w: the target needs a URL and a client id", ErrBadOptions)
	}
	if o.Scenario == KindRealm && t.Realm == "" {
		return fmt.Errorf("%w: the realm scenario needs a realm (connection name)", ErrBadOptions)
	}
	if o.Scenario == KindAssertion && (t.AssertionClientID == "" || t.AssertionKey == nil) {
		return fmt.Errorf("%w: the assertion scenario needs a private_key_jwt client and its key (--setup makes one)", ErrBadOptions)
	}
	if !strings.HasSuffix(t.URL, "/") {
		t.URL += "/"
	}
	return nil
}

// runner is one run's shared state.
type runner struct {
	t      Target
	o      Options
	client *http.Client
	signer jose.Signer // client assertions; nil unless the scenario needs it

	issued atomic.Int64 // measured requests started (for MaxRequests)
}

// worker holds one simulated client's tokens.
type worker struct {
	r       *runner
	rnd     *mrand.Rand
	refresh string // the newest refresh token, as rotation requires
	access  string // an access token valid at /userinfo
	lat     []time.Duration
	errs    map[string]int
	kinds   map[string]int
	relogin int
	reqs    int
	ok      int
}

// Run drives the target with o's scenario until o's duration or request count is spent.
// Workers first get the tokens their scenario starts from (not measured); ctx ending stops
// the run early.
func Run(ctx context.Context, t Target, o Options) (*Result, error) {
	if err := o.normalize(&t); err != nil {
		return nil, err
	}
	r := &runner{t: t, o: o, client: o.Client}
	if r.client == nil {
		tr := &http.Transport{MaxIdleConns: o.Concurrency * 2, MaxIdleConnsPerHost: o.Concurrency * 2,
			IdleConnTimeout: time.Minute}
		r.client = &http.Client{Transport: tr}
		defer tr.CloseIdleConnections()
	}
	if o.Scenario == KindAssertion {
		if err := r.prepareAssertion(ctx); err != nil {
			return nil, err
		}
	}
	workers := make([]*worker, o.Concurrency)
	for i := range workers {
		workers[i] = &worker{r: r, rnd: mrand.New(mrand.NewPCG(uint64(i)+1, uint64(time.Now().UnixNano()))),
			errs: map[string]int{}, kinds: map[string]int{}}
	}
	// Warm-up: every worker gets the tokens its scenario continues from, in parallel.
	var wg sync.WaitGroup
	warmErrs := make([]error, len(workers))
	for i, w := range workers {
		wg.Go(func() { warmErrs[i] = w.warmUp(ctx) })
	}
	wg.Wait()
	if err := errors.Join(warmErrs...); err != nil {
		return nil, fmt.Errorf("loadgen: warm-up logins failed: %w", err)
	}

	if o.Measuring != nil {
		o.Measuring(true)
	}
	runCtx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var dropped int
	start := time.Now()
	if o.Rate > 0 {
		// The open loop counts its slots from the rate and the duration, not from runCtx's
		// deadline: a loop woken late with both its timer and the deadline ready would pick one
		// at random and schedule a slot more or fewer.
		dropped = r.openLoop(ctx, workers)
	} else {
		for _, w := range workers {
			wg.Go(func() {
				for runCtx.Err() == nil && r.take() {
					w.step(ctx, time.Now())
				}
			})
		}
		wg.Wait()
	}
	elapsed := time.Since(start)
	if o.Measuring != nil {
		o.Measuring(false)
	}

	res := &Result{Scenario: o.Scenario, Mode: "concurrency", Concurrency: o.Concurrency, Elapsed: elapsed,
		Errors: map[string]int{}, Kinds: map[string]int{}, Dropped: dropped}
	if o.Rate > 0 {
		res.Mode, res.Rate = "rate", o.Rate
	}
	var all []time.Duration
	for _, w := range workers {
		res.Requests += w.reqs
		res.Successes += w.ok
		res.Relogins += w.relogin
		for k, n := range w.errs {
			res.Errors[k] += n
		}
		for k, n := range w.kinds {
			res.Kinds[k] += n
		}
		all = append(all, w.lat...)
	}
	res.Latency = summarize(all)
	return res, nil
}

// take reserves one measured request under MaxRequests.
func (r *runner) take() bool {
	return r.o.MaxRequests <= 0 || r.issued.Add(1) <= int64(r.o.MaxRequests)
}

// openLoop issues requests at the fixed rate; latency counts from the scheduled start, so a
// slow server is not hidden by requests that waited to be sent (coordinated omission).
func (r *runner) openLoop(ctx context.Context, workers []*worker) int {
	due := make(chan time.Time, len(workers))
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for at := range due {
				w.step(context.WithoutCancel(ctx), at)
			}
		})
	}
	interval := time.Duration(float64(time.Second) / r.o.Rate)
	dropped := 0
	start := time.Now()
	end := start.Add(r.o.Duration)
loop:
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if !at.Before(end) {
			break
		}
		if d := time.Until(at); d > 0 {
			select {
			case <-ctx.Done():
				break loop
			case <-time.After(d):
			}
		} else if ctx.Err() != nil {
			break
		}
		if !r.take() {
			break
		}
		select {
		case due <- at:
		default:
			dropped++
		}
	}
	close(due)
	wg.Wait()
	return dropped
}

// warmUp gets the tokens the scenario starts from.
func (w *worker) warmUp(ctx context.Context) error {
	switch w.r.o.Scenario {
	case KindRefresh, KindUserinfo, KindMixed:
		return w.login(ctx, false)
	case KindAssertion:
		return w.login(ctx, true)
	}
	return nil
}

// KindMixed is the mixed scenario: per request, 10% password, 60% refresh, 30% userinfo.
const KindMixed = "mixed"

// step sends one measured request that started (or was due) at start.
func (w *worker) step(ctx context.Context, start time.Time) {
	kind := w.r.o.Scenario
	if kind == KindMixed {
		switch n := w.rnd.IntN(10); {
		case n < 1:
			kind = KindPassword
		case n < 7:
			kind = KindRefresh
		default:
			kind = KindUserinfo
		}
	}
	if (kind == KindRefresh || kind == KindAssertion) && w.refresh == "" || kind == KindUserinfo && w.access == "" {
		// A chain broken by an earlier error starts again, outside the measurement.
		w.relogin++
		if err := w.login(ctx, kind == KindAssertion); err != nil {
			w.reqs++
			w.errs["login_failed"]++
			return
		}
		start = time.Now()
	}
	code, err := w.send(ctx, kind)
	w.reqs++
	if err != nil {
		w.errs["transport"]++
		return
	}
	w.lat = append(w.lat, time.Since(start))
	if code != "" {
		w.errs[code]++
		return
	}
	w.ok++
	w.kinds[kind]++
}

// login runs an unmeasured password grant (by the assertion client when assertion is set)
// for a random user and keeps its tokens.
func (w *worker) login(ctx context.Context, assertion bool) error {
	form := w.passwordForm(false)
	if assertion {
		form.Del("client_secret")
		if err := w.r.authAssertion(form); err != nil {
			return err
		}
	}
	tok, code, err := w.r.postToken(ctx, form)
	if err != nil {
		return err
	}
	if code != "" {
		return fmt.Errorf("login: %s", code)
	}
	w.refresh, w.access = tok.RefreshToken, tok.AccessToken
	if w.r.o.Scenario != KindUserinfo && w.refresh == "" && w.r.o.Scenario != KindPassword {
		return errors.New("login: no refresh_token in the answer (does the API allow offline access?)")
	}
	return nil
}

func (w *worker) passwordForm(realm bool) url.Values {
	u := w.r.t.Users[w.rnd.IntN(len(w.r.t.Users))]
	f := url.Values{"grant_type": {grantPassword}, "client_id": {w.r.t.ClientID},
		"username": {u.Username}, "password": {u.Password}, "scope": {w.r.o.Scope}}
	if w.r.t.ClientSecret != "" {
		f.Set("client_secret", w.r.t.ClientSecret)
	}
	if w.r.t.Audience != "" {
		f.Set("audience", w.r.t.Audience)
	}
	if realm {
		f.Set("grant_type", grantRealm)
		f.Set("realm", w.r.t.Realm)
	}
	return f
}

// send issues one request of kind and returns the OAuth error code of a failure ("" on
// success), or a transport error.
func (w *worker) send(ctx context.Context, kind string) (string, error) {
	switch kind {
	case KindUserinfo:
		return w.r.userinfo(ctx, w.access)
	case KindPassword, KindRealm:
		_, code, err := w.r.postToken(ctx, w.passwordForm(kind == KindRealm))
		return code, err
	}
	form := url.Values{"grant_type": {grantRefresh}, "refresh_token": {w.refresh}}
	if kind == KindAssertion {
		if err := w.r.authAssertion(form); err != nil {
			return "", err
		}
	} else {
		form.Set("client_id", w.r.t.ClientID)
		if w.r.t.ClientSecret != "" {
			form.Set("client_secret", w.r.t.ClientSecret)
		}
	}
	tok, code, err := w.r.postToken(ctx, form)
	if err != nil || code != "" {
		// The token may be spent or its family revoked: the next refresh starts a new chain.
		w.refresh = ""
		return code, err
	}
	w.refresh = tok.RefreshToken
	if tok.AccessToken != "" {
		w.access = tok.AccessToken
	}
	return "", nil
}

type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Error        string `json:"error"`
}

// postToken posts form to /oauth/token.
func (r *runner) postToken(ctx context.Context, form url.Values) (tokenAnswer, string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.t.URL+"oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return tokenAnswer{}, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := r.client.Do(req)
	if err != nil {
		return tokenAnswer{}, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return tokenAnswer{}, "", err
	}
	var tok tokenAnswer
	_ = json.Unmarshal(body, &tok)
	switch {
	case tok.Error != "":
		return tok, tok.Error, nil
	case res.StatusCode != http.StatusOK:
		return tok, fmt.Sprintf("http_%d", res.StatusCode), nil
	case tok.AccessToken == "":
		return tok, "no_access_token", nil
	}
	return tok, "", nil
}

// userinfo calls GET /userinfo with a bearer token; the error code of a refusal is in the
// WWW-Authenticate header (RFC 6750 §3) or the JSON body.
func (r *runner) userinfo(ctx context.Context, access string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.t.URL+"userinfo", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+access)
	res, err := r.client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if res.StatusCode == http.StatusOK {
		return "", nil
	}
	if _, after, ok := strings.Cut(res.Header.Get("WWW-Authenticate"), `error="`); ok {
		if code, _, ok := strings.Cut(after, `"`); ok {
			return code, nil
		}
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(bytes.TrimSpace(body), &e) == nil && e.Error != "" {
		return e.Error, nil
	}
	return fmt.Sprintf("http_%d", res.StatusCode), nil
}

// prepareAssertion makes the ES256 signer and learns the issuer, the assertions' audience.
func (r *runner) prepareAssertion(ctx context.Context) error {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: r.t.AssertionKey},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return err
	}
	r.signer = s
	if r.t.Issuer != "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.t.URL+".well-known/openid-configuration", nil)
	if err != nil {
		return err
	}
	res, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("loadgen: discovery: %w", err)
	}
	defer res.Body.Close()
	var d struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(res.Body).Decode(&d); err != nil || d.Issuer == "" {
		return fmt.Errorf("loadgen: discovery answered no issuer (status %d)", res.StatusCode)
	}
	r.t.Issuer = d.Issuer
	return nil
}

// authAssertion adds a fresh private_key_jwt client assertion (RFC 7523 §2.2, §3) to form,
// with a new jti so that the server's replay check passes.
func (r *runner) authAssertion(form url.Values) error {
	now := time.Now()
	claims, err := json.Marshal(map[string]any{
		"iss": r.t.AssertionClientID, "sub": r.t.AssertionClientID, "aud": r.t.Issuer,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": randomID(),
	})
	if err != nil {
		return err
	}
	jws, err := r.signer.Sign(claims)
	if err != nil {
		return err
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		return err
	}
	form.Set("client_id", r.t.AssertionClientID)
	form.Set("client_assertion_type", assertionType)
	form.Set("client_assertion", raw)
	return nil
}

// randomID is 16 random bytes in hex: a jti no one repeats.
func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
