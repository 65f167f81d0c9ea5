package password

import "testing"

func TestSecret(t *testing.T) {
	s := NewSecret()
	if len(s) != 64 {
		t.Fatalf("len(NewSecret()) = %d, want 64", len(s))
	}
	h := HashSecret(s)
	tests := []struct {
		name   string
		stored string
		secret string
		want   bool
	}{
		{"match", h, s, true},
		{"wrong", h, s + "x", false},
		{"empty secret", HashSecret(""), "", false},
		{"not a secret hash", "$argon2id$v=19$m=1,t=1,p=1$AA$AA", s, false},
		{"empty stored", "", s, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifySecret(tt.stored, tt.secret); got != tt.want {
				t.Fatalf("VerifySecret = %v, want %v", got, tt.want)
			}
		})
	}
}
