package sqlstore_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sesameauth/sesame/internal/store"
)

// TestConcurrentTransactionsStayIndependent: write transactions running at the same moment
// (which SQLite commits together) each keep all-or-nothing semantics: one that fails leaves no
// trace, and does not cost the others theirs.
func TestConcurrentTransactionsStayIndependent(t *testing.T) {
	s := open(t, "sqlite://"+filepath.Join(t.TempDir(), "sesame.db"))
	ctx := t.Context()
	const n = 64
	for i := range n {
		if err := s.CreateClient(ctx, store.Client{ClientID: fmt.Sprint("c", i), Name: "before"}); err != nil {
			t.Fatal(err)
		}
	}
	refused := errors.New("refused")
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.UpdateClient(ctx, fmt.Sprint("c", i), func(c *store.Client) error {
				c.Name = "after"
				if i%2 == 1 {
					return refused
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i := range n {
		c, err := s.GetClient(ctx, fmt.Sprint("c", i))
		if err != nil {
			t.Fatal(err)
		}
		want, wantErr := "after", error(nil)
		if i%2 == 1 {
			want, wantErr = "before", refused
		}
		if c.Name != want || !errors.Is(errs[i], wantErr) {
			t.Errorf("client c%d: got name %q and error %v, want %q and %v", i, c.Name, errs[i], want, wantErr)
		}
	}
}
