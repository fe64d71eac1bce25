// Package demo seeds a believable demo clinic, so that a fresh reference
// server has something to show: a practice with two locations in New York,
// three doctors with weekly schedules, rooms, an ECG machine, patients, and a
// week of appointments in every status the front desk deals with. The
// practice is published in the public directory: a search for "back pain"
// near ZIP 11201 finds Dr. Chen at the Brooklyn Heights location. All dates
// are relative to the engine's clock, so the demo always looks current.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The names of the demo group and practice.
const (
	GroupName    = "Demo Health"
	PracticeName = "Riverside Family Clinic"
)

// OrgNPI is the demo practice's organisation NPI, recorded as verified
// (it passes the check digit but is the demo's own).
const OrgNPI = "1122334455"

// GroupID returns the demo group's fixed ID. It is the marker by which Seed
// finds an earlier seeding, and it keeps two processes seeding at once from
// creating two demo groups: the second insert of the ID fails.
func GroupID() tenant.GroupID { return uuid.MustParse("01900000-0000-7000-8000-0000000de3b0") }

// zone is where the demo clinic is.
const zone = "America/New_York"

// Seed creates the demo clinic unless a practice named PracticeName already
// exists in the demo group, and returns that practice's ID either way.
//
// Everything is written through the tenant and scheduling services, in one
// transaction: a failed seeding leaves nothing behind. Appointments are booked
// by the staff actor "staff:demo-seed" or by the patients themselves, so the
// practice's rules apply to them as to any booking: patients' bookings are new
// requests, staff bookings are confirmed. Two finished visits from two weeks
// ago make two patients established. SeedWithAdmin also creates the demo
// administrator.
func Seed(ctx context.Context, e *carebook.Engine) (tenant.PracticeID, error) {
	r, err := SeedWithAdmin(ctx, e)
	return r.PracticeID, err
}

// The sign-ins of the demo accounts: the practice's administrator, a front
// desk clerk, a clinician (Dr. Maya Chen's own account, who writes the demo
// charts), and a patient (Olivia Bennett, a seeded patient, whose account
// is linked to her record by a self grant).
const (
	AdminEmail     = "admin@riverside.example"
	FrontDeskEmail = "desk@riverside.example"
	ClinicianEmail = "maya.chen@riverside.example"
	PatientEmail   = "olivia.bennett@example.com"
	// OperatorEmail is the operator's support staff member (the /ops/
	// panel), outside every practice.
	OperatorEmail = "support@carebook.example"
)

// Result is what SeedWithAdmin did.
type Result struct {
	PracticeID tenant.PracticeID
	// AdminPassword is the password of AdminEmail, random, set only when
	// this call created the demo clinic: it is not stored anywhere else, so
	// the caller shows it once. Empty when the clinic already existed.
	AdminPassword string
	// FrontDeskPassword, ClinicianPassword and PatientPassword are those of
	// FrontDeskEmail, ClinicianEmail and PatientEmail, likewise.
	FrontDeskPassword, ClinicianPassword, PatientPassword string
	// OperatorPassword is OperatorEmail's one-time password, likewise.
	OperatorPassword string
}

// SeedWithAdmin is Seed that also creates, with the clinic and in the same
// transaction, a staff account AdminEmail holding practice_admin over the
// demo practice, with a random password generated with crypto/rand, the
// other demo accounts, and the operator's support staff member
// OperatorEmail.
func SeedWithAdmin(ctx context.Context, e *carebook.Engine) (Result, error) {
	st := e.Store()
	var out Result
	err := st.InTx(ctx, func(ctx context.Context) error {
		p, err := find(ctx, st.Tenants)
		if err != nil || p != nil {
			if p != nil {
				out.PracticeID = p.ID
				// A demo seeded before the directory is published once.
				return publishOnce(ctx, e, p.ID)
			}
			return err
		}
		id, err := seed(ctx, st, e.Clock, e.IDs)
		if err != nil {
			return err
		}
		out.PracticeID = id
		if out.AdminPassword, _, err = staff(ctx, e, id, AdminEmail, rbac.PracticeAdmin, rbac.PracticeAdminID); err != nil {
			return err
		}
		if out.FrontDeskPassword, _, err = staff(ctx, e, id, FrontDeskEmail, rbac.FrontDesk, rbac.FrontDeskID); err != nil {
			return err
		}
		var clinician identity.AccountID
		if out.ClinicianPassword, clinician, err = staff(ctx, e, id, ClinicianEmail, rbac.Clinician, rbac.ClinicianID); err != nil {
			return err
		}
		if out.PatientPassword, err = patientAccount(ctx, e, id); err != nil {
			return err
		}
		if _, out.OperatorPassword, err = e.AddOperator(ctx, OperatorEmail); err != nil {
			return err
		}
		if err := charts(ctx, e, id, clinician); err != nil {
			return err
		}
		return publish(ctx, e, id)
	})
	if errs.Is(err, errs.KindConflict) {
		// Another process may have seeded at the same time and won the race.
		if p, ferr := find(ctx, st.Tenants); ferr == nil && p != nil {
			return Result{PracticeID: p.ID}, nil
		}
	}
	if err != nil {
		return Result{}, fmt.Errorf("demo.Seed: %w", err)
	}
	return out, nil
}

// profiles are what the demo clinic publishes of its doctors, by NPI:
// NUCC taxonomy codes (Dr. Chen's family medicine treats back pain, among
// others) and languages.
var profiles = map[string]directory.Profile{
	"1047293588": {Taxonomies: []string{"207Q00000X", "207QS0010X"}, Languages: []string{"en", "zh"}, AcceptingNew: true},
	"1650382744": {Taxonomies: []string{"208000000X"}, Languages: []string{"en", "yo"}, AcceptingNew: true},
	"1982736450": {Taxonomies: []string{"207RC0000X", "207R00000X"}, Languages: []string{"en", "ru"}, AcceptingNew: true},
}

// publish publishes practice in the public directory with its doctors'
// profiles, hiding the diabetes group class (not a visit a patient finds a
// doctor for), and builds its listing; in ctx's transaction.
func publish(ctx context.Context, e *carebook.Engine, practice tenant.PracticeID) error {
	st, now := e.Store().Directory, e.Clock.Now()
	provs, err := e.Scheduling.Providers(ctx, practice, scheduling.ProviderFilter{})
	if err != nil {
		return err
	}
	for _, p := range provs {
		if pr, ok := profiles[p.NPI]; ok {
			pr.ProviderID = p.ID
			if err := st.PutProfile(ctx, practice, &pr, now); err != nil {
				return err
			}
		}
	}
	vts, err := e.Scheduling.VisitTypes(ctx, practice)
	if err != nil {
		return err
	}
	for _, vt := range vts {
		if vt.Name == classVisit {
			v := directory.VisitSetting{VisitTypeID: vt.ID, Kind: directory.VisitFollowUp, Hidden: true}
			if err := st.PutVisitSetting(ctx, practice, &v, now); err != nil {
				return err
			}
		}
	}
	if err := st.PutPublished(ctx, practice, true, now); err != nil {
		return err
	}
	return e.RefreshDirectory(ctx, practice)
}

// publishOnce publishes practice unless it has directory profiles already
// (it was published, or its administrator chose otherwise since).
func publishOnce(ctx context.Context, e *carebook.Engine, practice tenant.PracticeID) error {
	ps, err := e.Store().Directory.Profiles(ctx, practice)
	if err != nil || len(ps) > 0 {
		return err
	}
	return publish(ctx, e, practice)
}

// classVisit is the name of the demo's group class visit type.
const classVisit = "Diabetes group class"

// password is a fresh random password of 24 characters (crypto/rand).
func password() (string, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// seederCtx is ctx acting as the demo's seeder.
func seederCtx(ctx context.Context) context.Context {
	return actor.With(ctx, actor.Actor{Kind: actor.Staff, ID: "demo-seed"})
}

// staff creates a demo staff account email (invited by nobody, accepted
// at once) with a fresh random password, grants it the built-in role
// (name, id) over practice through rbac, and returns the password and the
// account; in ctx's transaction.
func staff(ctx context.Context, e *carebook.Engine, practice tenant.PracticeID, email, name string, id rbac.RoleID) (string, identity.AccountID, error) {
	pw, err := password()
	if err != nil {
		return "", uuid.Nil, err
	}
	tok, _, err := e.Identity.CreateInvitation(ctx, practice, email, name, uuid.Nil)
	if err != nil {
		return "", uuid.Nil, err
	}
	a, _, err := e.Identity.AcceptInvitation(ctx, tok, pw)
	if err != nil {
		return "", uuid.Nil, err
	}
	if _, err := e.RBAC.GrantAsSystem(seederCtx(ctx), rbac.NewGrant{AccountID: a.ID, RoleID: id,
		Scope: rbac.PracticeScope(GroupID(), practice)}); err != nil {
		return "", uuid.Nil, err
	}
	return pw, a.ID, nil
}

// patientAccount registers PatientEmail as a patient of practice with a
// fresh random password, verifies its email, links it by a self grant to
// the seeded patient with that email, and returns the password; in ctx's
// transaction.
func patientAccount(ctx context.Context, e *carebook.Engine, practice tenant.PracticeID) (string, error) {
	pw, err := password()
	if err != nil {
		return "", err
	}
	pts, err := e.Scheduling.Patients(ctx, practice, scheduling.PatientFilter{Email: PatientEmail, Limit: 1})
	if err != nil {
		return "", err
	}
	if len(pts) != 1 {
		return "", fmt.Errorf("no seeded patient %s", PatientEmail)
	}
	a, tok, err := e.Register(seederCtx(ctx), identity.Registration{PracticeID: practice, Email: PatientEmail, Password: pw})
	if err != nil {
		return "", err
	}
	if _, err := e.Identity.VerifyEmail(ctx, tok); err != nil {
		return "", err
	}
	if _, err := e.RBAC.GrantAsSystem(seederCtx(ctx), rbac.NewGrant{AccountID: a.ID, RoleID: rbac.PatientRoleID,
		Scope: rbac.SelfScope(GroupID(), practice, pts[0].ID)}); err != nil {
		return "", err
	}
	return pw, nil
}

// find returns the demo practice, or nil if there is none.
func find(ctx context.Context, st tenant.Store) (*tenant.Practice, error) {
	if _, err := st.GetGroup(ctx, GroupID()); err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return nil, nil
		}
		return nil, err
	}
	ps, err := st.ListPractices(ctx, GroupID())
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Name == PracticeName {
			return p, nil
		}
	}
	return nil, nil
}

// offsetClock is a clock running d ahead of c (behind, for negative d). The
// seeder books past visits with it, as they were booked at the time.
type offsetClock struct {
	c clock.Clock
	d time.Duration
}

// Now returns c's time moved by d.
func (o offsetClock) Now() time.Time { return o.c.Now().Add(o.d) }

// pastOffset is how long ago the finished visits took place.
const pastOffset = -14 * 24 * time.Hour

// seeder holds what the seeding steps share.
type seeder struct {
	tenants *tenant.Service
	sched   *scheduling.Service // on the engine's clock
	past    *scheduling.Service // on a clock two weeks behind
	// then records a past visit's arrival and end at their time, on its
	// clock (arrival is recorded only around the visit).
	then      *scheduling.Service
	thenClock *clock.Fixed
	ny        *time.Location
	today     time.Time // midnight of the clock's local date
	practice  tenant.PracticeID
	staff     context.Context // carries the staff actor
}

// day returns local time hh:mm, n days from today.
func (s *seeder) day(n, hh, mm int) time.Time {
	return time.Date(s.today.Year(), s.today.Month(), s.today.Day()+n, hh, mm, 0, 0, s.ny)
}

func seed(ctx context.Context, st *sqlstore.Store, c clock.Clock, ids clock.IDSource) (tenant.PracticeID, error) {
	ny, err := time.LoadLocation(zone)
	if err != nil {
		return uuid.Nil, err
	}
	now := c.Now().In(ny)
	thenClock := clock.NewFixed(now)
	s := &seeder{
		then:      scheduling.NewService(st.Scheduling, st.Tenants, thenClock, ids),
		thenClock: thenClock,
		tenants:   tenant.NewService(st.Tenants, c, ids),
		sched:     scheduling.NewService(st.Scheduling, st.Tenants, c, ids),
		past:      scheduling.NewService(st.Scheduling, st.Tenants, offsetClock{c, pastOffset}, ids),
		ny:        ny,
		today:     time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, ny),
		staff:     actor.With(ctx, actor.Actor{Kind: actor.Staff, ID: "demo-seed"}),
	}

	// The group has a fixed ID (the marker), so it is written to the store
	// as the Service would write it.
	if _, err := st.Tenants.GetGroup(ctx, GroupID()); errs.Is(err, errs.KindNotFound) {
		g := &tenant.Group{ID: GroupID(), Name: GroupName, CreatedAt: c.Now().UTC()}
		if err := st.Tenants.CreateGroup(ctx, g); err != nil {
			return uuid.Nil, err
		}
	} else if err != nil {
		return uuid.Nil, err
	}
	p, err := s.tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: GroupID(), Name: PracticeName})
	if err != nil {
		return uuid.Nil, err
	}
	s.practice = p.ID
	// The demo clinic is verified, as one that takes online payments must
	// be; its NPI passes the check digit but is the demo's own.
	if err := st.Tenants.SaveVerification(ctx, &tenant.Verification{PracticeID: p.ID, NPI: OrgNPI,
		RegistryName: "RIVERSIDE FAMILY CLINIC", VerifiedAt: now.UTC(), VerifiedBy: "system:demo-seed"}); err != nil {
		return uuid.Nil, err
	}
	if err := s.clinic(ctx); err != nil {
		return uuid.Nil, err
	}
	return p.ID, nil
}

// clinic creates the practice's locations, people, resources, schedules and
// appointments.
func (s *seeder) clinic(ctx context.Context) error {
	pr, sc := s.practice, s.sched
	brooklyn, err := s.tenants.CreateLocation(ctx, pr, tenant.NewLocation{
		Name: "Brooklyn Heights", TimeZone: zone,
		Address: tenant.Address{Line1: "135 Remsen Street", City: "Brooklyn", Region: "NY", PostalCode: "11201", Country: "US"},
		Geo:     tenant.GeoPoint{Lat: 40.6936, Lng: -73.9920},
	})
	if err != nil {
		return err
	}
	manhattan, err := s.tenants.CreateLocation(ctx, pr, tenant.NewLocation{
		Name: "Upper West Side", TimeZone: zone,
		Address: tenant.Address{Line1: "2330 Broadway", Line2: "Suite 4", City: "New York", Region: "NY", PostalCode: "10024", Country: "US"},
		Geo:     tenant.GeoPoint{Lat: 40.7857, Lng: -73.9783},
	})
	if err != nil {
		return err
	}

	// NPIs with correct check digits (scheduling.ValidNPI).
	chen, err := sc.CreateProvider(ctx, pr, scheduling.NewProvider{NPI: "1047293588", GivenName: "Maya", FamilyName: "Chen",
		Specialties: []string{"family-medicine"}, LocationIDs: []tenant.LocationID{brooklyn.ID}})
	if err != nil {
		return err
	}
	okafor, err := sc.CreateProvider(ctx, pr, scheduling.NewProvider{NPI: "1650382744", GivenName: "Samuel", FamilyName: "Okafor",
		Specialties: []string{"pediatrics"}, LocationIDs: []tenant.LocationID{brooklyn.ID}})
	if err != nil {
		return err
	}
	petrova, err := sc.CreateProvider(ctx, pr, scheduling.NewProvider{NPI: "1982736450", GivenName: "Elena", FamilyName: "Petrova",
		Specialties: []string{"cardiology"}, LocationIDs: []tenant.LocationID{manhattan.ID}})
	if err != nil {
		return err
	}

	community, err := sc.CreateResource(ctx, pr, scheduling.NewResource{LocationID: brooklyn.ID, Name: "Community Room", Kind: scheduling.Room})
	if err != nil {
		return err
	}
	if _, err := sc.CreateResource(ctx, pr, scheduling.NewResource{LocationID: manhattan.ID, Name: "Exam Room 2", Kind: scheduling.Room}); err != nil {
		return err
	}
	ecg, err := sc.CreateResource(ctx, pr, scheduling.NewResource{LocationID: manhattan.ID, Name: "ECG machine", Kind: scheduling.Equipment})
	if err != nil {
		return err
	}

	newVisit, err := sc.CreateVisitType(ctx, pr, scheduling.NewVisitType{Name: "New patient visit", Duration: 40 * time.Minute,
		BufferAfter: 10 * time.Minute, Audience: scheduling.NewOnly, PriceMinor: 18000, Currency: "USD"})
	if err != nil {
		return err
	}
	followUp, err := sc.CreateVisitType(ctx, pr, scheduling.NewVisitType{Name: "Follow-up", Duration: 20 * time.Minute,
		Audience: scheduling.EstablishedOnly, PriceMinor: 9500, Currency: "USD"})
	if err != nil {
		return err
	}
	ecgVisit, err := sc.CreateVisitType(ctx, pr, scheduling.NewVisitType{Name: "ECG", Duration: 30 * time.Minute,
		ResourceIDs: []scheduling.ResourceID{ecg.ID}, PriceMinor: 12000, Currency: "USD"})
	if err != nil {
		return err
	}
	// The class's seats share the community room.
	class, err := sc.CreateVisitType(ctx, pr, scheduling.NewVisitType{Name: classVisit, Duration: 60 * time.Minute,
		ResourceIDs: []scheduling.ResourceID{community.ID}})
	if err != nil {
		return err
	}

	// Weekly schedules, from the Monday three weeks back so that the finished
	// visits of two weeks ago lie inside them.
	monday := -int(s.today.Weekday()+6)%7 - 21
	const weekdays = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
	for _, b := range []struct {
		prov                   *scheduling.Provider
		loc                    *tenant.Location
		day, from, to, minutes int // day from monday; from and to in hours; minutes past both
		rule                   string
		capacity               int
	}{
		{chen, brooklyn, 0, 9, 12, 0, weekdays, 1},
		{chen, brooklyn, 0, 13, 17, 0, weekdays, 1},
		{chen, brooklyn, 5, 9, 12, 0, "FREQ=WEEKLY;BYDAY=SA", 1},
		{okafor, brooklyn, 0, 9, 12, 0, weekdays, 1},
		{okafor, brooklyn, 0, 13, 17, 0, weekdays, 1},
		{petrova, manhattan, 0, 9, 12, 0, weekdays, 1},
		{petrova, manhattan, 0, 13, 17, 0, weekdays, 1},
	} {
		if _, err := sc.CreateBlock(ctx, pr, scheduling.NewBlock{ProviderID: b.prov.ID, BlockInput: scheduling.BlockInput{
			LocationID: b.loc.ID, Start: s.day(monday+b.day, b.from, b.minutes), End: s.day(monday+b.day, b.to, b.minutes),
			RRule: b.rule, Capacity: b.capacity,
		}}); err != nil {
			return err
		}
	}
	// The diabetes class meets on Thursday evenings, eight seats.
	classBlock, err := sc.CreateBlock(ctx, pr, scheduling.NewBlock{ProviderID: chen.ID, BlockInput: scheduling.BlockInput{
		LocationID: brooklyn.ID, Start: s.day(monday+3, 17, 30), End: s.day(monday+3, 18, 30),
		RRule: "FREQ=WEEKLY;BYDAY=TH", Capacity: 8,
	}})
	if err != nil {
		return err
	}

	// Patients. The first two had their first visit two weeks ago.
	patients := []scheduling.PatientInput{
		{GivenName: "Marcus", FamilyName: "Johnson", BirthDate: "1957-08-22", Phone: "+17185550142", Email: "marcus.johnson@example.com", Language: "en"},
		{GivenName: "Grace", FamilyName: "O'Neil", BirthDate: "1949-03-05", Phone: "+12125550178", Email: "grace.oneil@example.net", Language: "en"},
		{GivenName: "Olivia", FamilyName: "Bennett", BirthDate: "1984-11-30", Phone: "+17185550119", Email: "olivia.bennett@example.com", Language: "en"},
		{GivenName: "Sofía", FamilyName: "Ramírez", BirthDate: "2016-06-14", Phone: "+17185550163", Email: "ramirez.family@example.org", Language: "es-US"},
		{GivenName: "Daniel", FamilyName: "Kim", BirthDate: "1979-01-09", Phone: "+12125550127", Email: "dkim@example.com", Language: "ko"},
		{GivenName: "Amir", FamilyName: "Haddad", BirthDate: "1991-04-17", Phone: "+13475550150", Email: "amir.haddad@example.com", Language: "ar"},
	}
	pats := make([]*scheduling.Patient, len(patients))
	for i, input := range patients {
		svc := sc
		if i < 2 {
			svc = s.past
		}
		if pats[i], err = svc.CreatePatient(ctx, pr, input); err != nil {
			return err
		}
	}
	marcus, grace, olivia, sofia, daniel, amir := pats[0], pats[1], pats[2], pats[3], pats[4], pats[5]

	// Two weeks ago: Marcus saw Dr. Chen and Grace saw Dr. Petrova, both as new patients.
	for _, v := range []struct {
		pat  *scheduling.Patient
		prov *scheduling.Provider
		hour int
	}{{marcus, chen, 10}, {grace, petrova, 14}} {
		a, err := s.book(ctx, s.past, nil, v.pat, v.prov, newVisit, pastOffset, 1, v.hour, notIn(classBlock.ID))
		if err != nil {
			return err
		}
		for _, step := range []struct {
			to scheduling.Status
			at time.Time
		}{{scheduling.StatusArrived, a.Start.Add(-10 * time.Minute)}, {scheduling.StatusOut, a.End}} {
			s.thenClock.Set(step.at)
			if _, err := s.then.Transition(s.staff, pr, a.ID, step.to, ""); err != nil {
				return err
			}
		}
	}

	// The coming week.
	newReqs := []struct {
		pat  *scheduling.Patient
		prov *scheduling.Provider
		day  int
		hour int
	}{{olivia, chen, 1, 10}, {sofia, okafor, 2, 15}, {amir, chen, 3, 9}}
	for i, r := range newReqs {
		a, err := s.book(ctx, sc, r.pat, r.pat, r.prov, newVisit, 0, r.day, r.hour, notIn(classBlock.ID))
		if err != nil {
			return err
		}
		if i == 2 { // the front desk has already confirmed Amir's request
			if _, err := sc.Confirm(s.staff, pr, a.ID); err != nil {
				return err
			}
		}
	}
	if _, err := s.book(ctx, sc, nil, marcus, chen, followUp, 0, 2, 11, notIn(classBlock.ID)); err != nil {
		return err
	}
	if _, err := s.book(ctx, sc, nil, grace, petrova, ecgVisit, 0, 1, 9, notIn(classBlock.ID)); err != nil {
		return err
	}
	a, err := s.book(ctx, sc, daniel, daniel, petrova, newVisit, 0, 3, 13, notIn(classBlock.ID))
	if err != nil {
		return err
	}
	if _, err := sc.Cancel(s.staff, pr, a.ID, "Patient called: found an earlier appointment elsewhere"); err != nil {
		return err
	}
	for _, p := range []*scheduling.Patient{marcus, amir} {
		if _, err := s.book(ctx, sc, nil, p, chen, class, 0, 1, 0, in(classBlock.ID)); err != nil {
			return err
		}
	}
	return nil
}

// in and notIn make slot filters by block.
func in(b scheduling.BlockID) func(scheduling.Slot) bool {
	return func(s scheduling.Slot) bool { return s.BlockID == b }
}

func notIn(b scheduling.BlockID) func(scheduling.Slot) bool {
	return func(s scheduling.Slot) bool { return s.BlockID != b }
}

// book books pat with prov for visit vt at the first open slot, among those
// that keep, at or after hour on day (from today, shifted by offset), within
// the following week. A patient who books (by != nil) gets a slot offered to
// patients and a new request; otherwise the staff books, confirmed.
func (s *seeder) book(ctx context.Context, svc *scheduling.Service, by, pat *scheduling.Patient, prov *scheduling.Provider,
	vt *scheduling.VisitType, offset time.Duration, day, hour int, keep func(scheduling.Slot) bool) (*scheduling.Appointment, error) {
	who := s.staff
	if by != nil {
		who = actor.With(ctx, actor.Actor{Kind: actor.Patient, ID: by.ID.String()})
	}
	from := s.day(day, hour, 0).Add(offset)
	slots, err := svc.OpenSlots(who, s.practice, scheduling.SlotQuery{
		ProviderIDs: []scheduling.ProviderID{prov.ID}, VisitTypeID: vt.ID, From: from, To: from.AddDate(0, 0, 7),
	})
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(slots, keep)
	if i < 0 {
		return nil, fmt.Errorf("no open %s with %s %s in the week from %v", vt.Name, prov.GivenName, prov.FamilyName, from)
	}
	return svc.Book(who, s.practice, scheduling.BookRequest{
		PatientID: pat.ID, ProviderID: prov.ID, VisitTypeID: vt.ID, Start: slots[i].Start,
	})
}
