package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

func family(id, user, client string) store.RefreshFamily {
	return store.RefreshFamily{ID: id, ClientID: client, UserID: user, Connection: "db", Audience: "https://api",
		Scope: "openid offline_access", AuthTime: at(-time.Minute), AMR: []string{"pwd", "mfa"}, CreatedAt: at(0)}
}

func token(hash string) store.RefreshToken {
	return store.RefreshToken{Hash: hash, CreatedAt: at(0)}
}

// seedFamily stores family f1 (user u1, client c1) with first token "h1" and returns the store.
func seedFamily(t *testing.T, newStore NewStore, edit func(*store.RefreshFamily, *store.RefreshToken)) store.Store {
	t.Helper()
	s := newStore(t)
	f, tok := family("f1", "u1", "c1"), token("h1")
	if edit != nil {
		edit(&f, &tok)
	}
	must(t, "CreateRefreshFamily", s.CreateRefreshFamily(t.Context(), f, tok))
	return s
}

func getToken(t *testing.T, s store.Store, hash string) (store.RefreshFamily, store.RefreshToken) {
	t.Helper()
	f, tok, err := s.GetRefreshToken(t.Context(), hash)
	must(t, "GetRefreshToken "+hash, err)
	return f, tok
}

func rotate(hash, next string, now time.Time, leeway time.Duration) store.Redemption {
	n := store.RefreshToken{Hash: next, CreatedAt: now, IdleExpiresAt: now.Add(time.Hour)}
	return store.Redemption{Hash: hash, Now: now, Leeway: leeway, Next: &n}
}

func testRefreshTokens(t *testing.T, newStore NewStore) {
	ctx := t.Context
	t.Run("create and get", func(t *testing.T) {
		s := seedFamily(t, newStore, func(f *store.RefreshFamily, tok *store.RefreshToken) {
			f.ExpiresAt = at(30 * 24 * time.Hour)
			tok.IdleExpiresAt = at(time.Hour)
			tok.FamilyID = "ignored: the store sets it"
		})
		f, tok := getToken(t, s, "h1")
		wantF := family("f1", "u1", "c1")
		wantF.ExpiresAt = at(30 * 24 * time.Hour)
		diff(t, "family", f, wantF)
		diff(t, "token", tok, store.RefreshToken{Hash: "h1", FamilyID: "f1", CreatedAt: at(0), IdleExpiresAt: at(time.Hour)})
		_, _, err := s.GetRefreshToken(ctx(), "nope")
		wantErr(t, "GetRefreshToken unknown", err, store.ErrNotFound)
	})
	t.Run("duplicate family conflicts", func(t *testing.T) {
		s := seedFamily(t, newStore, nil)
		wantErr(t, "CreateRefreshFamily", s.CreateRefreshFamily(ctx(), family("f1", "u1", "c1"), token("h2")), store.ErrConflict)
		_, _, err := s.GetRefreshToken(ctx(), "h2")
		wantErr(t, "GetRefreshToken of the refused family's token", err, store.ErrNotFound)
	})

	t.Run("redeem refusals", func(t *testing.T) {
		tests := []struct {
			name string
			edit func(*store.RefreshFamily, *store.RefreshToken)
			red  store.Redemption
			want error
		}{
			{"unknown token", nil, rotate("nope", "h2", at(time.Second), 0), store.ErrNotFound},
			{"revoked family", func(f *store.RefreshFamily, _ *store.RefreshToken) { f.RevokedAt = at(time.Second) },
				rotate("h1", "h2", at(2*time.Second), 0), store.ErrRevoked},
			{"revoked beats expired", func(f *store.RefreshFamily, _ *store.RefreshToken) {
				f.RevokedAt, f.ExpiresAt = at(time.Second), at(time.Second)
			}, rotate("h1", "h2", at(2*time.Second), 0), store.ErrRevoked},
			{"family expired", func(f *store.RefreshFamily, _ *store.RefreshToken) { f.ExpiresAt = at(time.Hour) },
				rotate("h1", "h2", at(time.Hour+time.Nanosecond), 0), store.ErrExpired},
			{"family expires at exactly now", func(f *store.RefreshFamily, _ *store.RefreshToken) { f.ExpiresAt = at(time.Hour) },
				rotate("h1", "h2", at(time.Hour), 0), store.ErrExpired},
			{"token idle expired", func(_ *store.RefreshFamily, tok *store.RefreshToken) { tok.IdleExpiresAt = at(time.Minute) },
				rotate("h1", "h2", at(2*time.Minute), 0), store.ErrExpired},
			{"non-rotating idle expired", func(_ *store.RefreshFamily, tok *store.RefreshToken) { tok.IdleExpiresAt = at(time.Minute) },
				store.Redemption{Hash: "h1", Now: at(2 * time.Minute)}, store.ErrExpired},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := seedFamily(t, newStore, tc.edit)
				_, err := s.RedeemRefreshToken(ctx(), tc.red)
				wantErr(t, "RedeemRefreshToken", err, tc.want)
				if _, _, err := s.GetRefreshToken(ctx(), "h2"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("next token after a refused redemption: got %v, want ErrNotFound", err)
				}
				if tc.want != store.ErrNotFound {
					if _, tok := getToken(t, s, "h1"); !tok.RotatedAt.IsZero() {
						t.Errorf("RotatedAt after a refused redemption: got %v, want zero", tok.RotatedAt)
					}
				}
			})
		}
	})

	t.Run("rotation", func(t *testing.T) {
		s := seedFamily(t, newStore, func(_ *store.RefreshFamily, tok *store.RefreshToken) { tok.IdleExpiresAt = at(time.Hour) })
		fam, err := s.RedeemRefreshToken(ctx(), rotate("h1", "h2", at(time.Minute), 0))
		must(t, "RedeemRefreshToken", err)
		diff(t, "returned family", fam, family("f1", "u1", "c1"))
		_, old := getToken(t, s, "h1")
		if !old.RotatedAt.Equal(at(time.Minute)) {
			t.Errorf("old RotatedAt: got %v, want %v", old.RotatedAt, at(time.Minute))
		}
		f, next := getToken(t, s, "h2")
		diff(t, "next token", next, store.RefreshToken{Hash: "h2", FamilyID: "f1", CreatedAt: at(time.Minute), IdleExpiresAt: at(time.Minute + time.Hour)})
		if f.ID != "f1" || !f.RevokedAt.IsZero() {
			t.Errorf("family of the next token: got %s revoked at %v, want f1 live", f.ID, f.RevokedAt)
		}
		// The successor rotates in turn.
		_, err = s.RedeemRefreshToken(ctx(), rotate("h2", "h3", at(2*time.Minute), 0))
		must(t, "RedeemRefreshToken of the successor", err)
	})

	t.Run("reuse", func(t *testing.T) {
		tests := []struct {
			name    string
			leeway  time.Duration
			after   time.Duration // between the rotation and the reuse
			wantErr error
		}{
			{"no leeway, same instant", 0, 0, store.ErrReused},
			{"outside the leeway", 30 * time.Second, 31 * time.Second, store.ErrReused},
			{"at the leeway's end", 30 * time.Second, 30 * time.Second, nil},
			{"within the leeway", 30 * time.Second, 10 * time.Second, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := seedFamily(t, newStore, nil)
				_, err := s.RedeemRefreshToken(ctx(), rotate("h1", "h2", at(time.Minute), tc.leeway))
				must(t, "first RedeemRefreshToken", err)
				fam, err := s.RedeemRefreshToken(ctx(), rotate("h1", "h3", at(time.Minute+tc.after), tc.leeway))
				wantErr(t, "second RedeemRefreshToken", err, tc.wantErr)
				f, _ := getToken(t, s, "h1")
				if tc.wantErr == nil {
					if !f.RevokedAt.IsZero() {
						t.Errorf("family after a retry within the leeway: got revoked at %v, want live", f.RevokedAt)
					}
					if _, next := getToken(t, s, "h3"); next.FamilyID != "f1" {
						t.Errorf("retry's next token FamilyID: got %q, want f1", next.FamilyID)
					}
					return
				}
				// The revocation is committed although the call failed.
				if !f.RevokedAt.Equal(at(time.Minute + tc.after)) {
					t.Errorf("family RevokedAt after reuse: got %v, want %v", f.RevokedAt, at(time.Minute+tc.after))
				}
				if fam.ID != "f1" || fam.UserID != "u1" {
					t.Errorf("family returned with ErrReused: got %q of %q, want f1 of u1", fam.ID, fam.UserID)
				}
				if _, _, err := s.GetRefreshToken(ctx(), "h3"); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("next token of a reuse: got %v, want ErrNotFound", err)
				}
				// The thief's successor token died with the family.
				_, err = s.RedeemRefreshToken(ctx(), rotate("h2", "h4", at(2*time.Minute), tc.leeway))
				wantErr(t, "redeeming the successor after reuse", err, store.ErrRevoked)
			})
		}
	})

	t.Run("non-rotating", func(t *testing.T) {
		tests := []struct {
			name     string
			idle     time.Time
			wantIdle time.Time
		}{
			{"renews the idle expiry", at(3 * time.Hour), at(3 * time.Hour)},
			{"zero keeps the idle expiry", time.Time{}, at(time.Hour)},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := seedFamily(t, newStore, func(_ *store.RefreshFamily, tok *store.RefreshToken) { tok.IdleExpiresAt = at(time.Hour) })
				for i := range 3 {
					_, err := s.RedeemRefreshToken(ctx(), store.Redemption{Hash: "h1", Now: at(time.Duration(i) * time.Minute), IdleExpiresAt: tc.idle})
					must(t, "RedeemRefreshToken", err)
				}
				_, tok := getToken(t, s, "h1")
				if !tok.IdleExpiresAt.Equal(tc.wantIdle) || !tok.RotatedAt.IsZero() {
					t.Errorf("token: got idle %v rotated %v, want idle %v and not rotated", tok.IdleExpiresAt, tok.RotatedAt, tc.wantIdle)
				}
			})
		}
	})

	t.Run("spent token after a switch to non-rotating", func(t *testing.T) {
		// A token rotated while the client rotated stays spent when the client no longer
		// rotates: presenting it is reuse, also within what was the leeway, and the family dies.
		for _, leeway := range []time.Duration{0, time.Hour} {
			t.Run(fmt.Sprintf("leeway %s", leeway), func(t *testing.T) {
				s := seedFamily(t, newStore, nil)
				_, err := s.RedeemRefreshToken(ctx(), rotate("h1", "h2", at(time.Minute), leeway))
				must(t, "rotating RedeemRefreshToken", err)
				red := store.Redemption{Hash: "h1", Now: at(2 * time.Minute), Leeway: leeway, IdleExpiresAt: at(time.Hour)}
				fam, err := s.RedeemRefreshToken(ctx(), red)
				wantErr(t, "non-rotating RedeemRefreshToken of the spent token", err, store.ErrReused)
				if !fam.RevokedAt.Equal(at(2 * time.Minute)) {
					t.Errorf("returned family RevokedAt: got %v, want %v", fam.RevokedAt, at(2*time.Minute))
				}
				if f, tok := getToken(t, s, "h1"); !f.RevokedAt.Equal(at(2*time.Minute)) || !tok.IdleExpiresAt.IsZero() {
					t.Errorf("after the replay: family revoked at %v, token idle %v; want revoked at %v and the idle expiry untouched",
						f.RevokedAt, tok.IdleExpiresAt, at(2*time.Minute))
				}
				red.Hash = "h2"
				_, err = s.RedeemRefreshToken(ctx(), red)
				wantErr(t, "non-rotating RedeemRefreshToken of the successor", err, store.ErrRevoked)
				red.Hash, red.Now = "h1", at(3*time.Minute)
				_, err = s.RedeemRefreshToken(ctx(), red)
				wantErr(t, "replaying the spent token again", err, store.ErrReused)
			})
		}
	})

	t.Run("concurrent rotation", func(t *testing.T) {
		tests := []struct {
			name        string
			leeway      time.Duration
			wantOK      int
			wantRevoked bool
		}{
			{"no leeway: exactly one wins, the family is revoked", 0, 1, true},
			{"leeway: every retry succeeds", 30 * time.Second, 8, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := seedFamily(t, newStore, nil)
				const n = 8
				errs := parallel(n, func(i int) error {
					_, err := s.RedeemRefreshToken(ctx(), rotate("h1", fmt.Sprint("next", i), at(time.Minute), tc.leeway))
					return err
				})
				ok := 0
				for i, err := range errs {
					switch {
					case err == nil:
						ok++
					case !errors.Is(err, store.ErrReused):
						t.Errorf("redemption %d: got %v, want nil or ErrReused", i, err)
					}
				}
				if ok != tc.wantOK {
					t.Errorf("successful redemptions: got %d, want %d (errors %v)", ok, tc.wantOK, errs)
				}
				f, _ := getToken(t, s, "h1")
				if got := !f.RevokedAt.IsZero(); got != tc.wantRevoked {
					t.Errorf("family revoked: got %v, want %v", got, tc.wantRevoked)
				}
			})
		}
	})

	t.Run("families per user and client are capped", func(t *testing.T) {
		s := newStore(t)
		limit := store.MaxFamiliesPerUserClient
		for i := range limit + 1 {
			f := family(fmt.Sprintf("f%03d", i), "u1", "c1")
			f.CreatedAt = at(time.Duration(i) * time.Second)
			must(t, "CreateRefreshFamily", s.CreateRefreshFamily(ctx(), f, token(fmt.Sprintf("h%03d", i))))
		}
		// Another client's and another user's families are not counted.
		must(t, "CreateRefreshFamily", s.CreateRefreshFamily(ctx(), family("other-client", "u1", "c2"), token("hc2")))
		must(t, "CreateRefreshFamily", s.CreateRefreshFamily(ctx(), family("other-user", "u2", "c1"), token("hu2")))
		for hash, wantRevoked := range map[string]bool{"h000": true, "h001": false, fmt.Sprintf("h%03d", limit): false, "hc2": false, "hu2": false} {
			f, _ := getToken(t, s, hash)
			if got := !f.RevokedAt.IsZero(); got != wantRevoked {
				t.Errorf("family of %s revoked: got %v, want %v", hash, got, wantRevoked)
			}
		}
		n, err := s.RevokeRefreshFamilies(ctx(), "u1", "c1", "", at(time.Hour))
		must(t, "RevokeRefreshFamilies", err)
		if n != limit {
			t.Errorf("live families of u1/c1: got %d, want %d", n, limit)
		}
	})

	t.Run("revoke family", func(t *testing.T) {
		s := seedFamily(t, newStore, nil)
		_, err := s.RedeemRefreshToken(ctx(), rotate("h1", "h2", at(time.Minute), 0))
		must(t, "RedeemRefreshToken", err)
		f, err := s.RevokeRefreshFamily(ctx(), "h2", at(time.Hour))
		must(t, "RevokeRefreshFamily", err)
		if f.ID != "f1" || !f.RevokedAt.Equal(at(time.Hour)) {
			t.Errorf("revoked family: got %s at %v, want f1 at %v", f.ID, f.RevokedAt, at(time.Hour))
		}
		// Revoking again keeps the first revocation time.
		f, err = s.RevokeRefreshFamily(ctx(), "h1", at(2*time.Hour))
		must(t, "RevokeRefreshFamily again", err)
		if !f.RevokedAt.Equal(at(time.Hour)) {
			t.Errorf("RevokedAt after a second revocation: got %v, want %v", f.RevokedAt, at(time.Hour))
		}
		_, err = s.RedeemRefreshToken(ctx(), rotate("h2", "h3", at(3*time.Hour), 0))
		wantErr(t, "RedeemRefreshToken after revocation", err, store.ErrRevoked)
		_, err = s.RevokeRefreshFamily(ctx(), "nope", at(0))
		wantErr(t, "RevokeRefreshFamily unknown", err, store.ErrNotFound)
	})

	t.Run("revoke families", func(t *testing.T) {
		tests := []struct {
			name                     string
			user, client, audience   string
			wantN                    int
			wantRevoked, wantLiveIDs []string
		}{
			{"every family of the user", "u1", "", "", 3, []string{"a", "b", "c"}, []string{"d"}},
			{"of one client", "u1", "c1", "", 2, []string{"a", "b"}, []string{"c", "d"}},
			{"of one client and audience", "u1", "c1", "https://other", 1, []string{"b"}, []string{"a", "c", "d"}},
			{"unknown user", "nobody", "", "", 0, nil, []string{"a", "b", "c", "d"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				for _, f := range []store.RefreshFamily{
					family("a", "u1", "c1"),
					func() store.RefreshFamily { f := family("b", "u1", "c1"); f.Audience = "https://other"; return f }(),
					family("c", "u1", "c2"),
					family("d", "u2", "c1"),
					func() store.RefreshFamily { f := family("e", "u1", "c1"); f.RevokedAt = at(-time.Hour); return f }(),
				} {
					must(t, "CreateRefreshFamily", s.CreateRefreshFamily(ctx(), f, token("h"+f.ID)))
				}
				n, err := s.RevokeRefreshFamilies(ctx(), tc.user, tc.client, tc.audience, at(time.Hour))
				must(t, "RevokeRefreshFamilies", err)
				if n != tc.wantN {
					t.Errorf("revoked: got %d, want %d", n, tc.wantN)
				}
				for _, id := range tc.wantRevoked {
					if f, _ := getToken(t, s, "h"+id); !f.RevokedAt.Equal(at(time.Hour)) {
						t.Errorf("family %s RevokedAt: got %v, want %v", id, f.RevokedAt, at(time.Hour))
					}
				}
				for _, id := range tc.wantLiveIDs {
					if f, _ := getToken(t, s, "h"+id); !f.RevokedAt.IsZero() {
						t.Errorf("family %s: got revoked at %v, want live", id, f.RevokedAt)
					}
				}
				if f, _ := getToken(t, s, "he"); !f.RevokedAt.Equal(at(-time.Hour)) {
					t.Errorf("already revoked family e: got RevokedAt %v, want it kept at %v", f.RevokedAt, at(-time.Hour))
				}
			})
		}
	})

	t.Run("delete expired", func(t *testing.T) {
		s := newStore(t)
		cutoff := at(10 * time.Hour)
		type fam struct {
			id   string
			edit func(*store.RefreshFamily, *store.RefreshToken)
			gone bool
		}
		fams := []fam{
			{"live-forever", nil, false},
			{"absolute-ended", func(f *store.RefreshFamily, _ *store.RefreshToken) { f.ExpiresAt = at(time.Hour) }, true},
			{"absolute-later", func(f *store.RefreshFamily, _ *store.RefreshToken) { f.ExpiresAt = at(20 * time.Hour) }, false},
			{"revoked-before", func(f *store.RefreshFamily, _ *store.RefreshToken) { f.RevokedAt = at(time.Hour) }, true},
			{"revoked-after", func(f *store.RefreshFamily, _ *store.RefreshToken) { f.RevokedAt = at(11 * time.Hour) }, false},
			{"idle-ended", func(_ *store.RefreshFamily, tok *store.RefreshToken) { tok.IdleExpiresAt = at(time.Hour) }, true},
			{"idle-later", func(_ *store.RefreshFamily, tok *store.RefreshToken) { tok.IdleExpiresAt = at(12 * time.Hour) }, false},
		}
		for _, f := range fams {
			fm, tok := family(f.id, "u1", "c1"), token("h-"+f.id)
			if f.edit != nil {
				f.edit(&fm, &tok)
			}
			must(t, "CreateRefreshFamily", s.CreateRefreshFamily(ctx(), fm, tok))
		}
		// A family whose first token idled out but whose successor is fresh stays.
		must(t, "CreateRefreshFamily", s.CreateRefreshFamily(ctx(), family("rotated", "u1", "c1"),
			store.RefreshToken{Hash: "h-rotated", CreatedAt: at(0), IdleExpiresAt: at(time.Hour)}))
		red := rotate("h-rotated", "h-rotated-2", at(30*time.Minute), 0)
		red.Next.IdleExpiresAt = at(12 * time.Hour)
		_, err := s.RedeemRefreshToken(ctx(), red)
		must(t, "RedeemRefreshToken", err)

		n, err := s.DeleteExpiredRefreshTokens(ctx(), cutoff)
		must(t, "DeleteExpiredRefreshTokens", err)
		if n != 3 {
			t.Errorf("deleted families: got %d, want 3", n)
		}
		for _, f := range append(fams, fam{id: "rotated"}, fam{id: "rotated-2"}) {
			_, _, err := s.GetRefreshToken(ctx(), "h-"+f.id)
			if f.gone {
				wantErr(t, "GetRefreshToken "+f.id, err, store.ErrNotFound)
			} else {
				wantErr(t, "GetRefreshToken "+f.id, err, nil)
			}
		}
	})
}
