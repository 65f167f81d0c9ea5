package seal

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	b, err := New(NewKEK())
	if err != nil {
		t.Fatal(err)
	}
	other, _ := New(NewKEK())
	sealed := b.Seal([]byte("secret"), []byte("kid-1"))
	tests := []struct {
		name    string
		box     *Box
		sealed  []byte
		aad     string
		want    string
		wantErr error
	}{
		{name: "round trip", box: b, sealed: sealed, aad: "kid-1", want: "secret"},
		{name: "other aad", box: b, sealed: sealed, aad: "kid-2", wantErr: ErrOpen},
		{name: "other key", box: other, sealed: sealed, aad: "kid-1", wantErr: ErrOpen},
		{name: "truncated", box: b, sealed: sealed[:10], aad: "kid-1", wantErr: ErrOpen},
		{name: "tampered", box: b, sealed: append(bytes.Clone(sealed[:len(sealed)-1]), sealed[len(sealed)-1]^1), aad: "kid-1", wantErr: ErrOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.sealed, []byte(tt.aad))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKEKFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek")
	if _, _, err := LoadOrCreateKEKFile(path, false); err == nil {
		t.Fatal("missing file without create: want error")
	}
	k1, created, err := LoadOrCreateKEKFile(path, true)
	if err != nil || !created {
		t.Fatalf("create: created=%v err=%v", created, err)
	}
	k2, created, err := LoadOrCreateKEKFile(path, true)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: created=%v err=%v equal=%v", created, err, bytes.Equal(k1, k2))
	}
	if _, err := ParseKEK("c2hvcnQ="); err == nil {
		t.Fatal("short KEK: want error")
	}
}

func TestDeriveKey(t *testing.T) {
	kek := NewKEK()
	a, _ := New(kek)
	b, _ := New(kek)
	other, _ := New(NewKEK())
	k := a.DeriveKey("unblock-ticket")
	if len(k) != 32 {
		t.Fatalf("got %d bytes, want 32", len(k))
	}
	if !bytes.Equal(k, b.DeriveKey("unblock-ticket")) {
		t.Error("two boxes of one KEK derive different keys: nodes would not agree")
	}
	if bytes.Equal(k, a.DeriveKey("other")) || bytes.Equal(k, other.DeriveKey("unblock-ticket")) {
		t.Error("different purposes or KEKs derive the same key")
	}
	if bytes.Equal(k, kek) {
		t.Error("the derived key is the KEK")
	}
}
