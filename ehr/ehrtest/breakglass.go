package ehrtest

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
)

// runBreakGlass runs the cases of ehr.BreakGlasses.
func runBreakGlass(t *testing.T, open func(t *testing.T) Stores) {
	ctx := context.Background()

	t.Run("break-glass: in force for its hour only, to its account and patient", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		other := NewPatient(t, s, fx.Practice)
		account, colleague := newID(), newID()
		b, err := ehr.NewBreakGlass(newID(), fx.Practice, fx.Patient, account, "  Unconscious in the waiting room.  ", Now)
		if err != nil {
			t.Fatal(err)
		}
		if b.Reason != "Unconscious in the waiting room." || !b.ExpiresAt.Equal(Now.Add(ehr.BreakGlassFor)) {
			t.Fatalf("NewBreakGlass = %+v", b)
		}
		if err := s.EHR.OpenBreakGlass(ctx, b); err != nil {
			t.Fatalf("OpenBreakGlass: %v", err)
		}
		cases := []struct {
			name string
			fx   Fixture
			acct [16]byte
			at   time.Time
			want bool
		}{
			{"when opened", fx, account, Now, true},
			{"a minute before its end", fx, account, Now.Add(ehr.BreakGlassFor - time.Minute), true},
			{"at its end", fx, account, Now.Add(ehr.BreakGlassFor), false},
			{"before it was opened", fx, account, Now.Add(-time.Second), false},
			{"another account", fx, colleague, Now, false},
			{"another patient", other, account, Now, false},
			{"another practice", NewFixture(t, s), account, Now, false},
		}
		for _, c := range cases {
			got, err := s.EHR.BreakGlassActive(ctx, c.fx.Practice, fx.Patient, c.acct, c.at)
			if c.name == "another patient" {
				got, err = s.EHR.BreakGlassActive(ctx, fx.Practice, c.fx.Patient, c.acct, c.at)
			}
			if err != nil || got != c.want {
				t.Errorf("%s: BreakGlassActive = %v, %v; want %v", c.name, got, err, c.want)
			}
		}
		later, err := ehr.NewBreakGlass(newID(), fx.Practice, other.Patient, colleague, "Called by the emergency room.", Now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.EHR.OpenBreakGlass(ctx, later); err != nil {
			t.Fatal(err)
		}
		got, err := s.EHR.BreakGlassesOpened(ctx, fx.Practice, Epoch, Now.Add(2*time.Hour))
		if err != nil || len(got) != 2 || !sameJSON(t, got[0], later) || !sameJSON(t, got[1], b) {
			t.Fatalf("BreakGlassesOpened = %+v, %v; want both, newest first, reasons opened", got, err)
		}
		if got, err := s.EHR.BreakGlassesOpened(ctx, fx.Practice, Now.Add(time.Minute), Now.Add(2*time.Hour)); err != nil || len(got) != 1 {
			t.Errorf("BreakGlassesOpened after the first = %d, %v; want 1", len(got), err)
		}
		if got, err := s.EHR.BreakGlassesOpened(ctx, NewFixture(t, s).Practice, Epoch, Now.Add(2*time.Hour)); err != nil || len(got) != 0 {
			t.Errorf("BreakGlassesOpened of another practice = %d, %v", len(got), err)
		}
	})

	t.Run("break-glass: bad input and unknown patients are refused", func(t *testing.T) {
		s := open(t)
		fx := NewFixture(t, s)
		for _, reason := range []string{"", "   ", "urgent", string(make([]byte, 1001)), "bad \x00 byte in reason"} {
			if _, err := ehr.NewBreakGlass(newID(), fx.Practice, fx.Patient, newID(), reason, Now); !isField(err, "reason") {
				t.Errorf("NewBreakGlass(reason %.20q): %v, want KindInvalid naming reason", reason, err)
			}
		}
		if _, err := ehr.NewBreakGlass(newID(), fx.Practice, fx.Patient, [16]byte{}, "A stated reason.", Now); !isField(err, "account_id") {
			t.Errorf("NewBreakGlass(no account): %v, want KindInvalid naming account_id", err)
		}
		b, err := ehr.NewBreakGlass(newID(), fx.Practice, newID(), newID(), "A stated reason.", Now)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.EHR.OpenBreakGlass(ctx, b); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("OpenBreakGlass of an unknown patient: %v, want KindNotFound", err)
		}
		b.PatientID = fx.Patient
		b.ExpiresAt = b.OpenedAt
		if err := s.EHR.OpenBreakGlass(ctx, b); !isField(err, "expires_at") {
			t.Errorf("OpenBreakGlass ending when it opens: %v, want KindInvalid naming expires_at", err)
		}
	})
}

// isField reports whether err is KindInvalid naming field.
func isField(err error, field string) bool {
	return errs.Is(err, errs.KindInvalid) && errs.FieldOf(err) == field
}
