package schedtest

import (
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

var recordCases = []testCase{
	{"ProviderRoundTrip", testProviderRoundTrip},
	{"ProviderNPIUniquePerPractice", testProviderNPIUnique},
	{"ProviderDuplicateID", testProviderDuplicateID},
	{"ResourceRoundTrip", testResourceRoundTrip},
	{"PatientRoundTrip", testPatientRoundTrip},
	{"PatientUpdate", testPatientUpdate},
	{"VisitTypeRoundTrip", testVisitTypeRoundTrip},
	{"BlockRoundTrip", testBlockRoundTrip},
	{"BlockUpdate", testBlockUpdate},
	{"BlockDelete", testBlockDelete},
}

func testProviderRoundTrip(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	l1 := e.mustLocation(p.ID, "Downtown")
	l2 := e.mustLocation(p.ID, "Uptown")
	full := e.mustProvider(p.ID, func(v *scheduling.Provider) {
		v.NPI = "1234567893"
		v.GivenName = "Grace"
		v.FamilyName = "Hopper"
		v.Specialties = []string{"cardiology", "internal-medicine"}
		v.LocationIDs = []tenant.LocationID{l1.ID, l2.ID}
	})
	got, err := e.s.GetProvider(e.ctx, p.ID, full.ID)
	e.ok(err, "GetProvider")
	same(e.t, "GetProvider", got, full)

	// Nil slices are stored as empty and come back non-nil.
	bare := e.mustProvider(p.ID, func(v *scheduling.Provider) {
		v.Specialties = nil
		v.LocationIDs = nil
	})
	got, err = e.s.GetProvider(e.ctx, p.ID, bare.ID)
	e.ok(err, "GetProvider(no specialties, no locations)")
	same(e.t, "GetProvider(no specialties, no locations)", got, bare)

	_, err = e.s.GetProvider(e.ctx, q.ID, full.ID)
	wantErrKind(e.t, "GetProvider(other practice)", err, errs.KindNotFound)
	_, err = e.s.GetProvider(e.ctx, p.ID, newID())
	wantErrKind(e.t, "GetProvider(unknown id)", err, errs.KindNotFound)
}

func testProviderNPIUnique(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	e.mustProvider(p.ID, func(v *scheduling.Provider) { v.NPI = "1234567893" })

	dup := e.newProvider(p.ID, func(v *scheduling.Provider) {
		v.NPI = "1234567893"
		v.FamilyName = "Duplicate"
	})
	err := e.s.CreateProvider(e.ctx, dup)
	wantErrKind(e.t, "CreateProvider(same NPI, same practice)", err, errs.KindConflict)
	_, err = e.s.GetProvider(e.ctx, p.ID, dup.ID)
	wantErrKind(e.t, "GetProvider(rejected duplicate)", err, errs.KindNotFound)

	// The same doctor may work for another practice.
	other := e.mustProvider(q.ID, func(v *scheduling.Provider) { v.NPI = "1234567893" })
	got, err := e.s.GetProvider(e.ctx, q.ID, other.ID)
	e.ok(err, "GetProvider(same NPI, other practice)")
	same(e.t, "GetProvider(same NPI, other practice)", got, other)
}

// testProviderDuplicateID reads "KindConflict on a duplicate unique key" as
// covering the primary key too: creating a second record with an ID that is
// taken is a conflict, not an internal error, and does not overwrite.
func testProviderDuplicateID(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	first := e.mustProvider(p.ID)
	dup := e.newProvider(p.ID, func(v *scheduling.Provider) {
		v.ID = first.ID
		v.FamilyName = "Impostor"
	})
	wantErrKind(e.t, "CreateProvider(duplicate ID)", e.s.CreateProvider(e.ctx, dup), errs.KindConflict)
	got, err := e.s.GetProvider(e.ctx, p.ID, first.ID)
	e.ok(err, "GetProvider")
	same(e.t, "GetProvider after duplicate ID", got, first)
}

func testResourceRoundTrip(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	l := e.mustLocation(p.ID, "Downtown")
	room := e.mustResource(p.ID, l.ID, "Room 1", scheduling.Room)
	xray := e.mustResource(p.ID, l.ID, "X-ray", scheduling.Equipment)
	for _, r := range []*scheduling.Resource{room, xray} {
		got, err := e.s.GetResource(e.ctx, p.ID, r.ID)
		e.ok(err, "GetResource")
		same(e.t, "GetResource", got, r)
	}
	_, err := e.s.GetResource(e.ctx, q.ID, room.ID)
	wantErrKind(e.t, "GetResource(other practice)", err, errs.KindNotFound)
	_, err = e.s.GetResource(e.ctx, p.ID, newID())
	wantErrKind(e.t, "GetResource(unknown id)", err, errs.KindNotFound)
}

func testPatientRoundTrip(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	full := e.mustPatient(p.ID, func(v *scheduling.Patient) {
		v.GivenName = "María José"
		v.FamilyName = "García-López"
		v.BirthDate = "1975-12-31"
		v.Phone = "+525512345678"
		v.Email = "mj.garcia@example.mx"
		v.Language = "es-MX"
		v.UpdatedAt = v.CreatedAt.Add(time.Hour + 7*time.Microsecond)
	})
	got, err := e.s.GetPatient(e.ctx, p.ID, full.ID)
	e.ok(err, "GetPatient")
	same(e.t, "GetPatient", got, full)

	bare := e.mustPatient(p.ID, func(v *scheduling.Patient) {
		v.Phone, v.Email, v.Language = "", "", ""
	})
	got, err = e.s.GetPatient(e.ctx, p.ID, bare.ID)
	e.ok(err, "GetPatient(no contact)")
	same(e.t, "GetPatient(no contact)", got, bare)

	_, err = e.s.GetPatient(e.ctx, q.ID, full.ID)
	wantErrKind(e.t, "GetPatient(other practice)", err, errs.KindNotFound)
	_, err = e.s.GetPatient(e.ctx, p.ID, newID())
	wantErrKind(e.t, "GetPatient(unknown id)", err, errs.KindNotFound)
}

func testPatientUpdate(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	orig := e.mustPatient(p.ID)
	bystander := e.mustPatient(p.ID, func(v *scheduling.Patient) { v.GivenName = "Bystander" })

	upd := &scheduling.Patient{
		ID:         orig.ID,
		PracticeID: p.ID,
		GivenName:  "Patricia",
		FamilyName: "Parkinson",
		BirthDate:  "1981-03-01",
		Phone:      "+12025550199",
		Email:      "patricia@example.org",
		Language:   "fr",
		CreatedAt:  orig.CreatedAt.Add(-48 * time.Hour), // ignored: CreatedAt is kept
		UpdatedAt:  e.ts(),
	}
	e.ok(e.s.UpdatePatient(e.ctx, upd), "UpdatePatient")
	want := *upd
	want.CreatedAt = orig.CreatedAt
	got, err := e.s.GetPatient(e.ctx, p.ID, orig.ID)
	e.ok(err, "GetPatient")
	same(e.t, "GetPatient after UpdatePatient", got, &want)
	got, err = e.s.GetPatient(e.ctx, p.ID, bystander.ID)
	e.ok(err, "GetPatient(bystander)")
	same(e.t, "other patient after UpdatePatient", got, bystander)

	// Optional fields can be cleared.
	clear := want
	clear.Phone, clear.Email, clear.Language = "", "", ""
	clear.UpdatedAt = e.ts()
	e.ok(e.s.UpdatePatient(e.ctx, &clear), "UpdatePatient(clear contact)")
	got, err = e.s.GetPatient(e.ctx, p.ID, orig.ID)
	e.ok(err, "GetPatient")
	same(e.t, "GetPatient after clearing contact", got, &clear)

	// Another practice cannot change the patient.
	foreign := clear
	foreign.PracticeID = q.ID
	foreign.GivenName = "Hijacked"
	foreign.UpdatedAt = e.ts()
	wantErrKind(e.t, "UpdatePatient(other practice)", e.s.UpdatePatient(e.ctx, &foreign), errs.KindNotFound)
	got, err = e.s.GetPatient(e.ctx, p.ID, orig.ID)
	e.ok(err, "GetPatient")
	same(e.t, "GetPatient after UpdatePatient from other practice", got, &clear)

	unknown := clear
	unknown.ID = newID()
	wantErrKind(e.t, "UpdatePatient(unknown id)", e.s.UpdatePatient(e.ctx, &unknown), errs.KindNotFound)
	_, err = e.s.GetPatient(e.ctx, p.ID, unknown.ID)
	wantErrKind(e.t, "GetPatient(after update of unknown id)", err, errs.KindNotFound)
}

func testVisitTypeRoundTrip(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	l := e.mustLocation(p.ID, "Downtown")
	room := e.mustResource(p.ID, l.ID, "Room 1", scheduling.Room)
	ecg := e.mustResource(p.ID, l.ID, "ECG", scheduling.Equipment)
	full := e.mustVisitType(p.ID, func(v *scheduling.VisitType) {
		v.Name = "Stress test"
		v.Duration = 45 * time.Minute
		v.BufferBefore = 10 * time.Minute
		v.BufferAfter = 15 * time.Minute
		v.Step = 20 * time.Minute
		v.ResourceIDs = []scheduling.ResourceID{room.ID, ecg.ID}
		v.Audience = scheduling.EstablishedOnly
		v.PriceMinor = 45000
		v.Currency = "USD"
	})
	got, err := e.s.GetVisitType(e.ctx, p.ID, full.ID)
	e.ok(err, "GetVisitType")
	same(e.t, "GetVisitType", got, full)

	bare := e.mustVisitType(p.ID, func(v *scheduling.VisitType) {
		v.Name = "Phone call"
		v.Duration = 10 * time.Minute
		v.BufferBefore, v.BufferAfter, v.Step = 0, 0, 0
		v.ResourceIDs = nil
		v.Audience = scheduling.NewOnly
		v.PriceMinor, v.Currency = 0, ""
	})
	got, err = e.s.GetVisitType(e.ctx, p.ID, bare.ID)
	e.ok(err, "GetVisitType(bare)")
	same(e.t, "GetVisitType(bare)", got, bare)

	_, err = e.s.GetVisitType(e.ctx, q.ID, full.ID)
	wantErrKind(e.t, "GetVisitType(other practice)", err, errs.KindNotFound)
	_, err = e.s.GetVisitType(e.ctx, p.ID, newID())
	wantErrKind(e.t, "GetVisitType(unknown id)", err, errs.KindNotFound)
}

func testBlockRoundTrip(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	spanEnd := tm(30, 12, 0).Add(250 * time.Microsecond)
	full := e.mustBlock(w.p.ID, w.prov.ID, w.loc.ID, func(b *scheduling.Block) {
		b.Start = tm(1, 9, 0).Add(1500 * time.Microsecond)
		b.End = tm(1, 12, 0)
		b.RRule = "FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20310410T160000Z"
		b.ExDates = []string{"2031-03-19", "2031-03-24"}
		b.Overrides = []scheduling.Override{
			{Date: "2031-03-12", Start: "10:00", End: "13:00"},
			{Date: "2031-03-15", Start: "08:30", End: "11:00"},
		}
		b.Capacity = 3
		b.SpanEnd = &spanEnd
		b.UpdatedAt = b.CreatedAt.Add(time.Minute)
	})
	got, err := e.s.GetBlock(e.ctx, w.p.ID, full.ID)
	e.ok(err, "GetBlock")
	same(e.t, "GetBlock", got, full)

	// w.blk is a daily rule that never ends (nil SpanEnd) with empty lists.
	oneOff := e.mustBlock(w.p.ID, w.prov.ID, w.loc.ID, func(b *scheduling.Block) {
		b.RRule = ""
		b.ExDates, b.Overrides = nil, nil
		b.Capacity = 1
		end := b.End
		b.SpanEnd = &end
	})
	for _, b := range []*scheduling.Block{w.blk, oneOff} {
		got, err := e.s.GetBlock(e.ctx, w.p.ID, b.ID)
		e.ok(err, "GetBlock")
		same(e.t, "GetBlock", got, b)
	}

	_, err = e.s.GetBlock(e.ctx, q.ID, full.ID)
	wantErrKind(e.t, "GetBlock(other practice)", err, errs.KindNotFound)
	_, err = e.s.GetBlock(e.ctx, w.p.ID, newID())
	wantErrKind(e.t, "GetBlock(unknown id)", err, errs.KindNotFound)
}

func testBlockUpdate(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	other := e.mustLocation(w.p.ID, "Uptown")
	prov2 := e.mustProvider(w.p.ID)
	spanEnd := tm(60, 17, 0)
	orig := e.mustBlock(w.p.ID, w.prov.ID, w.loc.ID, func(b *scheduling.Block) {
		b.ExDates = []string{"2031-03-11"}
		b.Overrides = []scheduling.Override{{Date: "2031-03-12", Start: "10:00", End: "13:00"}}
		b.SpanEnd = &spanEnd
	})
	bystander := e.mustBlock(w.p.ID, w.prov.ID, w.loc.ID)

	upd := &scheduling.Block{
		ID:         orig.ID,
		PracticeID: w.p.ID,
		ProviderID: prov2.ID, // ignored: ProviderID is kept
		LocationID: other.ID,
		TimeZone:   "America/Chicago",
		Start:      tm(2, 13, 0),
		End:        tm(2, 18, 30),
		RRule:      "FREQ=WEEKLY;BYDAY=TU",
		ExDates:    []string{},
		Overrides:  []scheduling.Override{{Date: "2031-03-18", Start: "14:00", End: "16:00"}},
		Capacity:   4,
		SpanEnd:    nil,
		CreatedAt:  orig.CreatedAt.Add(-time.Hour), // ignored: CreatedAt is kept
		UpdatedAt:  e.ts(),
	}
	e.ok(e.s.UpdateBlock(e.ctx, upd), "UpdateBlock")
	want := *upd
	want.ProviderID = orig.ProviderID
	want.CreatedAt = orig.CreatedAt
	got, err := e.s.GetBlock(e.ctx, w.p.ID, orig.ID)
	e.ok(err, "GetBlock")
	same(e.t, "GetBlock after UpdateBlock", got, &want)
	got, err = e.s.GetBlock(e.ctx, w.p.ID, bystander.ID)
	e.ok(err, "GetBlock(bystander)")
	same(e.t, "other block after UpdateBlock", got, bystander)

	// And back: SpanEnd set again, lists emptied through nil.
	back := want
	back.SpanEnd = &spanEnd
	back.ExDates, back.Overrides = nil, nil
	back.UpdatedAt = e.ts()
	e.ok(e.s.UpdateBlock(e.ctx, &back), "UpdateBlock(again)")
	got, err = e.s.GetBlock(e.ctx, w.p.ID, orig.ID)
	e.ok(err, "GetBlock")
	same(e.t, "GetBlock after second UpdateBlock", got, &back)

	foreign := back
	foreign.PracticeID = q.ID
	foreign.Capacity = 9
	foreign.UpdatedAt = e.ts()
	wantErrKind(e.t, "UpdateBlock(other practice)", e.s.UpdateBlock(e.ctx, &foreign), errs.KindNotFound)
	got, err = e.s.GetBlock(e.ctx, w.p.ID, orig.ID)
	e.ok(err, "GetBlock")
	same(e.t, "GetBlock after UpdateBlock from other practice", got, &back)

	unknown := back
	unknown.ID = newID()
	wantErrKind(e.t, "UpdateBlock(unknown id)", e.s.UpdateBlock(e.ctx, &unknown), errs.KindNotFound)
	_, err = e.s.GetBlock(e.ctx, w.p.ID, unknown.ID)
	wantErrKind(e.t, "GetBlock(after update of unknown id)", err, errs.KindNotFound)
}

func testBlockDelete(e *env) {
	w := e.mustFixture("Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	victim := e.mustBlock(w.p.ID, w.prov.ID, w.loc.ID)

	wantErrKind(e.t, "DeleteBlock(other practice)", e.s.DeleteBlock(e.ctx, q.ID, victim.ID), errs.KindNotFound)
	got, err := e.s.GetBlock(e.ctx, w.p.ID, victim.ID)
	e.ok(err, "GetBlock after DeleteBlock from other practice")
	same(e.t, "GetBlock after DeleteBlock from other practice", got, victim)

	e.ok(e.s.DeleteBlock(e.ctx, w.p.ID, victim.ID), "DeleteBlock")
	_, err = e.s.GetBlock(e.ctx, w.p.ID, victim.ID)
	wantErrKind(e.t, "GetBlock(deleted)", err, errs.KindNotFound)
	wantErrKind(e.t, "DeleteBlock(deleted)", e.s.DeleteBlock(e.ctx, w.p.ID, victim.ID), errs.KindNotFound)
	wantErrKind(e.t, "DeleteBlock(unknown id)", e.s.DeleteBlock(e.ctx, w.p.ID, newID()), errs.KindNotFound)

	got, err = e.s.GetBlock(e.ctx, w.p.ID, w.blk.ID)
	e.ok(err, "GetBlock(bystander)")
	same(e.t, "other block after DeleteBlock", got, w.blk)
}
