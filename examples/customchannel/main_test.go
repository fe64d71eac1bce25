package main

import (
	"strings"
	"testing"
)

// golden is what the example prints; the test keeps it from rotting.
const golden = `to #front-desk, attempt 1: temporary failure, retry later (chat: 503 Service Unavailable)
chat service got 0190c2b6 in #front-desk: "New request: Sam Rivera, Tue 09:00 with Dr. Park"
to #front-desk, attempt 2: sent, provider ID post-2
to #nowhere, attempt 1: permanent failure, not retried (chat: 404 Not Found)
`

func TestRun(t *testing.T) {
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\noutput so far:\n%s", err, out.String())
	}
	if got := out.String(); got != golden {
		t.Errorf("output differs from golden\ngot:\n%s\nwant:\n%s", got, golden)
	}
}
