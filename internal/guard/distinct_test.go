package guard_test

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestDistinct(t *testing.T) {
	type use struct {
		value         string
		after         time.Duration // clock advance before the use
		wantAllowed   bool
		wantRemaining int
	}
	cases := []struct {
		name  string
		limit int
		uses  []use
	}{
		{"admits up to the limit, then only known values", 3, []use{
			{"a", 0, true, 2}, {"b", 0, true, 1}, {"a", 0, true, 1}, {"c", 0, true, 0},
			{"d", 0, false, 0}, {"b", 0, true, 0}, {"d", 0, false, 0},
		}},
		{"a refused value is not admitted later by repeating it", 2, []use{
			{"a", 0, true, 1}, {"b", 0, true, 0}, {"c", 0, false, 0}, {"c", 0, false, 0}, {"a", 0, true, 0},
		}},
		{"the set lapses a window after its last use", 2, []use{
			{"a", 0, true, 1}, {"b", 0, true, 0}, {"c", 59 * time.Minute, false, 0}, {"c", time.Hour, true, 1},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, _, c := newGuard(t, nil)
			limit := tc.limit
			for i, u := range tc.uses {
				c.add(u.after)
				d, err := g.Distinct(t.Context(), "rcpt|alice", u.value, limit, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				if d.Allowed != u.wantAllowed || d.Remaining != u.wantRemaining || d.Limit != limit {
					t.Errorf("use %d (%s): got allowed %v, remaining %d, limit %d, want %v, %d, %d",
						i, u.value, d.Allowed, d.Remaining, d.Limit, u.wantAllowed, u.wantRemaining, limit)
				}
			}
		})
	}
	t.Run("parallel new values: never more than the limit, over 20 rounds", func(t *testing.T) {
		g, _, _ := newGuard(t, nil)
		for round := range 20 {
			key := fmt.Sprintf("rcpt|user%d", round)
			admitted := make([]bool, 25)
			var wg sync.WaitGroup
			for i := range admitted {
				wg.Go(func() {
					// Two requests per value, so known values race new ones.
					d, err := g.Distinct(t.Context(), key, fmt.Sprintf("v%d", i/2), 3, time.Hour)
					if err != nil {
						t.Error(err)
					}
					admitted[i] = d.Allowed
				})
			}
			wg.Wait()
			values := map[int]bool{}
			for i, ok := range admitted {
				if ok {
					values[i/2] = true
				}
			}
			if len(values) > 3 || len(values) == 0 {
				t.Errorf("round %d: got %d distinct values admitted, want 1 to 3", round, len(values))
			}
			// Whatever the race left, the set is full now: a new value is refused.
			if d, err := g.Distinct(t.Context(), key, "new", 3, time.Hour); err != nil || d.Allowed != (len(values) < 3) {
				t.Errorf("round %d: new value after the burst: got %v, %v, want allowed %v", round, d.Allowed, err, len(values) < 3)
			}
		}
	})
}
