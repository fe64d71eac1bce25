package carebook_test

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestSignUpClinic checks that a clinic's sign-up creates the group, its
// practice, the administrator's account and a group administrator grant,
// with their entries, that the account can sign in, and that bad input is
// refused by field with nothing written.
func TestSignUpClinic(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		e := carebook.NewWithStore(st, carebook.WithClock(clock.NewFixed(time.Date(2030, 3, 4, 15, 0, 0, 0, time.UTC))))
		in := carebook.ClinicSignUp{Email: " Owner@Lakeside.example ", Password: "a long enough passphrase", ClinicName: " Lakeside Clinic "}
		out, err := e.SignUpClinic(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if out.Group.Name != "Lakeside Clinic" || out.Practice.Name != "Lakeside Clinic" || out.Practice.GroupID != out.Group.ID {
			t.Fatalf("group %+v, practice %+v", out.Group, out.Practice)
		}
		if out.Account.Kind != identity.Staff || out.Account.Email != "owner@lakeside.example" || out.Account.PracticeID != out.Practice.ID {
			t.Fatalf("account %+v", out.Account)
		}
		pr, err := e.RBAC.Principal(ctx, out.Account.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !pr.Can(rbac.PracticeManage, rbac.Target{GroupID: out.Group.ID}) || !pr.Can(rbac.AvailabilityManage, rbac.Target{GroupID: out.Group.ID, PracticeID: out.Practice.ID}) {
			t.Fatal("the administrator does not administer the group")
		}
		for _, action := range []string{"clinic.signup", "grant.create"} {
			es, err := e.Audit.Query(ctx, out.Practice.ID, audit.Filter{Action: action, Limit: 10})
			if err != nil || len(es) != 1 {
				t.Fatalf("%s entries: %d, %v", action, len(es), err)
			}
		}
		if _, _, err := e.Login(ctx, identity.LoginRequest{Identifier: "owner@lakeside.example", Password: in.Password}); err != nil {
			t.Fatalf("the administrator cannot sign in: %v", err)
		}

		for _, c := range []struct {
			name  string
			in    carebook.ClinicSignUp
			kind  errs.Kind
			field string
		}{
			{"a taken email", carebook.ClinicSignUp{Email: "owner@lakeside.example", Password: in.Password, ClinicName: "Other"}, errs.KindConflict, "email"},
			{"no email", carebook.ClinicSignUp{Password: in.Password, ClinicName: "Other"}, errs.KindInvalid, "email"},
			{"a short password", carebook.ClinicSignUp{Email: "b@x.example", Password: "short", ClinicName: "Other"}, errs.KindInvalid, "password"},
			{"no name", carebook.ClinicSignUp{Email: "b@x.example", Password: in.Password, ClinicName: "  "}, errs.KindInvalid, "clinic_name"},
		} {
			_, err := e.SignUpClinic(ctx, c.in)
			if errs.KindOf(err) != c.kind || errs.FieldOf(err) != c.field {
				t.Errorf("%s: %v (field %q), want %s %s", c.name, err, errs.FieldOf(err), c.kind, c.field)
			}
		}
		// The refused sign-ups wrote no group.
		var groups int
		if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM groups").Scan(&groups); err != nil {
			t.Fatal(err)
		}
		if groups != 1 {
			t.Fatalf("%d groups after one sign-up", groups)
		}
	})
}
