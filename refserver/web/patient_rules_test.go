package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// signUp posts the sign-up form of the demo practice with form (the
// fields not given are those of a valid sign-up).
func signUp(c *client, form url.Values) page {
	c.t.Helper()
	full := url.Values{"given_name": {"Nora"}, "family_name": {"Fischer"}, "birth_date": {"1990-05-17"},
		"email": {"nora@example.org"}, "password": {"a long enough passphrase"}}
	for k, v := range form {
		full[k] = v
	}
	c.get(c.a.base() + "/register")
	return c.post(c.a.base()+"/register", full)
}

// TestPatientSignUp: bad input re-renders the form with the message by
// the field and what was typed kept; a sign-up creates a new record even
// when a patient record has the same email (it is never claimed); the
// verification token is delivered and works once; the new patient signs
// in to their own, empty, visits.
func TestPatientSignUp(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.client()
		c.get(a.base()+"/register").want(t, http.StatusOK, "<h1>Create your patient account</h1>", "Riverside Family Clinic")
		for _, tc := range []struct {
			name  string
			form  url.Values
			field string
			msg   string
		}{
			{"no given name", url.Values{"given_name": {""}}, "given_name", "This is required."},
			{"bad birth date", url.Values{"birth_date": {"1990-02-31"}}, "birth_date", ""},
			{"birth date to come", url.Values{"birth_date": {"2031-01-01"}}, "birth_date", ""},
			{"short password", url.Values{"password": {"short"}}, "password", "12"},
			{"bad email", url.Values{"email": {"not an email"}}, "email", ""},
			{"bad phone", url.Values{"phone": {"12"}}, "phone", ""},
			{"email of an account", url.Values{"email": {demo.PatientEmail}}, "email", "exists already"},
		} {
			res := signUp(c, tc.form)
			res.want(t, http.StatusUnprocessableEntity, `id="`+tc.field+`-error"`, tc.msg)
			if tc.field != "given_name" && !strings.Contains(res.body, `value="Nora"`) {
				t.Errorf("%s: the typed given name is not kept", tc.name)
			}
		}
		// Marcus Johnson's record has this email and no account: signing up
		// with it makes a new record, not a claim on his (and his visits).
		const email = "marcus.johnson@example.com"
		res := signUp(c, url.Values{"email": {email}, "given_name": {"Marcus"}, "family_name": {"Johnson"}})
		if res.status != http.StatusSeeOther || res.location() != a.base()+"/register/sent" {
			t.Fatalf("sign up: %d to %q\n%s", res.status, res.location(), res.body)
		}
		c.get(res.location()).want(t, http.StatusOK, "Check your email", "You can sign in now")
		tok := a.tokens.last(refserver.TokenEmailVerification, email)
		if tok == "" {
			t.Fatal("no verification token delivered")
		}
		c.get("/verify?token="+url.QueryEscape(tok)).want(t, http.StatusOK, `name="token" value="`+tok+`"`)
		if res := c.post("/verify", url.Values{"token": {tok}}); res.status != http.StatusSeeOther || res.location() != a.base()+"/verified" {
			t.Fatalf("verify: %d to %q\n%s", res.status, res.location(), res.body)
		}
		c.post("/verify", url.Values{"token": {tok}}).want(t, http.StatusUnprocessableEntity, "expired or was used", `id="token-error"`)
		c.post("/verify", url.Values{"token": {"nonsense"}}).want(t, http.StatusUnprocessableEntity, "not valid")

		ctx := context.Background()
		pts, err := a.engine.Scheduling.Patients(ctx, a.demo.PracticeID, scheduling.PatientFilter{Email: email, Limit: 5})
		if err != nil || len(pts) != 2 {
			t.Fatalf("records with %s: %d (%v), want Marcus's and the new one", email, len(pts), err)
		}
		me := a.signedIn(email, "a long enough passphrase")
		visits := me.get(a.base()+"/visits").want(t, http.StatusOK, "You have no visits coming up.", "No past visits.")
		if strings.Contains(visits.body, "Follow-up") || strings.Contains(visits.body, "Diabetes") {
			t.Fatal("the new account sees Marcus Johnson's visits")
		}
		acct, err := a.engine.Identity.Account(ctx, accountOf(t, a, email))
		if err != nil || acct.EmailVerifiedAt == nil {
			t.Fatalf("the email is not verified: %v", err)
		}
		entries, err := a.engine.Audit.Query(ctx, a.demo.PracticeID, audit.Filter{Action: "patient.register"})
		if err != nil || len(entries) != 1 || entries[0].Actor != acct.ID.String() || entries[0].PatientID == nil {
			t.Fatalf("patient.register entries: %+v (%v)", entries, err)
		}
	})
}

// accountOf is the ID of the account of email.
func accountOf(t *testing.T, a *app, email string) identity.AccountID {
	t.Helper()
	at, err := a.engine.Identity.CheckLogin(context.Background(), identity.LoginRequest{Identifier: email})
	if err != nil || at.Account() == nil {
		t.Fatalf("no account %s: %v", email, err)
	}
	return at.Account().ID
}

// patientClient links a new account to the demo patient record of email
// (as the front desk would, by a self grant) and signs it in.
func (a *app) patientClient(email string) *client {
	a.t.Helper()
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Staff, ID: "test"})
	pts, err := a.engine.Scheduling.Patients(ctx, a.demo.PracticeID, scheduling.PatientFilter{Email: email, Limit: 1})
	if err != nil || len(pts) != 1 {
		a.t.Fatalf("no patient %s: %v", email, err)
	}
	const pw = "a long enough passphrase"
	acct, _, err := a.engine.Register(ctx, identity.Registration{PracticeID: a.demo.PracticeID, Email: email, Password: pw})
	if err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.engine.RBAC.GrantAsSystem(ctx, rbac.NewGrant{AccountID: acct.ID, RoleID: rbac.PatientRoleID,
		Scope: rbac.SelfScope(demo.GroupID(), a.demo.PracticeID, pts[0].ID)}); err != nil {
		a.t.Fatal(err)
	}
	return a.signedIn(email, pw)
}

// TestPatientAudience: a visit type is offered only to the patients it is
// for, with the providers it fits, as booking enforces: Olivia (new
// everywhere) is not offered the follow-up; Marcus (established with Dr.
// Chen) is, with Dr. Chen only, and a search of it with Dr. Okafor is
// refused by the provider field.
func TestPatientAudience(t *testing.T) {
	a := newSQLiteApp(t)
	ids := a.demoIDs()
	olivia := a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
	book := olivia.get(a.base()+"/book").want(t, http.StatusOK, "New patient visit")
	if strings.Contains(book.body, "Follow-up") {
		t.Fatal("a new patient is offered the follow-up")
	}
	olivia.get(a.base()+"/book?"+url.Values{"visit_type_id": {ids.followUp}, "location_id": {ids.brooklyn}}.Encode()).
		want(t, http.StatusUnprocessableEntity, `id="visit_type_id-error"`, "not open to you")
	olivia.get(a.base()+"/book?"+url.Values{"visit_type_id": {"nope"}, "location_id": {ids.brooklyn}}.Encode()).
		want(t, http.StatusUnprocessableEntity, `id="visit_type_id-error"`)
	// Booked anyway, the domain refuses it, on the page.
	me := a.samples()["patient"].own
	olivia.post(a.base()+"/book", url.Values{"patient_id": {me}, "visit_type_id": {ids.followUp}, "provider_id": {ids.chen},
		"location_id": {ids.brooklyn}, "start": {"2030-03-06T14:00:00Z"}}).
		want(t, http.StatusUnprocessableEntity, "for established patients only")

	marcus := a.patientClient("marcus.johnson@example.com")
	marcus.get(a.base()+"/book").want(t, http.StatusOK, "New patient visit", "Follow-up")
	any := marcus.get(a.base()+"/book?"+url.Values{"visit_type_id": {ids.followUp}, "location_id": {ids.brooklyn}}.Encode()).
		want(t, http.StatusOK, "Open times", "Maya Chen")
	if strings.Contains(any.body, `<span class="slot-who">Samuel Okafor`) {
		t.Fatal("the follow-up is offered with a provider the patient is new to")
	}
	marcus.get(a.base()+"/book?"+url.Values{"visit_type_id": {ids.followUp}, "location_id": {ids.brooklyn}, "provider_id": {ids.okafor}}.Encode()).
		want(t, http.StatusUnprocessableEntity, `id="provider_id-error"`)
}

// TestPatientBooksMovesCancels: a patient's booking is a request waiting
// for the practice, or confirmed at once when the practice confirms
// automatically; it moves to another open time; another patient's
// records are refused (403), by the form's patient_id and by the
// appointment in the path.
func TestPatientBooksMovesCancels(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		ids := a.demoIDs()
		ss := a.samples()
		olivia := a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
		bookAt := func(start string) page {
			return olivia.post(a.base()+"/book", url.Values{"patient_id": {ss["patient"].own}, "visit_type_id": {ids.newVisit},
				"provider_id": {ids.chen}, "location_id": {ids.brooklyn}, "start": {start}})
		}
		res := bookAt("2030-03-06T14:00:00Z")
		if res.status != http.StatusSeeOther || !strings.Contains(res.location(), "booked=1") {
			t.Fatalf("book: %d to %q\n%s", res.status, res.location(), res.body)
		}
		olivia.get(res.location()).want(t, http.StatusOK, "Your request is sent", `class="status status-new"`, "Wednesday 6 March 2030, 09:00")
		bookAt("2030-03-06T14:00:00Z").want(t, http.StatusConflict, "Someone has just taken this time")

		ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Staff, ID: "test"})
		pol := tenant.DefaultPolicy
		pol.AutoConfirm = true
		if err := a.engine.Tenants.SetPolicy(ctx, a.demo.PracticeID, pol); err != nil {
			t.Fatal(err)
		}
		res = bookAt("2030-03-07T16:00:00Z")
		if res.status != http.StatusSeeOther {
			t.Fatalf("book: %d\n%s", res.status, res.body)
		}
		olivia.get(res.location()).want(t, http.StatusOK, "Your visit is confirmed", `class="status status-confirmed"`)
		visit := strings.TrimSuffix(res.location(), "?booked=1")

		olivia.get(visit+"/reschedule").want(t, http.StatusOK, "Open times", `name="slot"`)
		olivia.get(visit+"/reschedule?slot="+url.QueryEscape("2030-03-08T14:00:00Z@"+ids.chen)).want(t, http.StatusOK, "Friday 8 March 2030, 09:00")
		moved := olivia.post(visit+"/reschedule", url.Values{"start": {"2030-03-08T14:00:00Z"}})
		if moved.status != http.StatusSeeOther || !strings.HasSuffix(moved.location(), "?moved=1") {
			t.Fatalf("reschedule: %d to %q\n%s", moved.status, moved.location(), moved.body)
		}
		olivia.get(moved.location()).want(t, http.StatusOK, "Your visit has moved", "Friday 8 March 2030, 09:00")
		olivia.post(visit+"/reschedule", url.Values{"start": {"yesterday"}}).want(t, http.StatusUnprocessableEntity, `class="notice error"`)

		// Another patient's records.
		other := ss["patient"].other
		olivia.post(a.base()+"/book", url.Values{"patient_id": {other}, "visit_type_id": {ids.newVisit},
			"provider_id": {ids.chen}, "location_id": {ids.brooklyn}, "start": {"2030-03-11T14:00:00Z"}}).want(t, http.StatusForbidden)
		theirs := a.base() + "/visits/" + ss["appointment"].other
		olivia.get(theirs).want(t, http.StatusForbidden)
		olivia.post(theirs+"/cancel", url.Values{}).want(t, http.StatusForbidden)
		olivia.post(a.base()+"/preferences", url.Values{"patient_id": {other}, "marketing": {"on"}}).want(t, http.StatusForbidden)
		ap, err := a.engine.Scheduling.Appointment(context.Background(), a.demo.PracticeID, mustID(t, ss["appointment"].other))
		if err != nil || ap.Status == scheduling.StatusCanceled {
			t.Fatalf("another patient's visit: %v, %v", ap, err)
		}
		// Staff have no patient pages.
		desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
		desk.get(a.base()+"/visits").want(t, http.StatusForbidden)
	})
}

// TestPatientCancelCutoff: before the cancellation cut-off the visit can
// be canceled online (with an optional reason); once inside it the pages
// explain it instead of offering the buttons, and a cancel posted anyway
// is refused with the explanation, the visit unchanged.
func TestPatientCancelCutoff(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		ss := a.samples()
		visit := a.base() + "/visits/" + ss["appointment"].own
		olivia := a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
		const closed = "Online changes close 24 hours before the visit; please call the practice."
		olivia.get(visit+"/cancel").want(t, http.StatusOK, "Cancel this visit", `name="reason"`)
		list := olivia.get(a.base()+"/visits").want(t, http.StatusOK, visit+"/cancel")
		if strings.Contains(list.body, closed) {
			t.Fatal("the cut-off is explained before it has passed")
		}

		a.clock.Advance(2 * time.Hour) // the visit is Tuesday 10:20; it is now Monday 12:00
		olivia = a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
		list = olivia.get(a.base()+"/visits").want(t, http.StatusOK, closed)
		if strings.Contains(list.body, visit+"/cancel") || strings.Contains(list.body, visit+"/reschedule") {
			t.Fatal("the visits page offers changes inside the cut-off")
		}
		page := olivia.get(visit+"/cancel").want(t, http.StatusOK, closed)
		if strings.Contains(page.body, "Cancel this visit</button>") {
			t.Fatal("the cancel page offers the button inside the cut-off")
		}
		olivia.post(visit+"/cancel", url.Values{"reason": {"late"}}).want(t, http.StatusUnprocessableEntity, closed)
		olivia.post(visit+"/reschedule", url.Values{"start": {"2030-03-08T14:00:00Z"}}).want(t, http.StatusUnprocessableEntity, closed)
		ap, err := a.engine.Scheduling.Appointment(context.Background(), a.demo.PracticeID, mustID(t, ss["appointment"].own))
		if err != nil || ap.Status != scheduling.StatusNew {
			t.Fatalf("the visit changed: %v, %v", ap, err)
		}
	})
}

// TestPatientCancels: a cancel with a reason is recorded with it.
func TestPatientCancels(t *testing.T) {
	a := newSQLiteApp(t)
	ss := a.samples()
	visit := a.base() + "/visits/" + ss["appointment"].own
	olivia := a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
	olivia.post(visit+"/cancel", url.Values{"reason": {strings.Repeat("x", 501)}}).want(t, http.StatusUnprocessableEntity, `id="reason-error"`)
	res := olivia.post(visit+"/cancel", url.Values{"reason": {"I feel better"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d\n%s", res.status, res.body)
	}
	olivia.get(res.location()).want(t, http.StatusOK, "Your visit is canceled", `class="status status-canceled"`)
	hist, err := a.engine.Scheduling.History(context.Background(), a.demo.PracticeID, mustID(t, ss["appointment"].own))
	if err != nil || hist[len(hist)-1].Reason != "I feel better" || hist[len(hist)-1].To != scheduling.StatusCanceled {
		t.Fatalf("history: %+v (%v)", hist, err)
	}
	olivia.get(a.base()+"/visits").want(t, http.StatusOK, "Past and canceled", "Canceled")
}

// mustID parses a UUID of the tests.
func mustID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestPatientPagesInSpanish: the open times and visits read in Spanish,
// dates included.
func TestPatientPagesInSpanish(t *testing.T) {
	a := newSQLiteApp(t)
	ids := a.demoIDs()
	olivia := a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
	olivia.get("/lang/es")
	olivia.get(a.base()+"/book?"+url.Values{"visit_type_id": {ids.newVisit}, "location_id": {ids.brooklyn}, "provider_id": {ids.chen}}.Encode()).
		want(t, http.StatusOK, "<h1>Reservar una visita</h1>", "martes 5 de marzo de 2030", "hora de New York, EST")
	olivia.get(a.base()+"/visits").want(t, http.StatusOK, "<h1>Mis visitas</h1>", "Solicitada: esperando a la consulta")
}
