package identity

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
)

func TestHashPasswordOWASPFormat(t *testing.T) {
	h, err := HashPassword("correct horse battery", OWASPArgon2)
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(h) {
		t.Fatalf("hash %q is not PHC argon2id with OWASP parameters, 16-byte salt and 32-byte key", h)
	}
	h2, _ := HashPassword("correct horse battery", OWASPArgon2)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyPassword(t *testing.T) {
	p := Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	h, err := HashPassword("correct horse battery", p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pw, hash string
		ok       bool
		err      bool
	}{
		{"correct horse battery", h, true, false},
		{"correct horse batterx", h, false, false},
		{"", h, false, false},
		{"correct horse battery", "$2a$10$bcrypt", false, true},
		{"correct horse battery", strings.Replace(h, "v=19", "v=16", 1), false, true},
		{"correct horse battery", strings.Replace(h, "m=64", "m=0", 1), false, true},
		{"correct horse battery", h[:strings.LastIndexByte(h, '$')] + "$!!", false, true},
	} {
		ok, err := VerifyPassword(c.pw, c.hash)
		if ok != c.ok || (err != nil) != c.err {
			t.Errorf("VerifyPassword(%q, %q) = %v, %v; want %v, error %v", c.pw, c.hash, ok, err, c.ok, c.err)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for _, c := range []struct {
		pw string
		ok bool
	}{
		{"elevenchars", false},
		{"twelve chars", true},
		{"ñññññññññññ", false}, // 11 characters, 22 bytes
		{"ñññññññññññññ", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"aaaaaaaaaaaa\xff", false},
	} {
		err := CheckPassword("op", "password", c.pw)
		if (err == nil) != c.ok {
			t.Errorf("CheckPassword(%q) = %v, want ok %v", c.pw, err, c.ok)
		}
		if err != nil && (errs.KindOf(err) != errs.KindInvalid || errs.FieldOf(err) != "password") {
			t.Errorf("CheckPassword(%q) = %v, want KindInvalid on password", c.pw, err)
		}
	}
}

func TestSecretsNotInJSON(t *testing.T) {
	now := time.Now()
	for _, v := range []any{
		&Account{PasswordHash: "$argon2id$SECRET", TOTPSecret: "SECRET", CreatedAt: now},
		&Session{TokenHash: []byte("SECRET")},
		&Invitation{TokenHash: []byte("SECRET")},
		&Verification{TokenHash: []byte("SECRET")},
		&APIKey{SecretHash: []byte("SECRET")},
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "SECRET") || strings.Contains(string(b), "U0VDUkVU") || strings.Contains(string(b), "argon2") {
			t.Errorf("%T leaks a secret in JSON: %s", v, b)
		}
	}
}

func TestRecoveryCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		c := newRecoveryCode()
		if !regexp.MustCompile(`^[a-km-z2-9]{5}-[a-km-z2-9]{5}$`).MatchString(c) || strings.ContainsAny(c, "lo01") {
			t.Fatalf("recovery code %q has the wrong shape", c)
		}
		if seen[c] {
			t.Fatalf("recovery code %q repeated", c)
		}
		seen[c] = true
		if got := normalizeRecoveryCode(" " + strings.ToUpper(c) + " "); got != strings.ReplaceAll(c, "-", "") {
			t.Fatalf("normalizeRecoveryCode = %q", got)
		}
	}
}

func TestLockoutBackoff(t *testing.T) {
	s := &Service{cfg: Config{}.withDefaults()}
	want := []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour,
		8 * time.Hour, 16 * time.Hour, 24 * time.Hour, 24 * time.Hour}
	for n, w := range want {
		if got := s.lockout(n); got != w {
			t.Errorf("lockout(%d) = %v, want %v", n, got, w)
		}
	}
	if got := s.lockout(1000); got != 24*time.Hour {
		t.Errorf("lockout(1000) = %v, want the cap", got)
	}
}

func BenchmarkPassword(b *testing.B) {
	h, err := HashPassword("correct horse battery", OWASPArgon2)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("argon2id-owasp", func(b *testing.B) {
		for b.Loop() {
			if ok, _ := VerifyPassword("correct horse battery", h); !ok {
				b.Fatal("no match")
			}
		}
	})
	b.Run("baseline-sha256-token", func(b *testing.B) {
		tok := strings.Repeat("x", 43)
		for b.Loop() {
			_ = HashToken(tok)
		}
	})
}
