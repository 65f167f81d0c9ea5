package oauthserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

func refreshForm(rt string, kv ...string) url.Values {
	f := url.Values{"grant_type": {"refresh_token"}, "client_id": {appID}, "client_secret": {appSecret}, "refresh_token": {rt}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func (e *env) setPolicy(p store.RefreshTokenPolicy) {
	e.t.Helper()
	if err := e.st.UpdateClient(context.Background(), appID, func(c *store.Client) error { c.RefreshToken = p; return nil }); err != nil {
		e.t.Fatal(err)
	}
}

func wantInvalidRefresh(t *testing.T, r response, desc string) {
	t.Helper()
	if r.Status != http.StatusForbidden || r.str("error") != "invalid_grant" || r.str("error_description") != desc {
		t.Fatalf("got %d %s, want 403 invalid_grant %q", r.Status, r.Raw, desc)
	}
}

const invalidRefresh = "Unknown or invalid refresh token."

func TestRefreshRotationAndReuse(t *testing.T) {
	e := newEnv(t)
	rt1 := e.login("scope", "openid offline_access").str("refresh_token")
	r := e.postForm("/oauth/token", refreshForm(rt1))
	if r.Status != 200 {
		t.Fatalf("first refresh: %d %s", r.Status, r.Raw)
	}
	rt2 := r.str("refresh_token")
	if rt2 == "" || rt2 == rt1 {
		t.Fatalf("rotation: got refresh_token %q, want a new one", rt2)
	}
	at := e.verify(r.str("access_token"))
	if at.Claims["gty"] != "refresh_token" || at.Claims["sub"] != e.alice {
		t.Errorf("refreshed access token claims = %v", at.Claims)
	}
	if r.str("id_token") == "" {
		t.Error("refresh with openid: no id_token")
	}
	// The rotated token is presented again: the family dies, for the thief and the owner.
	wantInvalidRefresh(t, e.postForm("/oauth/token", refreshForm(rt1)), invalidRefresh)
	wantInvalidRefresh(t, e.postForm("/oauth/token", refreshForm(rt2)), invalidRefresh)
	// A second login (another device) is a separate family, unaffected.
	rt3 := e.login("scope", "offline_access").str("refresh_token")
	if r := e.postForm("/oauth/token", refreshForm(rt3)); r.Status != 200 {
		t.Fatalf("other family: %d %s", r.Status, r.Raw)
	}
	logs := e.tenantLogs("ferrt")
	if len(logs) != 1 || logs[0].UserID != e.alice {
		t.Errorf("ferrt events = %+v, want one for alice", logs)
	}
}

func TestRefreshLeeway(t *testing.T) {
	e := newEnv(t)
	e.setPolicy(store.RefreshTokenPolicy{RotationType: "rotating", Leeway: 30})
	rt1 := e.login("scope", "offline_access").str("refresh_token")
	if r := e.postForm("/oauth/token", refreshForm(rt1)); r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Raw)
	}
	e.clock.Advance(10 * time.Second)
	r := e.postForm("/oauth/token", refreshForm(rt1))
	if r.Status != 200 || r.str("refresh_token") == "" {
		t.Fatalf("retry within leeway: %d %s", r.Status, r.Raw)
	}
	e.clock.Advance(30 * time.Second)
	wantInvalidRefresh(t, e.postForm("/oauth/token", refreshForm(rt1)), invalidRefresh)
	wantInvalidRefresh(t, e.postForm("/oauth/token", refreshForm(r.str("refresh_token"))), invalidRefresh)
}

func TestRefreshConcurrentRedeem(t *testing.T) {
	e := newEnv(t)
	rt := e.login("scope", "offline_access").str("refresh_token")
	var wg sync.WaitGroup
	statuses := make([]int, 6)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.postForm("/oauth/token", refreshForm(rt)).Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == 200 {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("statuses %v: %d successes, want exactly 1", statuses, ok)
	}
}

func TestRefreshLifetimesAndUsers(t *testing.T) {
	tests := []struct {
		name   string
		policy store.RefreshTokenPolicy
		act    func(e *env)
		desc   string // "" = success
		noRT   bool   // success without a new refresh token (non-rotating)
	}{
		{name: "non-rotating keeps the token", policy: store.RefreshTokenPolicy{RotationType: "non-rotating"}, noRT: true},
		{name: "idle lifetime", policy: store.RefreshTokenPolicy{RotationType: "rotating", IdleTokenLifetime: 60},
			act: func(e *env) { e.clock.Advance(61 * time.Second) }, desc: invalidRefresh},
		{name: "within idle lifetime", policy: store.RefreshTokenPolicy{RotationType: "rotating", IdleTokenLifetime: 60},
			act: func(e *env) { e.clock.Advance(59 * time.Second) }},
		{name: "absolute lifetime", policy: store.RefreshTokenPolicy{RotationType: "rotating", TokenLifetime: 120, IdleTokenLifetime: 1000},
			act: func(e *env) { e.clock.Advance(121 * time.Second) }, desc: invalidRefresh},
		{name: "non-expiring", policy: store.RefreshTokenPolicy{RotationType: "rotating", ExpirationType: "non-expiring"},
			act: func(e *env) { e.clock.Advance(400 * 24 * time.Hour) }},
		{name: "blocked user", policy: store.RefreshTokenPolicy{RotationType: "rotating"}, act: func(e *env) {
			if err := e.st.UpdateUser(context.Background(), e.alice, func(u *store.User) error { u.Blocked = true; return nil }); err != nil {
				e.t.Fatal(err)
			}
		}, desc: "user is blocked"},
		{name: "deleted user", policy: store.RefreshTokenPolicy{RotationType: "rotating"}, act: func(e *env) {
			if err := e.st.DeleteUser(context.Background(), e.alice); err != nil {
				e.t.Fatal(err)
			}
		}, desc: "The refresh_token was generated for a user who doesn't exist anymore."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.setPolicy(tt.policy)
			rt := e.login("scope", "offline_access").str("refresh_token")
			if tt.act != nil {
				tt.act(e)
			}
			r := e.postForm("/oauth/token", refreshForm(rt))
			if tt.desc != "" {
				wantInvalidRefresh(t, r, tt.desc)
				return
			}
			if r.Status != 200 {
				t.Fatalf("got %d %s, want 200", r.Status, r.Raw)
			}
			if got := r.str("refresh_token") == ""; got != tt.noRT {
				t.Fatalf("refresh_token absent = %v, want %v (%s)", got, tt.noRT, r.Raw)
			}
			if tt.noRT { // the same token keeps working
				if r := e.postForm("/oauth/token", refreshForm(rt)); r.Status != 200 {
					t.Fatalf("second use of a non-rotating token: %d %s", r.Status, r.Raw)
				}
			}
		})
	}
}

func TestRefreshScopes(t *testing.T) {
	e := newEnv(t)
	rt := e.login("scope", "openid offline_access").str("refresh_token")
	r := e.postForm("/oauth/token", refreshForm(rt, "scope", "read:sample"))
	if r.Status != 200 || r.str("scope") != "read:sample" || r.str("id_token") != "" {
		t.Fatalf("narrowing: %d %s", r.Status, r.Raw)
	}
	r = e.postForm("/oauth/token", refreshForm(r.str("refresh_token"), "scope", "read:sample admin"))
	if r.Status != 400 || r.str("error") != "invalid_scope" {
		t.Fatalf("widening: got %d %s, want 400 invalid_scope", r.Status, r.Raw)
	}
	// Another client cannot use the token.
	rt = e.login("scope", "offline_access").str("refresh_token")
	f := refreshForm(rt, "client_id", spaID)
	f.Del("client_secret")
	wantInvalidRefresh(t, e.postForm("/oauth/token", f), invalidRefresh)
}

// TestSpentTokenAfterSwitchToNonRotating: a token rotated while the client rotated stays spent
// after the client is switched to non-rotating tokens. Presenting it is reuse (RFC 9700
// §4.14.2): 403 invalid_grant, a ferrt event, and the family dies, so the successor the
// client kept is refused too (Decision: same as reuse under rotation, also within the leeway:
// a spent token never comes back to life, whatever today's policy).
func TestSpentTokenAfterSwitchToNonRotating(t *testing.T) {
	for _, leeway := range []int{0, 60} {
		t.Run(fmt.Sprintf("leeway %d", leeway), func(t *testing.T) {
			e := newEnv(t)
			e.setPolicy(store.RefreshTokenPolicy{RotationType: "rotating", Leeway: leeway})
			rt1 := e.login("scope", "offline_access").str("refresh_token")
			r := e.postForm("/oauth/token", refreshForm(rt1))
			rt2 := r.str("refresh_token")
			if r.Status != http.StatusOK || rt2 == "" || rt2 == rt1 {
				t.Fatalf("rotating refresh: got %d %s, want 200 with a new refresh token", r.Status, r.Raw)
			}
			e.setPolicy(store.RefreshTokenPolicy{RotationType: "non-rotating", Leeway: leeway})
			e.clock.Advance(time.Second)

			wantInvalidRefresh(t, e.postForm("/oauth/token", refreshForm(rt1)), invalidRefresh)
			if ev := e.lastLog("ferrt"); ev.UserID != e.alice {
				t.Errorf("ferrt event: got user %q, want %q", ev.UserID, e.alice)
			}
			wantInvalidRefresh(t, e.postForm("/oauth/token", refreshForm(rt2)), invalidRefresh)
			wantInvalidRefresh(t, e.postForm("/oauth/token", refreshForm(rt1)), invalidRefresh)
		})
	}
}
