package main

import (
	"strings"
	"testing"
)

// golden is what the quickstart prints; the test keeps the example from
// rotting as the engine changes.
const golden = `practice "Harbor Family Practice", location "Main Street" (America/New_York)
Dr. Ada Park works Mon–Fri 09:00–12:00; a Check-up takes 30m0s
6 open slots on Tuesday, first 09:00, last 11:30
Sam Rivera (new patient, phone +17185550134) booked Tue May 5 09:00 EDT: status new
front desk confirmed it: status confirmed
5 open slots on Tuesday, first 09:30
booking 09:00 again: conflict error (scheduling.Book: start: this time is already taken)
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
