package scheduling_test

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
)

func TestValidNPI(t *testing.T) {
	tests := []struct {
		name string
		npi  string
		want bool
	}{
		{"CMS example", "1234567893", true},
		{"valid starting with 1", "1047293588", true},
		{"valid with check digit 0", "1982736450", true},
		{"valid starting with 2", "2000000002", true},
		{"all zeros but check digit", "0000000006", true},
		{"bad check digit", "1234567890", false},
		{"check digit off by one", "1234567894", false},
		{"swapped digits", "2134567893", false},
		{"letter inside", "12345A7893", false},
		{"letter as check digit", "123456789X", false},
		{"too short", "123456789", false},
		{"too long", "12345678930", false},
		{"empty", "", false},
		{"spaces", "123 456 7893", false},
		{"dashes", "123-456-7893", false},
		{"leading space", " 1234567893", false},
		{"plus sign", "+234567893", false},
		{"non-ASCII digits", "１２３４５６７８９３", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scheduling.ValidNPI(tt.npi); got != tt.want {
				t.Errorf("ValidNPI(%q) = %v, want %v", tt.npi, got, tt.want)
			}
		})
	}
}

// luhnNPI is an independent reference: the Luhn check over "80840" followed by
// the ten digits, as CMS defines the NPI check digit.
func luhnNPI(s string) bool {
	if len(s) != 10 {
		return false
	}
	full := "80840" + s
	sum := 0
	double := false
	for i := len(full) - 1; i >= 0; i-- {
		c := full[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func TestValidNPIMatchesLuhn(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	valid := 0
	for range 20000 {
		s := strconv.FormatUint(r.Uint64N(1e10), 10)
		s = strings.Repeat("0", 10-len(s)) + s
		got, want := scheduling.ValidNPI(s), luhnNPI(s)
		if got != want {
			t.Fatalf("ValidNPI(%q) = %v, Luhn says %v", s, got, want)
		}
		if got {
			valid++
		}
	}
	// One in ten random strings has the right check digit.
	if valid < 1500 || valid > 2500 {
		t.Errorf("%d of 20000 random NPIs valid, want about 2000", valid)
	}
}

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
			got, err := scheduling.NormalizePhone("op", "phone", tt.in)
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
			got, err := scheduling.NormalizeEmail("op", "email", tt.in)
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
		if got, err := scheduling.NormalizePhone("t", "phone", p); err == nil {
			t.Errorf("NormalizePhone(%q) = %q, want an error", p, got)
		}
	}
	for _, e := range []string{"jane@-example.com", "jane@[127.0.0.1]", "a@b", "jane@example.c"} {
		if got, err := scheduling.NormalizeEmail("t", "email", e); err == nil {
			t.Errorf("NormalizeEmail(%q) = %q, want an error", e, got)
		}
	}
}
