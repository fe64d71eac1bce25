package ehrtest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
)

// sameJSON reports whether a and b encode alike.
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatalf("marshal: %v %v", err1, err2)
	}
	return string(ja) == string(jb)
}

// runRights runs the cases of ehr.Rights.
func runRights(t *testing.T, open func(t *testing.T) Stores) {
	ctx := context.Background()

	t.Run("rights: amendments read back, decide once, link to entries", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		all := AppendAll(t, s.EHR, fx, Bodies("x"))
		a, err := ehr.NewAmendment(newID(), fx.Practice, fx.Patient, []ehr.EntryID{all[2].ID, all[1].ID}, "The diagnosis is wrong.", "patient:p", Now)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.EHR.CreateAmendment(ctx, a); err != nil {
			t.Fatalf("CreateAmendment: %v", err)
		}
		got, err := s.EHR.Amendment(ctx, fx.Practice, a.ID)
		if err != nil || !sameJSON(t, got, a) {
			t.Fatalf("Amendment = %+v, %v; want %+v", got, err, a)
		}
		// Extended, denied, disagreed with and rebutted: each reads back.
		steps := []func(*ehr.Amendment) error{
			func(a *ehr.Amendment) error { return a.Extend("Records are off site.", "staff:s", Now.Add(time.Hour)) },
			func(a *ehr.Amendment) error {
				return a.Deny(ehr.Accurate, "The entry is accurate.", "staff:s", Now.Add(2*time.Hour))
			},
			func(a *ehr.Amendment) error { return a.Disagree("I disagree.", "patient:p", Now.Add(3*time.Hour)) },
			func(a *ehr.Amendment) error { return a.Rebut("We stand by it.", "staff:s", Now.Add(4*time.Hour)) },
		}
		for i, step := range steps {
			if err := step(got); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if err := s.EHR.UpdateAmendment(ctx, got); err != nil {
				t.Fatalf("UpdateAmendment step %d: %v", i, err)
			}
			back, err := s.EHR.Amendment(ctx, fx.Practice, a.ID)
			if err != nil || !sameJSON(t, back, got) {
				t.Fatalf("after step %d: %+v, %v; want %+v", i, back, err, got)
			}
		}
		// A change from a stale version is refused.
		stale := *a
		if err := stale.Accept("x", "staff:s", Now); err != nil {
			t.Fatal(err)
		}
		if err := s.EHR.UpdateAmendment(ctx, &stale); !errs.Is(err, errs.KindConflict) {
			t.Errorf("UpdateAmendment from version 1: %v, want KindConflict", err)
		}
		linked, err := s.EHR.EntryAmendments(ctx, fx.Practice, all[1].ID)
		if err != nil || len(linked) != 1 || linked[0].ID != a.ID || linked[0].Rebuttal == nil {
			t.Errorf("EntryAmendments = %+v, %v", linked, err)
		}
		if linked, err := s.EHR.EntryAmendments(ctx, fx.Practice, all[3].ID); err != nil || len(linked) != 0 {
			t.Errorf("EntryAmendments of an entry not named = %+v, %v", linked, err)
		}
		list, err := s.EHR.Amendments(ctx, fx.Practice, fx.Patient)
		if err != nil || len(list) != 1 {
			t.Errorf("Amendments = %+v, %v", list, err)
		}

		// Entries of another patient, or unknown, are refused; nothing is kept.
		other := NewPatient(t, s, fx.Practice)
		for _, entries := range [][]ehr.EntryID{{newID()}, {all[1].ID, newID()}} {
			b, _ := ehr.NewAmendment(newID(), fx.Practice, other.Patient, entries, "x", "patient:p", Now)
			if err := s.EHR.CreateAmendment(ctx, b); !errs.Is(err, errs.KindNotFound) {
				t.Errorf("CreateAmendment(%v): %v, want KindNotFound", entries, err)
			}
		}
		if list, err := s.EHR.Amendments(ctx, fx.Practice, other.Patient); err != nil || len(list) != 0 {
			t.Errorf("the other patient's amendments = %+v, %v", list, err)
		}
		// Scoped to the practice.
		b := NewFixture(t, s)
		if _, err := s.EHR.Amendment(ctx, b.Practice, a.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("Amendment from another practice: %v", err)
		}
		if l, err := s.EHR.EntryAmendments(ctx, b.Practice, all[1].ID); err != nil || len(l) != 0 {
			t.Errorf("EntryAmendments from another practice = %+v, %v", l, err)
		}
		moved := *got
		moved.PracticeID, moved.Version = b.Practice, got.Version+1
		if err := s.EHR.UpdateAmendment(ctx, &moved); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("UpdateAmendment as another practice: %v, want KindNotFound", err)
		}
	})

	t.Run("rights: overdue lists", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		all := AppendAll(t, s.EHR, fx, Bodies("x"))
		mk := func(at time.Time) *ehr.Amendment {
			a, err := ehr.NewAmendment(newID(), fx.Practice, fx.Patient, []ehr.EntryID{all[1].ID}, "x", "patient:p", at)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.EHR.CreateAmendment(ctx, a); err != nil {
				t.Fatal(err)
			}
			return a
		}
		old, older, fresh, decided := mk(Epoch), mk(Epoch.Add(-time.Hour)), mk(Epoch.Add(30*24*time.Hour)), mk(Epoch)
		if err := decided.Accept("Corrected.", "staff:s", Epoch.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.EHR.UpdateAmendment(ctx, decided); err != nil {
			t.Fatal(err)
		}
		now := Epoch.Add(61 * 24 * time.Hour)
		got, err := s.EHR.OverdueAmendments(ctx, fx.Practice, now)
		if err != nil || len(got) != 2 || got[0].ID != older.ID || got[1].ID != old.ID {
			t.Errorf("OverdueAmendments = %d, %v; want the two undecided past 60 days, most overdue first", len(got), err)
		}
		_ = fresh
		if got, err := s.EHR.OverdueAmendments(ctx, NewFixture(t, s).Practice, now); err != nil || len(got) != 0 {
			t.Errorf("another practice's overdue = %d, %v", len(got), err)
		}

		r, err := ehr.NewRecordRequest(newID(), fx.Practice, fx.Patient, ehr.FHIR, "patient:p", Epoch)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.EHR.CreateRecordRequest(ctx, r); err != nil {
			t.Fatalf("CreateRecordRequest: %v", err)
		}
		r2, _ := ehr.NewRecordRequest(newID(), fx.Practice, fx.Patient, "", "staff:s", Epoch)
		if err := s.EHR.CreateRecordRequest(ctx, r2); err != nil {
			t.Fatal(err)
		}
		if err := r2.Extend("Archived records.", "staff:s", Epoch.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.EHR.UpdateRecordRequest(ctx, r2); err != nil {
			t.Fatal(err)
		}
		at31 := Epoch.Add(31 * 24 * time.Hour)
		if got, err := s.EHR.OverdueRecordRequests(ctx, fx.Practice, at31); err != nil || len(got) != 1 || got[0].ID != r.ID {
			t.Errorf("OverdueRecordRequests at 31 days = %d, %v; want the one not extended", len(got), err)
		}
		if err := r2.Fulfil(ehr.HumanReadable, "staff:s", at31); err != nil {
			t.Fatal(err)
		}
		if err := s.EHR.UpdateRecordRequest(ctx, r2); err != nil {
			t.Fatal(err)
		}
		back, err := s.EHR.RecordRequest(ctx, fx.Practice, r2.ID)
		if err != nil || !sameJSON(t, back, r2) {
			t.Errorf("RecordRequest = %+v, %v; want %+v", back, err, r2)
		}
		list, err := s.EHR.RecordRequests(ctx, fx.Practice, fx.Patient)
		if err != nil || len(list) != 2 {
			t.Errorf("RecordRequests = %d, %v", len(list), err)
		}
		if _, err := s.EHR.RecordRequest(ctx, NewFixture(t, s).Practice, r.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("RecordRequest from another practice: %v", err)
		}
	})

	t.Run("rights: two deciders, one wins", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		all := AppendAll(t, s.EHR, fx, Bodies("x"))
		a, _ := ehr.NewAmendment(newID(), fx.Practice, fx.Patient, []ehr.EntryID{all[1].ID}, "x", "patient:p", Now)
		if err := s.EHR.CreateAmendment(ctx, a); err != nil {
			t.Fatal(err)
		}
		r, _ := ehr.NewRecordRequest(newID(), fx.Practice, fx.Patient, "", "patient:p", Now)
		if err := s.EHR.CreateRecordRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		const n = 6
		var wg sync.WaitGroup
		results := make(chan error, 2*n)
		for i := range n {
			wg.Add(2)
			go func() {
				defer wg.Done()
				mine, err := s.EHR.Amendment(ctx, fx.Practice, a.ID)
				if err == nil {
					if i%2 == 0 {
						err = mine.Accept("Corrected.", "staff:s", Now)
					} else {
						err = mine.Deny(ehr.Accurate, "Accurate.", "staff:s", Now)
					}
				}
				if err == nil {
					err = s.EHR.UpdateAmendment(ctx, mine)
				}
				results <- err
			}()
			go func() {
				defer wg.Done()
				mine := *r
				err := mine.Fulfil(ehr.FHIR, "staff:s", Now)
				if err == nil {
					err = s.EHR.UpdateRecordRequest(ctx, &mine)
				}
				results <- err
			}()
		}
		wg.Wait()
		close(results)
		if won := wins(t, results, "decider"); won != 2 {
			t.Errorf("%d decisions were written, want one per request", won)
		}
		got, err := s.EHR.Amendment(ctx, fx.Practice, a.ID)
		if err != nil || got.Version != 2 || got.Status == ehr.Requested {
			t.Errorf("the request is %+v, %v", got, err)
		}
	})

	t.Run("rights: disclosures, oldest first, in the window", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		other := NewPatient(t, s, fx.Practice)
		mk := func(p Fixture, at time.Time, addr string) *ehr.Disclosure {
			d := &ehr.Disclosure{ID: newID(), PracticeID: p.Practice, PatientID: p.Patient, DisclosedAt: at,
				Recipient: "County health department", RecipientAddress: addr, Description: "Immunization record",
				Purpose: "Public health reporting", RecordedBy: "staff:s", RecordedAt: Now}
			if err := d.Validate(Now); err != nil {
				t.Fatal(err)
			}
			if err := s.EHR.CreateDisclosure(ctx, d); err != nil {
				t.Fatalf("CreateDisclosure: %v", err)
			}
			return d
		}
		late, early := mk(fx, Epoch, "1 Main St"), mk(fx, Epoch.Add(-24*time.Hour), "")
		tooOld := mk(fx, ehr.ReportFrom(Now).Add(-time.Hour), "")
		mk(other, Epoch, "")
		got, err := s.EHR.Disclosures(ctx, fx.Practice, fx.Patient, ehr.ReportFrom(Now), Now)
		if err != nil || len(got) != 2 || !sameJSON(t, got[0], early) || !sameJSON(t, got[1], late) {
			t.Errorf("Disclosures = %+v, %v; want the two of the window, oldest first", got, err)
		}
		_ = tooOld
		if got, err := s.EHR.Disclosures(ctx, NewFixture(t, s).Practice, fx.Patient, ehr.ReportFrom(Now), Now); err != nil || len(got) != 0 {
			t.Errorf("Disclosures from another practice = %d, %v", len(got), err)
		}
		d := &ehr.Disclosure{ID: newID(), PracticeID: fx.Practice, PatientID: newID(), DisclosedAt: Epoch, Recipient: "x",
			Description: "x", Purpose: "x", RecordedBy: "staff:s", RecordedAt: Now}
		if err := s.EHR.CreateDisclosure(ctx, d); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("CreateDisclosure of an unknown patient: %v, want KindNotFound", err)
		}
	})
}
