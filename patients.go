package carebook

import (
	"context"
	"slices"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Patients on their own: signing up with a practice, and what a signed-in
// patient may see and book there. Each read of the patient's data goes
// through the access guard (see Authorize) over the patient's own record,
// which the caller's self grant names.

// PatientSignUp is the input of RegisterPatient: the account's sign-in
// and the patient record's details.
type PatientSignUp struct {
	PracticeID tenant.PracticeID
	// Email and Password sign the account in; the email is verified with
	// the token RegisterPatient returns.
	Email, Password string
	// GivenName, FamilyName and BirthDate (YYYY-MM-DD) are required; Phone
	// (for text messages) and Language (BCP 47) are not. The phone is the
	// record's, not a sign-in.
	GivenName, FamilyName, BirthDate string
	Phone, Language                  string
}

// registrar is the actor of the grant and record a self-registration
// makes: the new account has no grant to act with yet.
var registrar = actor.Actor{Kind: actor.System, ID: "registration"}

// RegisterPatient signs a new patient up with a practice, in one
// transaction: the patient account (with an unverified email), a new
// patient record of the practice with the details given, the self grant
// of the patient role that links the two, and the "patient.register"
// activity-log entry. It never links an existing record, even one with
// the same email: that would let anyone claim another person's record
// (the front desk merges records if needed). It returns the account, the
// record and the email verification token, shown only here, that
// identity.Service.VerifyEmail takes. Signing in does not wait for the
// verification.
//
// Errors: KindInvalid naming the field (email, password, given_name,
// family_name, birth_date, phone, language); KindConflict naming email
// when an account has it; KindNotFound naming practice. Nothing is
// written on error. The password is hashed before the transaction opens.
func (e *Engine) RegisterPatient(ctx context.Context, in PatientSignUp) (*identity.Account, *scheduling.Patient, string, error) {
	const op = "carebook.RegisterPatient"
	p, err := e.Tenants.Practice(ctx, in.PracticeID)
	if err != nil {
		return nil, nil, "", errs.NotFound(op, "practice")
	}
	if in.Email == "" {
		return nil, nil, "", errs.Invalid(op, "email", "is required")
	}
	pending, err := e.Identity.PrepareRegistration(ctx, identity.Registration{PracticeID: p.ID, Email: in.Email, Password: in.Password})
	if err != nil {
		return nil, nil, "", err
	}
	var (
		acct *identity.Account
		pt   *scheduling.Patient
		tok  string
	)
	en := Entry(ctx, p.ID, uuid.Nil.String(), "patient.register", "patient", "", audit.Allowed)
	err = e.Change(ctx, en, func(ctx context.Context, en *audit.Entry) error {
		var err error
		if acct, tok, err = e.Identity.FinishRegistration(ctx, pending); err != nil {
			return err
		}
		pt, err = e.Scheduling.CreatePatient(ctx, p.ID, scheduling.PatientInput{GivenName: in.GivenName, FamilyName: in.FamilyName,
			BirthDate: in.BirthDate, Phone: in.Phone, Email: acct.Email, Language: in.Language})
		if err != nil {
			return err
		}
		if _, err := e.RBAC.GrantAsSystem(actor.With(ctx, registrar), rbac.NewGrant{AccountID: acct.ID, RoleID: rbac.PatientRoleID,
			Scope: rbac.SelfScope(p.GroupID, p.ID, pt.ID)}); err != nil {
			return err
		}
		en.Actor, en.ResourceID, en.PatientID, en.Role = acct.ID.String(), pt.ID.String(), &pt.ID, rbac.PatientRole
		return nil
	})
	if err != nil {
		return nil, nil, "", err
	}
	return acct, pt, tok, nil
}

// OwnPatient returns the patient record of practice that the caller's
// account is linked to by its self grant (the patient role): the record
// the patient pages show. An account with no such grant there (staff, an
// API key) is KindForbidden; no caller is KindUnauthenticated.
func (e *Engine) OwnPatient(ctx context.Context, practice tenant.PracticeID) (scheduling.PatientID, error) {
	const op = "carebook.OwnPatient"
	c, ok := CallerFrom(ctx)
	if !ok {
		return uuid.Nil, errs.E(errs.KindUnauthenticated, op, "no caller: the context carries no principal (carebook.WithCaller)")
	}
	acct := c.Principal.Account()
	if acct != uuid.Nil {
		grants, err := e.store.RBAC.ListAccountGrants(ctx, acct)
		if err != nil {
			return uuid.Nil, err
		}
		for _, g := range grants {
			if g.Scope.Kind == rbac.ScopeSelf && g.Scope.PracticeID == practice && g.RoleID == rbac.PatientRoleID {
				return g.Scope.PatientID, nil
			}
		}
	}
	return uuid.Nil, errs.E(errs.KindForbidden, op, "these pages are for the practice's patients: this account is linked to no patient record here")
}

// BookingChoices are what a patient may book in a practice: the visit
// types open to them with at least one provider, the practice's locations
// and providers, and whether the patient is new or established with each
// provider (which decides the visit types' audience, as Book does).
type BookingChoices struct {
	VisitTypes []*scheduling.VisitType
	Locations  []*tenant.Location
	Providers  []*scheduling.Provider
	Kinds      map[scheduling.ProviderID]scheduling.PatientKind
}

// Fits reports whether the visit type vt is for the patient with the
// provider prov: its audience is anyone, or the patient's kind with prov.
func (c *BookingChoices) Fits(vt *scheduling.VisitType, prov scheduling.ProviderID) bool {
	switch vt.Audience {
	case scheduling.NewOnly:
		return c.Kinds[prov] == scheduling.NewPatient
	case scheduling.EstablishedOnly:
		return c.Kinds[prov] == scheduling.EstablishedPatient
	}
	return true
}

// maxBookingProviders bounds the providers a patient chooses among, as
// OpenSlots bounds a search.
const maxBookingProviders = 200

// PatientBookingChoices returns what patient may book in practice now,
// for the caller in ctx, who needs appointment.book over the patient (the
// patient's self grant holds it). It reads the patient's finished visits
// of the last three years, to tell new from established; the decision is
// not logged, as nothing of the record is shown but which visit types are
// offered.
func (e *Engine) PatientBookingChoices(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) (*BookingChoices, error) {
	if _, err := e.Authorize(ctx, Access{Permission: rbac.AppointmentBook, PracticeID: practice, PatientID: &patient, Effect: EffectRead}); err != nil {
		return nil, err
	}
	vts, err := e.Scheduling.VisitTypes(ctx, practice)
	if err != nil {
		return nil, err
	}
	locs, err := e.Tenants.Locations(ctx, practice)
	if err != nil {
		return nil, err
	}
	provs, err := e.Scheduling.Providers(ctx, practice, scheduling.ProviderFilter{Limit: maxBookingProviders})
	if err != nil {
		return nil, err
	}
	now := e.Clock.Now().UTC()
	visits, err := e.store.Scheduling.FinishedVisits(ctx, practice, []scheduling.PatientID{patient}, now.AddDate(-3, 0, 0), now)
	if err != nil {
		return nil, err
	}
	c := &BookingChoices{Locations: locs, Providers: provs, Kinds: make(map[scheduling.ProviderID]scheduling.PatientKind, len(provs))}
	for _, p := range provs {
		c.Kinds[p.ID] = scheduling.PatientKindOf(p.ID, p.Specialties, visits, patient, now)
	}
	for _, vt := range vts {
		if slices.ContainsFunc(provs, func(p *scheduling.Provider) bool { return c.Fits(vt, p.ID) }) {
			c.VisitTypes = append(c.VisitTypes, vt)
		}
	}
	return c, nil
}

// PatientSlots returns the open slots of q that the patient of choices
// may book: those of the providers with whom the visit type's audience
// fits the patient (q's providers, or every provider of choices at q's
// location). A visit type the patient may not book, or a provider with
// whom it does not fit, is KindPreconditionFailed naming visit_type_id or
// provider_id.
func (e *Engine) PatientSlots(ctx context.Context, practice tenant.PracticeID, choices *BookingChoices, q scheduling.SlotQuery) ([]scheduling.Slot, error) {
	const op = "carebook.PatientSlots"
	i := slices.IndexFunc(choices.VisitTypes, func(vt *scheduling.VisitType) bool { return vt.ID == q.VisitTypeID })
	if i < 0 {
		return nil, &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "visit_type_id", Msg: "this visit type is not open to you"}
	}
	vt := choices.VisitTypes[i]
	var provs []scheduling.ProviderID
	for _, p := range choices.Providers {
		switch {
		case len(q.ProviderIDs) > 0 && !slices.Contains(q.ProviderIDs, p.ID):
		case q.LocationID != nil && !slices.Contains(p.LocationIDs, *q.LocationID):
		case choices.Fits(vt, p.ID):
			provs = append(provs, p.ID)
		}
	}
	if len(provs) == 0 {
		if len(q.ProviderIDs) > 0 {
			return nil, &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "provider_id",
				Msg: "this visit type is for " + string(vt.Audience) + " patients of a provider, and you are not one of this provider's"}
		}
		return []scheduling.Slot{}, nil
	}
	q.ProviderIDs = provs
	return e.Scheduling.OpenSlots(ctx, practice, q)
}

// PatientVisit is one of a patient's appointments as the patient sees it.
type PatientVisit struct {
	Appointment *scheduling.Appointment
	VisitType   *scheduling.VisitType
	Provider    *scheduling.Provider
	Location    *tenant.Location
	// Upcoming: the visit has not ended and is new or confirmed.
	Upcoming bool
	// ChangeClosed: the visit is upcoming but inside the practice's
	// cancellation cut-off, so the patient may no longer cancel or move it
	// online (Reschedule and Transition refuse, the same rule).
	ChangeClosed bool
}

// PatientVisits are a patient's visits in a practice, with the practice's
// policy they are changed under.
type PatientVisits struct {
	Policy tenant.BookingPolicy
	// Upcoming are the visits to come, soonest first; Past the others
	// (ended, canceled or not attended), latest first.
	Upcoming, Past []PatientVisit
}

// visitHistory is how far back PatientVisits looks.
const visitHistory = 2

// maxPatientVisits bounds the visits PatientVisits reads.
const maxPatientVisits = 500

// PatientVisits returns patient's visits in practice of the last two
// years and to come, for the caller in ctx, who needs appointment.read
// over the patient; the read and its "appointment.list" entry commit
// together (see Guard).
func (e *Engine) PatientVisits(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID) (*PatientVisits, error) {
	var out *PatientVisits
	err := e.Guard(ctx, Access{Permission: rbac.AppointmentRead, PracticeID: practice, PatientID: &patient,
		Action: "appointment.list", ResourceType: "appointment", ResourceID: patient.String()},
		func(ctx context.Context) (string, error) {
			now := e.Clock.Now().UTC()
			appts, err := e.store.Scheduling.ListAppointments(ctx, practice, scheduling.AppointmentFilter{PatientID: &patient,
				From: now.AddDate(-visitHistory, 0, 0), To: now.AddDate(50, 0, 0), Limit: maxPatientVisits})
			if err != nil {
				return "", err
			}
			out, err = e.describeVisits(ctx, practice, appts, now)
			return patient.String(), err
		})
	return out, err
}

// PatientVisit returns one appointment of practice as its patient sees
// it; the caller in ctx must have read it already (the reference server's
// route guard, or Engine.Guard).
func (e *Engine) PatientVisit(ctx context.Context, practice tenant.PracticeID, a *scheduling.Appointment) (*PatientVisit, tenant.BookingPolicy, error) {
	vs, err := e.describeVisits(ctx, practice, []*scheduling.Appointment{a}, e.Clock.Now().UTC())
	if err != nil {
		return nil, tenant.BookingPolicy{}, err
	}
	if len(vs.Upcoming) == 1 {
		return &vs.Upcoming[0], vs.Policy, nil
	}
	return &vs.Past[0], vs.Policy, nil
}

// describeVisits names the visit type, provider and location of appts and
// sorts them into upcoming and past at now.
func (e *Engine) describeVisits(ctx context.Context, practice tenant.PracticeID, appts []*scheduling.Appointment, now time.Time) (*PatientVisits, error) {
	p, err := e.Tenants.Practice(ctx, practice)
	if err != nil {
		return nil, err
	}
	vts, err := e.Scheduling.VisitTypes(ctx, practice)
	if err != nil {
		return nil, err
	}
	provs, err := e.Scheduling.Providers(ctx, practice, scheduling.ProviderFilter{Limit: 1000})
	if err != nil {
		return nil, err
	}
	locs, err := e.Tenants.Locations(ctx, practice)
	if err != nil {
		return nil, err
	}
	out := &PatientVisits{Policy: p.Policy, Upcoming: []PatientVisit{}, Past: []PatientVisit{}}
	for _, a := range appts {
		v := PatientVisit{Appointment: a}
		for _, x := range vts {
			if x.ID == a.VisitTypeID {
				v.VisitType = x
			}
		}
		for _, x := range provs {
			if x.ID == a.ProviderID {
				v.Provider = x
			}
		}
		for _, x := range locs {
			if x.ID == a.LocationID {
				v.Location = x
			}
		}
		active := a.Status == scheduling.StatusNew || a.Status == scheduling.StatusConfirmed
		v.Upcoming = active && a.End.After(now)
		v.ChangeClosed = v.Upcoming && scheduling.PastCutoff(p.Policy.CancelCutoff, now, a.Start)
		if v.Upcoming {
			out.Upcoming = append(out.Upcoming, v)
		} else {
			out.Past = append(out.Past, v)
		}
	}
	slices.SortStableFunc(out.Upcoming, func(x, y PatientVisit) int { return x.Appointment.Start.Compare(y.Appointment.Start) })
	slices.SortStableFunc(out.Past, func(x, y PatientVisit) int { return y.Appointment.Start.Compare(x.Appointment.Start) })
	return out, nil
}
