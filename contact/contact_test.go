package contact_test

import (
	"strings"
	"testing"

	"github.com/carebook/carebook/contact"
	"github.com/carebook/carebook/errs"
)

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "" means invalid
	}{
		{"US E.164", "+12025550143", "+12025550143"},
		{"US New York", "+12125551234", "+12125551234"},
		{"UK London", "+442071838750", "+442071838750"},
		{"Germany Berlin", "+493012345678", "+493012345678"},
		{"spaces", "+1 202 555 0143", "+12025550143"},
		{"parentheses and dash", "+1 (202) 555-0143", "+12025550143"},
		{"dashes", "+1-202-555-0143", "+12025550143"},
		{"dots", "+1.202.555.0143", "+12025550143"},
		{"German formatting", "+49 30 12345678", "+493012345678"},
		{"missing plus", "12025550143", ""},
		{"national form", "(202) 555-0143", ""},
		{"trunk prefix", "0301234567", ""},
		{"leading space", " +12025550143", ""},
		{"empty", "", ""},
		{"plus only", "+", ""},
		{"country code zero", "+0", ""},
		{"too short", "+1202555014", ""},
		{"too long", "+1202555014300000", ""},
		{"no such country code", "+99912345678", ""},
		{"area code starting with 1", "+11025550143", ""},
		{"trailing letters", "+12025550143abc", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := contact.NormalizePhone("op", "phone", tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("NormalizePhone(%q) = %q, want an error", tt.in, got)
				}
				if k := errs.KindOf(err); k != errs.KindInvalid {
					t.Errorf("kind = %v, want invalid", k)
				}
				if f := errs.FieldOf(err); f != "phone" {
					t.Errorf("field = %q, want phone", f)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizePhone(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("NormalizePhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "" means invalid
	}{
		{"plain", "jane@example.com", "jane@example.com"},
		{"lower-cased", "Jane.Doe@Example.COM", "jane.doe@example.com"},
		{"plus tag", "jane+clinic@example.org", "jane+clinic@example.org"},
		{"subdomain", "j.doe@mail.example.co.uk", "j.doe@mail.example.co.uk"},
		{"non-ASCII lower-cased", "JÖRG@example.de", "jörg@example.de"},
		{"display name", "Jane <jane@example.com>", ""},
		{"angle brackets", "<jane@example.com>", ""},
		{"leading space", " jane@example.com", ""},
		{"trailing space", "jane@example.com ", ""},
		{"no at", "jane.example.com", ""},
		{"no local part", "@example.com", ""},
		{"no domain", "jane@", ""},
		{"two ats", "jane@doe@example.com", ""},
		{"double dot in domain", "jane@example..com", ""},
		{"double dot in local part", "jane..doe@example.com", ""},
		{"comment", "(c)jane@example.com", ""},
		{"two addresses", "jane@example.com, joe@example.com", ""},
		{"empty", "", ""},
		{"too long", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := contact.NormalizeEmail("op", "email", tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("NormalizeEmail(%q) = %q, want an error", tt.in, got)
				}
				if k, f := errs.KindOf(err), errs.FieldOf(err); k != errs.KindInvalid || f != "email" {
					t.Errorf("kind, field = %v, %q; want invalid, email", k, f)
				}
				return
			}
			if err != nil {
				t.Fatalf("NormalizeEmail(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeRefusesLookAlikes(t *testing.T) {
	for _, p := range []string{"++12025550143", "+1 800 FLOWERS", "+12025550143 ext. 5", "+1 202 555 0143;ext=5"} {
		if got, err := contact.NormalizePhone("t", "phone", p); err == nil {
			t.Errorf("NormalizePhone(%q) = %q, want an error", p, got)
		}
	}
	for _, e := range []string{"jane@-example.com", "jane@[127.0.0.1]", "a@b", "jane@example.c"} {
		if got, err := contact.NormalizeEmail("t", "email", e); err == nil {
			t.Errorf("NormalizeEmail(%q) = %q, want an error", e, got)
		}
	}
}
