package schedtest

import (
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

var tenantCases = []testCase{
	{"TenantGroupRoundTrip", testGroupRoundTrip},
	{"TenantPracticeRoundTrip", testPracticeRoundTrip},
	{"TenantListPractices", testListPractices},
	{"TenantUpdatePolicy", testUpdatePolicy},
	{"TenantLocationRoundTrip", testLocationRoundTrip},
	{"TenantListLocations", testListLocations},
}

func testGroupRoundTrip(e *env) {
	g := e.mustGroup("Northwind Health")
	got, err := e.ten.GetGroup(e.ctx, g.ID)
	e.ok(err, "GetGroup")
	same(e.t, "GetGroup", got, g)

	_, err = e.ten.GetGroup(e.ctx, newID())
	wantErrKind(e.t, "GetGroup(unknown id)", err, errs.KindNotFound)
}

func testPracticeRoundTrip(e *env) {
	g := e.mustGroup("Northwind Health")
	p := &tenant.Practice{
		ID:      newID(),
		GroupID: g.ID,
		Name:    "Elm Street Clinic",
		Policy: tenant.BookingPolicy{
			AutoConfirm:  true,
			MinNotice:    90 * time.Minute,
			MaxAdvance:   30 * 24 * time.Hour,
			CancelCutoff: 12 * time.Hour,
		},
		CreatedAt: e.ts(),
	}
	e.ok(e.ten.CreatePractice(e.ctx, p), "CreatePractice")
	got, err := e.ten.GetPractice(e.ctx, p.ID)
	e.ok(err, "GetPractice")
	same(e.t, "GetPractice", got, p)

	// A zero policy is stored as zero, not replaced by a default.
	z := &tenant.Practice{ID: newID(), GroupID: g.ID, Name: "Zero Policy", CreatedAt: e.ts()}
	e.ok(e.ten.CreatePractice(e.ctx, z), "CreatePractice(zero policy)")
	got, err = e.ten.GetPractice(e.ctx, z.ID)
	e.ok(err, "GetPractice(zero policy)")
	same(e.t, "GetPractice(zero policy)", got, z)

	_, err = e.ten.GetPractice(e.ctx, newID())
	wantErrKind(e.t, "GetPractice(unknown id)", err, errs.KindNotFound)
}

func testListPractices(e *env) {
	g := e.mustGroup("Northwind Health")
	other := e.mustGroup("Southwind Health")
	c := e.mustPractice(g.ID, "Cedar Clinic")
	a := e.mustPractice(g.ID, "Aspen Clinic")
	b := e.mustPractice(g.ID, "Birch Clinic")
	e.mustPractice(other.ID, "Alder Clinic")

	got, err := e.ten.ListPractices(e.ctx, g.ID)
	e.ok(err, "ListPractices")
	sameList(e.t, "ListPractices (by name, only the group's)", got, []*tenant.Practice{a, b, c})

	got, err = e.ten.ListPractices(e.ctx, newID())
	e.ok(err, "ListPractices(unknown group)")
	wantIDs(e.t, "ListPractices(unknown group)", got)
}

func testUpdatePolicy(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	pol := tenant.BookingPolicy{
		AutoConfirm:  true,
		MinNotice:    15 * time.Minute,
		MaxAdvance:   0,
		CancelCutoff: 3 * time.Hour,
	}
	e.ok(e.ten.UpdatePolicy(e.ctx, p.ID, pol), "UpdatePolicy")
	got, err := e.ten.GetPractice(e.ctx, p.ID)
	e.ok(err, "GetPractice")
	want := *p
	want.Policy = pol
	same(e.t, "GetPractice after UpdatePolicy", got, &want)

	got, err = e.ten.GetPractice(e.ctx, q.ID)
	e.ok(err, "GetPractice(other)")
	same(e.t, "other practice after UpdatePolicy", got, q)

	// The contract names KindNotFound for Get methods only; the suite reads
	// it as applying to an update of an unknown practice too.
	err = e.ten.UpdatePolicy(e.ctx, newID(), pol)
	wantErrKind(e.t, "UpdatePolicy(unknown id)", err, errs.KindNotFound)
}

func testLocationRoundTrip(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	l := &tenant.Location{
		ID:         newID(),
		PracticeID: p.ID,
		Name:       "Downtown",
		TimeZone:   "America/Chicago",
		Address: tenant.Address{
			Line1:      "233 S Wacker Dr",
			Line2:      "Floor 12",
			City:       "Chicago",
			Region:     "IL",
			PostalCode: "60606",
			Country:    "US",
		},
		Geo:       tenant.GeoPoint{Lat: 41.878876, Lng: -87.635915},
		CreatedAt: e.ts(),
	}
	e.ok(e.ten.CreateLocation(e.ctx, l), "CreateLocation")
	got, err := e.ten.GetLocation(e.ctx, p.ID, l.ID)
	e.ok(err, "GetLocation")
	same(e.t, "GetLocation", got, l)

	// Optional address parts left empty come back empty.
	m := &tenant.Location{
		ID:         newID(),
		PracticeID: p.ID,
		Name:       "Uptown",
		TimeZone:   "Europe/Berlin",
		Address:    tenant.Address{Line1: "Unter den Linden 1", City: "Berlin", Country: "DE"},
		Geo:        tenant.GeoPoint{Lat: 52.5170365, Lng: 13.3888599},
		CreatedAt:  e.ts(),
	}
	e.ok(e.ten.CreateLocation(e.ctx, m), "CreateLocation(minimal)")
	got, err = e.ten.GetLocation(e.ctx, p.ID, m.ID)
	e.ok(err, "GetLocation(minimal)")
	same(e.t, "GetLocation(minimal)", got, m)

	_, err = e.ten.GetLocation(e.ctx, q.ID, l.ID)
	wantErrKind(e.t, "GetLocation(other practice)", err, errs.KindNotFound)
	_, err = e.ten.GetLocation(e.ctx, p.ID, newID())
	wantErrKind(e.t, "GetLocation(unknown id)", err, errs.KindNotFound)
}

func testListLocations(e *env) {
	p := e.mustPractice(uuid.Nil, "Elm Street Clinic")
	q := e.mustPractice(uuid.Nil, "Oak Street Clinic")
	w := e.mustLocation(p.ID, "Westside")
	d := e.mustLocation(p.ID, "Downtown")
	n := e.mustLocation(p.ID, "Northgate")
	e.mustLocation(q.ID, "Airport")

	got, err := e.ten.ListLocations(e.ctx, p.ID)
	e.ok(err, "ListLocations")
	sameList(e.t, "ListLocations (by name, only the practice's)", got, []*tenant.Location{d, n, w})

	got, err = e.ten.ListLocations(e.ctx, e.mustPractice(uuid.Nil, "Empty").ID)
	e.ok(err, "ListLocations(no locations)")
	wantIDs(e.t, "ListLocations(no locations)", got)
}
