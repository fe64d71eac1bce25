package scheduling_test

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

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
