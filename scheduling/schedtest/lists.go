package schedtest

import (
	"testing"
	"time"

	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

var listCases = []testCase{
	{"ListProviders", testListProviders},
	{"ListResources", testListResources},
	{"ListPatients", testListPatients},
	{"ListVisitTypes", testListVisitTypes},
	{"ListBlocks", testListBlocks},
}

// Names in these tests are capitalized ASCII words chosen so that every
// collation a database may use (C, ICU, en_US) sorts them alike.

// testListProviders reads ProviderFilter.After as its comment says: a filter
// keeping IDs greater than the cursor, while the order stays by name.
func testListProviders(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	l1 := e.mustLocation(p.ID, "Downtown")
	l2 := e.mustLocation(p.ID, "Uptown")
	lq := e.mustLocation(q.ID, "Airport")
	id := sortedIDs(6)
	mk := func(n int, family, given string, specs []string, locs ...tenant.LocationID) *scheduling.Provider {
		return e.mustProvider(p.ID, func(v *scheduling.Provider) {
			v.ID, v.FamilyName, v.GivenName, v.Specialties, v.LocationIDs = id[n], family, given, specs, locs
		})
	}
	card, peds := []string{"cardiology"}, []string{"pediatrics"}
	a := mk(3, "Baker", "Ann", card, l1.ID)
	b := mk(5, "Adams", "Zoe", peds, l2.ID)
	c := mk(0, "Adams", "Bob", []string{"cardiology", "pediatrics"}, l1.ID, l2.ID)
	d := mk(4, "Clark", "Cy", nil)
	ee := mk(1, "Baker", "Ann", card, l2.ID)
	f := mk(2, "Adams", "Bob", card, l1.ID)
	foreign := e.mustProvider(q.ID, func(v *scheduling.Provider) {
		v.FamilyName, v.GivenName, v.Specialties, v.LocationIDs = "Adams", "Bob", card, []tenant.LocationID{lq.ID}
	})
	ptr := func(u uuid.UUID) *uuid.UUID { return &u }

	cases := []struct {
		name string
		f    scheduling.ProviderFilter
		want []*scheduling.Provider
	}{
		{"All", scheduling.ProviderFilter{}, []*scheduling.Provider{c, f, b, ee, a, d}},
		{"IDs", scheduling.ProviderFilter{IDs: []uuid.UUID{a.ID, d.ID, b.ID}}, []*scheduling.Provider{b, a, d}},
		{"IDsOfOtherPractice", scheduling.ProviderFilter{IDs: []uuid.UUID{foreign.ID}}, nil},
		{"LocationID", scheduling.ProviderFilter{LocationID: &l1.ID}, []*scheduling.Provider{c, f, a}},
		{"LocationID2", scheduling.ProviderFilter{LocationID: &l2.ID}, []*scheduling.Provider{c, b, ee}},
		{"LocationOfOtherPractice", scheduling.ProviderFilter{LocationID: &lq.ID}, nil},
		{"Specialty", scheduling.ProviderFilter{Specialty: "cardiology"}, []*scheduling.Provider{c, f, ee, a}},
		{"Specialty2", scheduling.ProviderFilter{Specialty: "pediatrics"}, []*scheduling.Provider{c, b}},
		{"SpecialtyIsExact", scheduling.ProviderFilter{Specialty: "cardio"}, nil},
		{"SpecialtyAndLocation", scheduling.ProviderFilter{Specialty: "cardiology", LocationID: &l2.ID}, []*scheduling.Provider{c, ee}},
		{"After", scheduling.ProviderFilter{After: ptr(id[2])}, []*scheduling.Provider{b, a, d}},
		{"AfterLast", scheduling.ProviderFilter{After: ptr(id[5])}, nil},
		{"Limit", scheduling.ProviderFilter{Limit: 2}, []*scheduling.Provider{c, f}},
		{"LimitAbove", scheduling.ProviderFilter{Limit: 100}, []*scheduling.Provider{c, f, b, ee, a, d}},
		{"AfterAndLimit", scheduling.ProviderFilter{After: ptr(id[0]), Limit: 2}, []*scheduling.Provider{f, b}},
		{"IDsAndSpecialty", scheduling.ProviderFilter{IDs: []uuid.UUID{a.ID, b.ID, d.ID}, Specialty: "cardiology"}, []*scheduling.Provider{a}},
	}
	for _, tc := range cases {
		e.t.Run(tc.name, func(t *testing.T) {
			got, err := e.s.ListProviders(e.ctx, p.ID, tc.f)
			e.sub(t).ok(err, "ListProviders")
			sameList(t, "ListProviders", got, tc.want)
		})
	}

	got, err := e.s.ListProviders(e.ctx, q.ID, scheduling.ProviderFilter{})
	e.ok(err, "ListProviders(other practice)")
	sameList(e.t, "ListProviders(other practice)", got, []*scheduling.Provider{foreign})
}

func testListResources(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	l1 := e.mustLocation(p.ID, "Downtown")
	l2 := e.mustLocation(p.ID, "Uptown")
	lq := e.mustLocation(q.ID, "Airport")
	room2 := e.mustResource(p.ID, l1.ID, "Room 2", scheduling.Room)
	roomA := e.mustResource(p.ID, l1.ID, "Room 1", scheduling.Room)
	ecg := e.mustResource(p.ID, l1.ID, "Echo", scheduling.Equipment)
	roomB := e.mustResource(p.ID, l2.ID, "Room 1", scheduling.Room)
	foreign := e.mustResource(q.ID, lq.ID, "Annex", scheduling.Room)
	rooms := sortedBy([]*scheduling.Resource{roomA, roomB}, func(a, b *scheduling.Resource) int { return 0 })

	got, err := e.s.ListResources(e.ctx, p.ID, nil)
	e.ok(err, "ListResources")
	sameList(e.t, "ListResources (by name, then ID)", got, []*scheduling.Resource{ecg, rooms[0], rooms[1], room2})

	got, err = e.s.ListResources(e.ctx, p.ID, &l1.ID)
	e.ok(err, "ListResources(location)")
	sameList(e.t, "ListResources(location)", got, []*scheduling.Resource{ecg, roomA, room2})

	got, err = e.s.ListResources(e.ctx, p.ID, &lq.ID)
	e.ok(err, "ListResources(location of other practice)")
	wantIDs(e.t, "ListResources(location of other practice)", got)

	got, err = e.s.ListResources(e.ctx, q.ID, nil)
	e.ok(err, "ListResources(other practice)")
	sameList(e.t, "ListResources(other practice)", got, []*scheduling.Resource{foreign})

	got, err = e.s.ListResources(e.ctx, e.mustPractice(uuid.Nil, "Empty").ID, nil)
	e.ok(err, "ListResources(empty practice)")
	wantIDs(e.t, "ListResources(empty practice)", got)
}

// testListPatients reads PatientFilter.After like ProviderFilter.After: IDs
// greater than the cursor. Name is a literal prefix: LIKE wildcards in it
// match only themselves.
func testListPatients(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	id := sortedIDs(6)
	mk := func(n int, given, family, phone, email string) *scheduling.Patient {
		return e.mustPatient(p.ID, func(v *scheduling.Patient) {
			v.ID, v.GivenName, v.FamilyName, v.Phone, v.Email = id[n], given, family, phone, email
		})
	}
	p1 := mk(2, "Anna", "Smith", "+12025550101", "anna@example.com")
	p2 := mk(4, "Smitty", "Jones", "+12025550102", "smitty@example.com")
	p3 := mk(0, "Carla", "Smithson", "", "")
	p4 := mk(1, "Dan", "Taylor", "+12025550104", "dan@example.com")
	p5 := mk(5, "Eve", "Smith", "+12025550105", "")
	p6 := mk(3, "Anna", "Smith", "+12025550101", "anna.smith@example.com")
	p5.BirthDate = "1990-07-04"
	e.ok(e.s.UpdatePatient(e.ctx, p5), "UpdatePatient")
	foreign := e.mustPatient(q.ID, func(v *scheduling.Patient) {
		v.GivenName, v.FamilyName, v.Phone, v.Email = "Sam", "Smith", "+12025550104", "dan@example.com"
	})
	ptr := func(u uuid.UUID) *uuid.UUID { return &u }
	all := []*scheduling.Patient{p3, p4, p1, p6, p2, p5}
	born := p1.BirthDate

	cases := []struct {
		name string
		f    scheduling.PatientFilter
		want []*scheduling.Patient
	}{
		{"All", scheduling.PatientFilter{}, all},
		{"IDs", scheduling.PatientFilter{IDs: []uuid.UUID{p4.ID, p3.ID, foreign.ID}}, []*scheduling.Patient{p3, p4}},
		{"NamePrefixFamilyOrGiven", scheduling.PatientFilter{Name: "smi"}, []*scheduling.Patient{p3, p1, p6, p2, p5}},
		{"NameOneLetter", scheduling.PatientFilter{Name: "S"}, []*scheduling.Patient{p3, p1, p6, p2, p5}},
		{"NameUpperCase", scheduling.PatientFilter{Name: "SMITHS"}, []*scheduling.Patient{p3}},
		{"NameGiven", scheduling.PatientFilter{Name: "an"}, []*scheduling.Patient{p1, p6}},
		{"NameWhole", scheduling.PatientFilter{Name: "Taylor"}, []*scheduling.Patient{p4}},
		{"NameSpacesAround", scheduling.PatientFilter{Name: " tay "}, []*scheduling.Patient{p4}},
		{"NameIsPrefixNotInfix", scheduling.PatientFilter{Name: "mith"}, nil},
		{"NamePercentIsLiteral", scheduling.PatientFilter{Name: "%"}, nil},
		{"NameUnderscoreIsLiteral", scheduling.PatientFilter{Name: "_mith"}, nil},
		{"Phone", scheduling.PatientFilter{Phone: "+12025550101"}, []*scheduling.Patient{p1, p6}},
		{"PhoneIsExact", scheduling.PatientFilter{Phone: "+1202555010"}, nil},
		{"Email", scheduling.PatientFilter{Email: "dan@example.com"}, []*scheduling.Patient{p4}},
		{"EmailIsExact", scheduling.PatientFilter{Email: "anna"}, nil},
		{"NameAndPhone", scheduling.PatientFilter{Name: "eve", Phone: "+12025550105"}, []*scheduling.Patient{p5}},
		{"FamilyNameAndBirthDate", scheduling.PatientFilter{FamilyName: "SMITH", BirthDate: born}, []*scheduling.Patient{p1, p6}},
		{"FamilyNameIsExact", scheduling.PatientFilter{FamilyName: "Smi", BirthDate: born}, nil},
		{"BirthDateOtherPatient", scheduling.PatientFilter{FamilyName: "Smith", BirthDate: "1990-07-04"}, []*scheduling.Patient{p5}},
		{"NameAndBirthDate", scheduling.PatientFilter{Name: "sm", BirthDate: "1990-07-04"}, []*scheduling.Patient{p5}},
		{"BirthDateAlone", scheduling.PatientFilter{BirthDate: "1990-07-04"}, []*scheduling.Patient{p5}},
		{"After", scheduling.PatientFilter{After: ptr(id[2])}, []*scheduling.Patient{p6, p2, p5}},
		{"Limit", scheduling.PatientFilter{Limit: 3}, []*scheduling.Patient{p3, p4, p1}},
		{"NameAndLimit", scheduling.PatientFilter{Name: "smith", Limit: 2}, []*scheduling.Patient{p3, p1}},
		{"NameAfterAndLimit", scheduling.PatientFilter{Name: "smith", After: ptr(id[2]), Limit: 2}, []*scheduling.Patient{p6, p5}},
		{"AfterAndLimit", scheduling.PatientFilter{After: ptr(id[0]), Limit: 2}, []*scheduling.Patient{p4, p1}},
	}
	for _, tc := range cases {
		e.t.Run(tc.name, func(t *testing.T) {
			got, err := e.s.ListPatients(e.ctx, p.ID, tc.f)
			e.sub(t).ok(err, "ListPatients")
			sameList(t, "ListPatients", got, tc.want)
		})
	}

	got, err := e.s.ListPatients(e.ctx, q.ID, scheduling.PatientFilter{Name: "s"})
	e.ok(err, "ListPatients(other practice)")
	sameList(e.t, "ListPatients(other practice)", got, []*scheduling.Patient{foreign})
}

func testListVisitTypes(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	named := func(n string) func(*scheduling.VisitType) {
		return func(v *scheduling.VisitType) { v.Name = n }
	}
	consult := e.mustVisitType(p.ID, named("Consult"))
	annual1 := e.mustVisitType(p.ID, named("Annual"))
	checkup := e.mustVisitType(p.ID, named("Checkup"))
	annual2 := e.mustVisitType(p.ID, named("Annual"))
	foreign := e.mustVisitType(q.ID, named("Acupuncture"))
	annual := sortedBy([]*scheduling.VisitType{annual1, annual2}, func(a, b *scheduling.VisitType) int { return 0 })

	got, err := e.s.ListVisitTypes(e.ctx, p.ID)
	e.ok(err, "ListVisitTypes")
	sameList(e.t, "ListVisitTypes (by name, then ID)", got, []*scheduling.VisitType{annual[0], annual[1], checkup, consult})

	got, err = e.s.ListVisitTypes(e.ctx, q.ID)
	e.ok(err, "ListVisitTypes(other practice)")
	sameList(e.t, "ListVisitTypes(other practice)", got, []*scheduling.VisitType{foreign})

	got, err = e.s.ListVisitTypes(e.ctx, e.mustPractice(uuid.Nil, "Empty").ID)
	e.ok(err, "ListVisitTypes(empty practice)")
	wantIDs(e.t, "ListVisitTypes(empty practice)", got)
}

// testListBlocks reads "From and To, when set" with "Zero fields do not
// filter": each bound applies on its own, so a zero To leaves the span
// unbounded above and a zero From leaves it unbounded below.
func testListBlocks(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	l1 := e.mustLocation(p.ID, "Downtown")
	l2 := e.mustLocation(p.ID, "Uptown")
	pr1 := e.mustProvider(p.ID)
	pr2 := e.mustProvider(p.ID)
	id := sortedIDs(5)
	mk := func(n int, prov *scheduling.Provider, loc *tenant.Location, start, end time.Time, rrule string, spanEnd *time.Time) *scheduling.Block {
		return e.mustBlock(p.ID, prov.ID, loc.ID, func(b *scheduling.Block) {
			b.ID, b.Start, b.End, b.RRule, b.SpanEnd = id[n], start, end, rrule, spanEnd
		})
	}
	at := func(t time.Time) *time.Time { return &t }
	b1 := mk(4, pr1, l1, tm(1, 9, 0), tm(1, 17, 0), "", at(tm(1, 17, 0)))
	b2 := mk(2, pr1, l2, tm(3, 9, 0), tm(3, 12, 0), "FREQ=WEEKLY;COUNT=2", at(tm(10, 12, 0)))
	b3 := mk(0, pr2, l1, tm(5, 8, 0), tm(5, 16, 0), "FREQ=DAILY", nil)
	b4 := mk(3, pr2, l2, tm(20, 9, 0), tm(20, 10, 0), "FREQ=DAILY;COUNT=2", at(tm(21, 10, 0)))
	b5 := mk(1, pr1, l1, tm(3, 9, 0), tm(3, 10, 0), "FREQ=DAILY;COUNT=2", at(tm(4, 10, 0)))
	ql := e.mustLocation(q.ID, "Airport")
	qp := e.mustProvider(q.ID)
	foreign := e.mustBlock(q.ID, qp.ID, ql.ID, func(b *scheduling.Block) { b.Start, b.End = tm(3, 9, 0), tm(3, 17, 0) })

	cases := []struct {
		name string
		f    scheduling.BlockFilter
		want []*scheduling.Block
	}{
		{"All", scheduling.BlockFilter{}, []*scheduling.Block{b1, b5, b2, b3, b4}},
		{"Provider", scheduling.BlockFilter{ProviderIDs: []uuid.UUID{pr1.ID}}, []*scheduling.Block{b1, b5, b2}},
		{"Providers", scheduling.BlockFilter{ProviderIDs: []uuid.UUID{pr2.ID, pr1.ID}}, []*scheduling.Block{b1, b5, b2, b3, b4}},
		{"ProviderOfOtherPractice", scheduling.BlockFilter{ProviderIDs: []uuid.UUID{qp.ID}}, nil},
		{"Location", scheduling.BlockFilter{LocationID: &l1.ID}, []*scheduling.Block{b1, b5, b3}},
		{"Span", scheduling.BlockFilter{From: tm(2, 0, 0), To: tm(6, 0, 0)}, []*scheduling.Block{b5, b2, b3}},
		{"SpanTouchingIsOut", scheduling.BlockFilter{From: tm(1, 17, 0), To: tm(3, 9, 0)}, nil},
		{"SpanJustOverlapping", scheduling.BlockFilter{From: tm(1, 16, 59), To: tm(3, 9, 1)}, []*scheduling.Block{b1, b5, b2}},
		{"SpanEndNilIsUnbounded", scheduling.BlockFilter{From: tm(400, 0, 0), To: tm(401, 0, 0)}, []*scheduling.Block{b3}},
		{"SpanBeforeAll", scheduling.BlockFilter{From: tm(-10, 0, 0), To: tm(1, 9, 0)}, nil},
		{"FromOnly", scheduling.BlockFilter{From: tm(11, 0, 0)}, []*scheduling.Block{b3, b4}},
		{"ToOnly", scheduling.BlockFilter{To: tm(4, 0, 0)}, []*scheduling.Block{b1, b5, b2}},
		{"Combined", scheduling.BlockFilter{ProviderIDs: []uuid.UUID{pr2.ID}, LocationID: &l1.ID, From: tm(0, 0, 0), To: tm(40, 0, 0)}, []*scheduling.Block{b3}},
	}
	for _, tc := range cases {
		e.t.Run(tc.name, func(t *testing.T) {
			got, err := e.s.ListBlocks(e.ctx, p.ID, tc.f)
			e.sub(t).ok(err, "ListBlocks")
			sameList(t, "ListBlocks", got, tc.want)
		})
	}

	got, err := e.s.ListBlocks(e.ctx, q.ID, scheduling.BlockFilter{ProviderIDs: []uuid.UUID{pr1.ID, qp.ID}})
	e.ok(err, "ListBlocks(other practice)")
	sameList(e.t, "ListBlocks(other practice)", got, []*scheduling.Block{foreign})
}
