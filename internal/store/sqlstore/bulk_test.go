package sqlstore_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

func TestBulkCreate(t *testing.T) {
	now := time.Unix(1_700_000_000, 0).UTC()
	tests := []struct {
		name     string
		users    int
		families int
		tokens   int
		wantErr  bool
	}{
		{name: "users and tokens across chunks", users: 5003, families: 5001, tokens: 5001},
		{name: "no rows", users: 0, families: 0, tokens: 0},
		{name: "families without their tokens", users: 1, families: 2, tokens: 1, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := open(t, "sqlite://"+filepath.Join(t.TempDir(), "bulk.db"))
			us := make([]store.User, tc.users)
			for i := range us {
				us[i] = store.User{ID: fmt.Sprintf("auth0|%024d", i), Connection: "DB", Email: fmt.Sprintf("u%d@example.com", i),
					PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5", CreatedAt: now, UpdatedAt: now}
			}
			if err := st.BulkCreateUsers(ctx, us); err != nil {
				t.Fatal(err)
			}
			if n, err := st.CountUsers(ctx, "DB"); err != nil || n != tc.users {
				t.Errorf("CountUsers: got %d, %v want %d", n, err, tc.users)
			}
			if tc.users > 0 {
				last := us[len(us)-1]
				if got, err := st.FindUser(ctx, "DB", last.Email); err != nil || got.ID != last.ID {
					t.Errorf("FindUser(%s): got %q, %v want %q", last.Email, got.ID, err, last.ID)
				}
			}
			fs := make([]store.RefreshFamily, tc.families)
			for i := range fs {
				fs[i] = store.RefreshFamily{ID: fmt.Sprintf("fam%d", i), ClientID: "seed", UserID: "auth0|x", Connection: "DB",
					Audience: "https://api.example.com", AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			}
			ts := make([]store.RefreshToken, tc.tokens)
			for i := range ts {
				ts[i] = store.RefreshToken{Hash: fmt.Sprintf("%064x", i), CreatedAt: now}
			}
			err := st.BulkCreateRefreshFamilies(ctx, fs, ts)
			if tc.wantErr {
				if err == nil {
					t.Error("got no error, want one for unpaired families and tokens")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.tokens > 0 {
				f, tok, err := st.GetRefreshToken(ctx, ts[len(ts)-1].Hash)
				if err != nil || f.ID != fs[len(fs)-1].ID || tok.FamilyID != f.ID {
					t.Errorf("GetRefreshToken: got family %q token family %q, %v want %q", f.ID, tok.FamilyID, err, fs[len(fs)-1].ID)
				}
			}
			if _, _, err := st.GetRefreshToken(ctx, "absent"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetRefreshToken(absent): got %v want ErrNotFound", err)
			}
		})
	}
}
