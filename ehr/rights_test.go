package ehr_test

import (
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

var rightsNow = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

func newAmendment(t *testing.T) *ehr.Amendment {
	t.Helper()
	a, err := ehr.NewAmendment(uuid.New(), uuid.New(), uuid.New(), []ehr.EntryID{uuid.New()}, "Wrong.", "patient:p", rightsNow)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestNewAmendmentNamesTheField(t *testing.T) {
	e := uuid.New()
	for _, c := range []struct {
		name    string
		entries []ehr.EntryID
		reason  string
		field   string
	}{
		{"no entries", nil, "x", "entry_ids"},
		{"nil entry", []ehr.EntryID{uuid.Nil}, "x", "entry_ids"},
		{"an entry twice", []ehr.EntryID{e, e}, "x", "entry_ids"},
		{"no reason", []ehr.EntryID{e}, "  ", "reason"},
		{"a control character", []ehr.EntryID{e}, "a\x00b", "reason"},
		{"a reason too long", []ehr.EntryID{e}, strings.Repeat("a", 10_001), "reason"},
	} {
		_, err := ehr.NewAmendment(uuid.New(), uuid.New(), uuid.New(), c.entries, c.reason, "patient:p", rightsNow)
		if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != c.field {
			t.Errorf("%s: %v, want KindInvalid naming %s", c.name, err, c.field)
		}
	}
	a := newAmendment(t)
	if got, want := a.Due, rightsNow.AddDate(0, 0, 60); !got.Equal(want) || a.Version != 1 || a.Status != ehr.Requested {
		t.Errorf("new request: due %v (want %v), version %d, %s", got, want, a.Version, a.Status)
	}
}

func TestAmendmentTransitions(t *testing.T) {
	later := rightsNow.Add(time.Hour)
	for _, c := range []struct {
		name  string
		steps []func(*ehr.Amendment) error
		kind  errs.Kind // of the last step; 0 for none
		field string
	}{
		{"accept", []func(*ehr.Amendment) error{func(a *ehr.Amendment) error { return a.Accept("Fixed.", "staff:s", later) }}, 0, ""},
		{"accept without text", []func(*ehr.Amendment) error{func(a *ehr.Amendment) error { return a.Accept("", "staff:s", later) }}, errs.KindInvalid, "amendment"},
		{"deny on no basis", []func(*ehr.Amendment) error{func(a *ehr.Amendment) error { return a.Deny("nope", "x", "staff:s", later) }}, errs.KindInvalid, "denial_basis"},
		{"decide twice", []func(*ehr.Amendment) error{
			func(a *ehr.Amendment) error { return a.Accept("Fixed.", "staff:s", later) },
			func(a *ehr.Amendment) error { return a.Deny(ehr.Accurate, "x", "staff:s", later) }}, errs.KindConflict, ""},
		{"disagree before a denial", []func(*ehr.Amendment) error{func(a *ehr.Amendment) error { return a.Disagree("x", "patient:p", later) }}, errs.KindConflict, ""},
		{"rebut without a disagreement", []func(*ehr.Amendment) error{
			func(a *ehr.Amendment) error {
				return a.Deny(ehr.NotCreatedHere, "Another practice wrote it.", "staff:s", later)
			},
			func(a *ehr.Amendment) error { return a.Rebut("x", "staff:s", later) }}, errs.KindConflict, ""},
		{"deny, disagree, rebut", []func(*ehr.Amendment) error{
			func(a *ehr.Amendment) error { return a.Deny(ehr.Accurate, "Accurate.", "staff:s", later) },
			func(a *ehr.Amendment) error { return a.Disagree("I disagree.", "patient:p", later) },
			func(a *ehr.Amendment) error { return a.Rebut("We do not.", "staff:s", later) }}, 0, ""},
		{"disagree twice", []func(*ehr.Amendment) error{
			func(a *ehr.Amendment) error { return a.Deny(ehr.Accurate, "Accurate.", "staff:s", later) },
			func(a *ehr.Amendment) error { return a.Disagree("I disagree.", "patient:p", later) },
			func(a *ehr.Amendment) error { return a.Disagree("Again.", "patient:p", later) }}, errs.KindConflict, ""},
		{"extend twice", []func(*ehr.Amendment) error{
			func(a *ehr.Amendment) error { return a.Extend("Busy.", "staff:s", later) },
			func(a *ehr.Amendment) error { return a.Extend("Still busy.", "staff:s", later) }}, errs.KindConflict, ""},
		{"extend past the limit", []func(*ehr.Amendment) error{
			func(a *ehr.Amendment) error { return a.Extend("Late.", "staff:s", rightsNow.AddDate(0, 0, 61)) }}, errs.KindConflict, ""},
		{"extend without a reason", []func(*ehr.Amendment) error{func(a *ehr.Amendment) error { return a.Extend("", "staff:s", later) }}, errs.KindInvalid, "reason"},
	} {
		a := newAmendment(t)
		var err error
		for i, step := range c.steps {
			before := a.Version
			err = step(a)
			if i < len(c.steps)-1 && err != nil {
				t.Fatalf("%s: step %d: %v", c.name, i, err)
			}
			if (err == nil) != (a.Version == before+1) {
				t.Errorf("%s: step %d: version %d after %d, err %v", c.name, i, a.Version, before, err)
			}
		}
		switch {
		case c.kind == 0 && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.kind != 0 && (!errs.Is(err, c.kind) || errs.FieldOf(err) != c.field):
			t.Errorf("%s: %v, want %v naming %q", c.name, err, c.kind, c.field)
		}
	}
}

func TestExtensionMovesTheDeadlineAndOverdue(t *testing.T) {
	a := newAmendment(t)
	if a.Overdue(rightsNow.AddDate(0, 0, 60)) || !a.Overdue(rightsNow.AddDate(0, 0, 60).Add(time.Second)) {
		t.Errorf("overdue: not exactly past day 60")
	}
	if err := a.Extend("Busy.", "staff:s", rightsNow.AddDate(0, 0, 59)); err != nil {
		t.Fatal(err)
	}
	if got, want := a.Due, rightsNow.AddDate(0, 0, 90); !got.Equal(want) || a.Overdue(rightsNow.AddDate(0, 0, 61)) {
		t.Errorf("extended: due %v, want %v", got, want)
	}
	r, err := ehr.NewRecordRequest(uuid.New(), uuid.New(), uuid.New(), "", "patient:p", rightsNow)
	if err != nil || r.Form != ehr.HumanReadable || !r.Due.Equal(rightsNow.AddDate(0, 0, 30)) {
		t.Fatalf("NewRecordRequest = %+v, %v", r, err)
	}
	if err := r.Fulfil("pdf", "staff:s", rightsNow); errs.FieldOf(err) != "form" {
		t.Errorf("Fulfil(pdf): %v, want form", err)
	}
	if err := r.Fulfil(ehr.FHIR, "staff:s", rightsNow); err != nil || r.Overdue(rightsNow.AddDate(1, 0, 0)) {
		t.Errorf("Fulfil: %v; a fulfilled request is never overdue", err)
	}
	if _, err := ehr.NewRecordRequest(uuid.New(), uuid.New(), uuid.New(), "paper", "patient:p", rightsNow); errs.FieldOf(err) != "form" {
		t.Errorf("NewRecordRequest(paper): %v, want form", err)
	}
}

func TestDisclosureValidate(t *testing.T) {
	ok := ehr.Disclosure{DisclosedAt: rightsNow, Recipient: "Registry", Description: "Immunizations", Purpose: "Law", RecordedBy: "staff:s"}
	if err := ok.Validate(rightsNow); err != nil {
		t.Fatal(err)
	}
	for field, edit := range map[string]func(*ehr.Disclosure){
		"disclosed_at":      func(d *ehr.Disclosure) { d.DisclosedAt = rightsNow.Add(time.Second) },
		"recipient":         func(d *ehr.Disclosure) { d.Recipient = "" },
		"recipient_address": func(d *ehr.Disclosure) { d.RecipientAddress = strings.Repeat("a", 501) },
		"description":       func(d *ehr.Disclosure) { d.Description = "" },
		"purpose":           func(d *ehr.Disclosure) { d.Purpose = "\x01" },
	} {
		d := ok
		edit(&d)
		if err := d.Validate(rightsNow); errs.FieldOf(err) != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	if got, want := ehr.ReportFrom(rightsNow), rightsNow.AddDate(-6, 0, 0); !got.Equal(want) {
		t.Errorf("ReportFrom = %v, want %v", got, want)
	}
}
