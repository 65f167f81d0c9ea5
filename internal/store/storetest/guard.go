package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

func testCounters(t *testing.T, newStore NewStore) {
	ctx := t.Context
	day := 24 * time.Hour
	t.Run("increments and resets", func(t *testing.T) {
		s := newStore(t)
		for want := 1; want <= 3; want++ {
			got, err := s.RecordFailure(ctx(), "bf|alice|1.2.3.4", at(time.Duration(want)*time.Second), day)
			must(t, "RecordFailure", err)
			if got != want {
				t.Errorf("RecordFailure %d: got count %d, want %d", want, got, want)
			}
		}
		got, err := s.GetCounter(ctx(), "bf|alice|1.2.3.4", at(time.Minute))
		must(t, "GetCounter", err)
		if got != 3 {
			t.Errorf("GetCounter: got %d, want 3", got)
		}
		must(t, "DecrementCounter", s.DecrementCounter(ctx(), "bf|alice|1.2.3.4"))
		if got, err = s.GetCounter(ctx(), "bf|alice|1.2.3.4", at(time.Minute)); err != nil || got != 2 {
			t.Errorf("GetCounter after a decrement: got %d, %v, want 2, nil", got, err)
		}
		must(t, "DecrementCounter of an absent key", s.DecrementCounter(ctx(), "bf|nobody|"))
		must(t, "ResetCounter", s.ResetCounter(ctx(), "bf|alice|1.2.3.4"))
		must(t, "ResetCounter of an absent key", s.ResetCounter(ctx(), "bf|nobody|"))
		if got, err = s.GetCounter(ctx(), "bf|alice|1.2.3.4", at(time.Minute)); err != nil || got != 0 {
			t.Errorf("GetCounter after reset: got %d, %v, want 0, nil", got, err)
		}
	})
	t.Run("expired counter restarts", func(t *testing.T) {
		s := newStore(t)
		for range 2 {
			_, err := s.RecordFailure(ctx(), "k", at(0), time.Hour)
			must(t, "RecordFailure", err)
		}
		if got, err := s.GetCounter(ctx(), "k", at(time.Hour)); err != nil || got != 0 {
			t.Errorf("GetCounter at expiry: got %d, %v, want 0, nil", got, err)
		}
		got, err := s.RecordFailure(ctx(), "k", at(time.Hour+time.Second), time.Hour)
		must(t, "RecordFailure after expiry", err)
		if got != 1 {
			t.Errorf("RecordFailure after expiry: got %d, want 1", got)
		}
	})
	t.Run("reset by prefix", func(t *testing.T) {
		s := newStore(t)
		keys := []string{"bf|alice|1.2.3.4", "bf|alice|::1", "bf|alice%|1.2.3.4", "bf|alicia|1.2.3.4", "bf|ålice|x"}
		for _, k := range keys {
			_, err := s.RecordFailure(ctx(), k, at(0), day)
			must(t, "RecordFailure", err)
		}
		n, err := s.ResetCounters(ctx(), "bf|alice|")
		must(t, "ResetCounters", err)
		if n != 2 {
			t.Errorf("ResetCounters: got %d removed, want 2", n)
		}
		for _, k := range keys {
			got, err := s.GetCounter(ctx(), k, at(time.Second))
			must(t, "GetCounter", err)
			want := 1
			if k == keys[0] || k == keys[1] {
				want = 0
			}
			if got != want {
				t.Errorf("GetCounter(%q): got %d, want %d", k, got, want)
			}
		}
		if n, err = s.ResetCounters(ctx(), "bf|ålice|"); err != nil || n != 1 {
			t.Errorf("ResetCounters of a non-ASCII prefix: got %d, %v, want 1, nil", n, err)
		}
	})
	t.Run("list by prefix", func(t *testing.T) {
		s := newStore(t)
		// Same keys as reset by prefix, plus one that expires and one counted down to zero.
		keys := []string{"bf|alice|::1", "bf|alice|1.2.3.4", "bf|alice%|1.2.3.4", "bf|alicia|1.2.3.4", "bf|ålice|x"}
		for i, k := range keys {
			for range i + 1 {
				_, err := s.RecordFailure(ctx(), k, at(0), day)
				must(t, "RecordFailure", err)
			}
		}
		_, err := s.RecordFailure(ctx(), "bf|alice|expired", at(0), time.Hour)
		must(t, "RecordFailure", err)
		_, err = s.RecordFailure(ctx(), "bf|alice|zero", at(0), day)
		must(t, "RecordFailure", err)
		must(t, "DecrementCounter", s.DecrementCounter(ctx(), "bf|alice|zero"))

		got, err := s.ListCounters(ctx(), "bf|alice|", at(time.Hour))
		must(t, "ListCounters", err)
		want := []store.CounterEntry{
			{Key: "bf|alice|1.2.3.4", Hits: 2, ExpiresAt: at(day)},
			{Key: "bf|alice|::1", Hits: 1, ExpiresAt: at(day)},
		}
		if !slices.EqualFunc(got, want, func(a, b store.CounterEntry) bool {
			return a.Key == b.Key && a.Hits == b.Hits && a.ExpiresAt.Equal(b.ExpiresAt)
		}) {
			t.Errorf("ListCounters: got %+v, want %+v", got, want)
		}
		if got, err = s.ListCounters(ctx(), "bf|ålice|", at(time.Hour)); err != nil || len(got) != 1 || got[0].Hits != 5 {
			t.Errorf("ListCounters of a non-ASCII prefix: got %+v, %v, want bf|ålice|x with 5 hits", got, err)
		}
		if got, err = s.ListCounters(ctx(), "bf|nobody|", at(time.Hour)); err != nil || len(got) != 0 {
			t.Errorf("ListCounters of an unknown prefix: got %+v, %v, want none", got, err)
		}
		if got, err = s.ListCounters(ctx(), "bf|alice|", at(day)); err != nil || len(got) != 0 {
			t.Errorf("ListCounters at expiry: got %+v, %v, want none", got, err)
		}
	})
	t.Run("20 parallel failures count to exactly 20", func(t *testing.T) {
		s := newStore(t)
		counts := make([]int, 20)
		for i, err := range parallel(20, func(i int) error {
			var err error
			counts[i], err = s.RecordFailure(ctx(), "race", at(0), day)
			return err
		}) {
			must(t, fmt.Sprintf("RecordFailure %d", i), err)
		}
		slices.Sort(counts)
		for i, c := range counts {
			if c != i+1 {
				t.Fatalf("counts returned: got %v, want 1..20 each once", counts)
			}
		}
		if got, err := s.GetCounter(ctx(), "race", at(time.Second)); err != nil || got != 20 {
			t.Errorf("GetCounter: got %d, %v, want 20, nil", got, err)
		}
	})
}

func testBuckets(t *testing.T, newStore NewStore) {
	ctx := t.Context
	type take struct {
		at            time.Duration
		wantAllowed   bool
		wantRemaining int
		wantReset     time.Duration
	}
	tests := []struct {
		name  string
		takes []take
	}{
		{"a new bucket is full", []take{{0, true, 2, 10 * time.Second}}},
		{"empties then refuses", []take{
			{0, true, 2, 10 * time.Second}, {0, true, 1, 20 * time.Second}, {0, true, 0, 30 * time.Second},
			{time.Second, false, 0, 10 * time.Second},
		}},
		{"refills one token per interval", []take{
			{0, true, 2, 10 * time.Second}, {0, true, 1, 20 * time.Second}, {0, true, 0, 30 * time.Second},
			{10 * time.Second, true, 0, 40 * time.Second}, {11 * time.Second, false, 0, 20 * time.Second},
		}},
		{"remaining counts whole tokens only", []take{ // a token partly back is not left
			{0, true, 2, 10 * time.Second}, {time.Millisecond, true, 1, 20 * time.Second}, {2 * time.Millisecond, true, 0, 30 * time.Second},
			{3 * time.Millisecond, false, 0, 10 * time.Second},
		}},
		{"refills to capacity, not beyond", []take{
			{0, true, 2, 10 * time.Second}, {time.Hour, true, 2, time.Hour + 10*time.Second},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			for i, tk := range tc.takes {
				ok, rem, reset, err := s.TakeToken(ctx(), "ip|1.2.3.4", 3, 10*time.Second, at(tk.at))
				must(t, "TakeToken", err)
				if ok != tk.wantAllowed || rem != tk.wantRemaining || !reset.Equal(at(tk.wantReset)) {
					t.Errorf("take %d: got %v, %d, %v, want %v, %d, %v", i, ok, rem, reset, tk.wantAllowed, tk.wantRemaining, at(tk.wantReset))
				}
			}
		})
	}
	t.Run("a returned token can be taken again", func(t *testing.T) {
		s := newStore(t)
		for i := range 3 {
			ok, _, _, err := s.TakeToken(ctx(), "ret", 3, 10*time.Second, at(0))
			must(t, "TakeToken", err)
			if !ok {
				t.Fatalf("take %d: refused, want allowed", i)
			}
		}
		must(t, "ReturnToken", s.ReturnToken(ctx(), "ret", 10*time.Second, at(0)))
		ok, rem, reset, err := s.TakeToken(ctx(), "ret", 3, 10*time.Second, at(0))
		must(t, "TakeToken", err)
		if !ok || rem != 0 || !reset.Equal(at(30*time.Second)) {
			t.Errorf("take after a return: got %v, %d, %v, want true, 0, %v", ok, rem, reset, at(30*time.Second))
		}
		if ok, _, _, err := s.TakeToken(ctx(), "ret", 3, 10*time.Second, at(0)); err != nil || ok {
			t.Errorf("a fourth take: got %v, %v, want refused", ok, err)
		}
	})
	t.Run("returns never fill a bucket beyond capacity", func(t *testing.T) {
		s := newStore(t)
		must(t, "ReturnToken of a bucket never seen", s.ReturnToken(ctx(), "full", 10*time.Second, at(0)))
		_, _, _, err := s.TakeToken(ctx(), "full", 2, 10*time.Second, at(0))
		must(t, "TakeToken", err)
		for range 3 {
			must(t, "ReturnToken", s.ReturnToken(ctx(), "full", 10*time.Second, at(0)))
		}
		var granted int
		for range 4 {
			ok, _, _, err := s.TakeToken(ctx(), "full", 2, 10*time.Second, at(0))
			must(t, "TakeToken", err)
			if ok {
				granted++
			}
		}
		if granted != 2 {
			t.Errorf("takes after extra returns: got %d granted, want 2 (the capacity)", granted)
		}
	})
	t.Run("parallel takes never over-grant", func(t *testing.T) {
		s := newStore(t)
		allowed := make([]bool, 20)
		for i, err := range parallel(20, func(i int) error {
			var err error
			allowed[i], _, _, err = s.TakeToken(ctx(), "race", 5, time.Hour, at(0))
			return err
		}) {
			must(t, fmt.Sprintf("TakeToken %d", i), err)
		}
		if n := len(slices.DeleteFunc(allowed, func(b bool) bool { return !b })); n != 5 {
			t.Errorf("allowed takes: got %d, want 5", n)
		}
	})
	t.Run("parallel takes and returns: only the kept tokens are spent", func(t *testing.T) {
		// 40 parallel attempts on a bucket of 10: those that get a token give back every
		// second one (a passed check). The bucket then holds exactly the tokens returned.
		s := newStore(t)
		kept := make([]bool, 40)
		for i, err := range parallel(40, func(i int) error {
			ok, _, _, err := s.TakeToken(ctx(), "race", 10, time.Hour, at(0))
			if err != nil || !ok {
				return err
			}
			if i%2 == 0 {
				return s.ReturnToken(ctx(), "race", time.Hour, at(0))
			}
			kept[i] = true
			return nil
		}) {
			must(t, fmt.Sprintf("attempt %d", i), err)
		}
		spent := len(slices.DeleteFunc(kept, func(b bool) bool { return !b }))
		if spent > 10 {
			t.Fatalf("tokens kept: got %d, want at most 10", spent)
		}
		left := 0
		for {
			ok, _, _, err := s.TakeToken(ctx(), "race", 10, time.Hour, at(0))
			must(t, "TakeToken", err)
			if !ok {
				break
			}
			left++
		}
		if spent+left != 10 {
			t.Errorf("tokens kept %d + left %d: got %d, want 10", spent, left, spent+left)
		}
	})
}

func testBreached(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t), t.Context()
	hashes := []string{
		"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8", // "password"
		"5baa6100000000000000000000000000000000ff", // same prefix, lower case
		"7C4A8D09CA3762AF61E59520943DC26494F8941B", // "123456"
	}
	n, err := s.AddBreachedHashes(ctx, hashes)
	must(t, "AddBreachedHashes", err)
	if n != 3 {
		t.Errorf("AddBreachedHashes: got %d new, want 3", n)
	}
	if n, err = s.AddBreachedHashes(ctx, hashes[:1]); err != nil || n != 0 {
		t.Errorf("AddBreachedHashes again: got %d, %v, want 0, nil", n, err)
	}
	got, err := s.BreachedSuffixes(ctx, "5baa6")
	must(t, "BreachedSuffixes", err)
	diff(t, "suffixes", got, []string{"100000000000000000000000000000000FF", "1E4C9B93F3F0682250B6CF8331B7EE68FD8"})
	got, err = s.BreachedSuffixes(ctx, "00000")
	must(t, "BreachedSuffixes", err)
	if len(got) != 0 {
		t.Errorf("BreachedSuffixes of an unknown prefix: got %v, want none", got)
	}
	if _, err := s.AddBreachedHashes(ctx, []string{"ABC"}); err == nil {
		t.Errorf("AddBreachedHashes of a short hash: got nil error, want one")
	}
}

func testAttackProtection(t *testing.T, newStore NewStore) {
	s, ctx := newStore(t), t.Context()
	ap := &store.AttackProtection{
		BruteForce: store.BruteForceProtection{Enabled: true, Shields: []string{"block"}, Mode: "count_per_identifier_and_ip",
			Allowlist: []string{"10.0.0.0/8", "2001:db8::/32"}, MaxAttempts: 5},
		SuspiciousIP: store.SuspiciousIPThrottling{Enabled: true, Shields: []string{"admin_notification"},
			Stage: store.ThrottleStages{PreLogin: store.ThrottleStage{MaxAttempts: 100, Rate: 864000}}},
		Breached: store.BreachedPasswordDetection{Enabled: true, Shields: []string{"block"}, Method: "standard"},
	}
	must(t, "UpdateTenant", s.UpdateTenant(ctx, func(tn *store.Tenant) error {
		tn.FriendlyName, tn.AttackProtection = "Acme", ap
		return nil
	}))
	got, err := s.GetTenant(ctx)
	must(t, "GetTenant", err)
	diff(t, "attack protection", got.AttackProtection, ap)
	must(t, "UpdateTenant", s.UpdateTenant(ctx, func(tn *store.Tenant) error { tn.AttackProtection = nil; return nil }))
	if got, err = s.GetTenant(ctx); err != nil || got.AttackProtection != nil || got.FriendlyName != "Acme" {
		t.Errorf("GetTenant after clearing: got %+v, %v, want Acme with nil attack protection", got, err)
	}
}
