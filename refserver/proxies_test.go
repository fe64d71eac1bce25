package refserver

import (
	"net/netip"
	"testing"

	"github.com/carebook/carebook/errs"
)

func TestClientAddr(t *testing.T) {
	trusted, err := ParseTrustedProxies("trusted_proxies", "10.0.0.0/8, 192.168.1.5, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies trusted: the peer", "203.0.113.7:4000", []string{"198.51.100.1"}, nil, "203.0.113.7"},
		{"untrusted peer: header ignored", "203.0.113.7:4000", []string{"198.51.100.1"}, trusted, "203.0.113.7"},
		{"trusted peer, no header", "10.1.2.3:4000", nil, trusted, "10.1.2.3"},
		{"trusted peer: the client it saw", "10.1.2.3:4000", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"right-most untrusted, past trusted hops", "10.1.2.3:4000", []string{"6.6.6.6, 198.51.100.1, 192.168.1.5"}, trusted, "198.51.100.1"},
		{"several header lines", "10.1.2.3:4000", []string{"6.6.6.6", "198.51.100.1", "10.9.9.9"}, trusted, "198.51.100.1"},
		{"every hop trusted: the left-most", "10.1.2.3:4000", []string{"10.0.0.1, 10.0.0.2"}, trusted, "10.0.0.1"},
		{"garbage stops the walk at the trusted hop", "10.1.2.3:4000", []string{"198.51.100.1, not-an-ip, 10.0.0.2"}, trusted, "10.0.0.2"},
		{"garbage right behind the peer", "10.1.2.3:4000", []string{"nonsense"}, trusted, "10.1.2.3"},
		{"hop with a port", "10.1.2.3:4000", []string{"198.51.100.1:5555"}, trusted, "198.51.100.1"},
		{"IPv6 peer and hop", "[fd00::1]:4000", []string{"[2001:db8::7]:80"}, trusted, "2001:db8::7"},
		{"IPv4-mapped peer", "[::ffff:10.1.2.3]:4000", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"peer without a port", "10.1.2.3", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"peer that is no address", "@unix", []string{"198.51.100.1"}, trusted, "@unix"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := clientAddr(c.remote, c.xff, c.trusted); got != c.want {
				t.Errorf("clientAddr(%q, %q) = %q, want %q", c.remote, c.xff, got, c.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies("trusted_proxies", " 10.1.2.3/8 ,, 2001:db8::1 ")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::1/128")}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ParseTrustedProxies = %v, want %v", got, want)
	}
	_, err = ParseTrustedProxies("trusted_proxies", "10.0.0.0/8,proxy.example")
	if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid || e.Field != "trusted_proxies" {
		t.Errorf("ParseTrustedProxies(bad) = %v, want KindInvalid naming trusted_proxies", err)
	}
}
