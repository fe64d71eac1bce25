package web

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/carebook/carebook/refserver"
)

// TestStatusColoursContrast computes, from the stylesheet's own values,
// the contrast ratio (WCAG 2.x) of every status and badge colour pair
// (--<name>-fg on --<name>-bg) and of the body text, which must be at
// least 4.5:1.
func TestStatusColoursContrast(t *testing.T) {
	css := string(refserver.AssetBytes("app.css"))
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z0-9-]+):\s*(#[0-9a-fA-F]{6})\s*;`).FindAllStringSubmatch(css, -1) {
		vars[m[1]] = m[2]
	}
	pairs := 0
	for name, fg := range vars {
		base, ok := strings.CutSuffix(name, "-fg")
		if !ok {
			continue
		}
		bg, ok := vars[base+"-bg"]
		if !ok {
			t.Errorf("--%s has no --%s-bg", name, base)
			continue
		}
		pairs++
		if r := contrast(fg, bg); r < 4.5 {
			t.Errorf("%s: %s on %s has contrast %.2f:1, want >= 4.5:1", base, fg, bg, r)
		}
	}
	for _, p := range [][2]string{{"ink", "paper"}, {"ink", "wash"}, {"muted", "paper"}, {"muted", "wash"}, {"accent", "paper"}, {"accent-ink", "accent"}, {"danger", "paper"}} {
		if r := contrast(vars[p[0]], vars[p[1]]); r < 4.5 {
			t.Errorf("--%s on --%s: contrast %.2f:1, want >= 4.5:1", p[0], p[1], r)
		}
	}
	if pairs < 6 {
		t.Fatalf("found %d status colour pairs, want one per status (6) at least", pairs)
	}
}

// contrast is the WCAG contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is the relative luminance of #rrggbb.
func luminance(hex string) float64 {
	ch := func(i int) float64 {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(0) + 0.7152*ch(1) + 0.0722*ch(2)
}
