package tenant_test

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// memStore is a map-backed tenant.Store for the Service's rules.
type memStore struct {
	groups    map[tenant.GroupID]*tenant.Group
	practices map[tenant.PracticeID]*tenant.Practice
	locations map[tenant.LocationID]*tenant.Location
}

func newMem() *memStore {
	return &memStore{map[tenant.GroupID]*tenant.Group{}, map[tenant.PracticeID]*tenant.Practice{}, map[tenant.LocationID]*tenant.Location{}}
}

func (m *memStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return fn(ctx)
}
func (m *memStore) CreateGroup(_ context.Context, g *tenant.Group) error {
	m.groups[g.ID] = g
	return nil
}
func (m *memStore) GetGroup(_ context.Context, id tenant.GroupID) (*tenant.Group, error) {
	if g, ok := m.groups[id]; ok {
		return g, nil
	}
	return nil, errs.NotFound("mem", "group")
}
func (m *memStore) CreatePractice(_ context.Context, p *tenant.Practice) error {
	m.practices[p.ID] = p
	return nil
}
func (m *memStore) GetPractice(_ context.Context, id tenant.PracticeID) (*tenant.Practice, error) {
	if p, ok := m.practices[id]; ok {
		return p, nil
	}
	return nil, errs.NotFound("mem", "practice")
}
func (m *memStore) ListPractices(context.Context, tenant.GroupID) ([]*tenant.Practice, error) {
	return nil, nil
}
func (m *memStore) UpdatePolicy(_ context.Context, id tenant.PracticeID, p tenant.BookingPolicy) error {
	pr, ok := m.practices[id]
	if !ok {
		return errs.NotFound("mem", "practice")
	}
	pr.Policy = p
	return nil
}
func (m *memStore) CreateLocation(_ context.Context, l *tenant.Location) error {
	m.locations[l.ID] = l
	return nil
}
func (m *memStore) GetLocation(_ context.Context, practice tenant.PracticeID, id tenant.LocationID) (*tenant.Location, error) {
	if l, ok := m.locations[id]; ok && l.PracticeID == practice {
		return l, nil
	}
	return nil, errs.NotFound("mem", "location")
}
func (m *memStore) ListLocations(context.Context, tenant.PracticeID) ([]*tenant.Location, error) {
	return nil, nil
}

func TestLocationRefusals(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	svc := tenant.NewService(mem, clock.NewFixed(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)), clock.UUIDv7{})
	g, err := svc.CreateGroup(ctx, "Harbor Health")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Clinic"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Policy != tenant.DefaultPolicy {
		t.Errorf("policy = %+v, want the default", p.Policy)
	}
	ok := tenant.NewLocation{Name: "Main St", TimeZone: "America/New_York", Geo: tenant.GeoPoint{Lat: 40.7, Lng: -74}, Address: tenant.Address{Country: "US"}}
	cases := []struct {
		name  string
		edit  func(*tenant.NewLocation)
		field string
	}{
		{"unknown zone", func(l *tenant.NewLocation) { l.TimeZone = "America/Atlantis" }, "time_zone"},
		{"no zone", func(l *tenant.NewLocation) { l.TimeZone = "" }, "time_zone"},
		{"server's zone", func(l *tenant.NewLocation) { l.TimeZone = "Local" }, "time_zone"},
		{"no name", func(l *tenant.NewLocation) { l.Name = "  " }, "name"},
		{"latitude", func(l *tenant.NewLocation) { l.Geo.Lat = 91 }, "geo.lat"},
		{"longitude", func(l *tenant.NewLocation) { l.Geo.Lng = -181 }, "geo.lng"},
		{"country", func(l *tenant.NewLocation) { l.Address.Country = "usa" }, "address.country"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := ok
			c.edit(&in)
			_, err := svc.CreateLocation(ctx, p.ID, in)
			if errs.KindOf(err) != errs.KindInvalid || errs.FieldOf(err) != c.field {
				t.Fatalf("err = %v, want invalid %s", err, c.field)
			}
			if len(mem.locations) != 0 {
				t.Fatal("a refused location was stored")
			}
		})
	}
	if _, err := svc.CreateLocation(ctx, uuid.New(), ok); errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("location of an unknown practice: %v", err)
	}
	if _, err := svc.CreateLocation(ctx, p.ID, ok); err != nil {
		t.Errorf("a good location: %v", err)
	}
}

func TestPolicyRules(t *testing.T) {
	h := time.Hour
	cases := []struct {
		name  string
		p     tenant.BookingPolicy
		field string // "" when valid
	}{
		{"default", tenant.DefaultPolicy, ""},
		{"no limits", tenant.BookingPolicy{}, ""},
		{"negative notice", tenant.BookingPolicy{MinNotice: -h}, "policy.min_notice"},
		{"negative advance", tenant.BookingPolicy{MaxAdvance: -h}, "policy.max_advance"},
		{"negative cut-off", tenant.BookingPolicy{CancelCutoff: -h}, "policy.cancel_cutoff"},
		{"advance within notice", tenant.BookingPolicy{MinNotice: 48 * h, MaxAdvance: 24 * h}, "policy.max_advance"},
		{"advance of ten years", tenant.BookingPolicy{MaxAdvance: 10 * 366 * 24 * h}, "policy.max_advance"},
	}
	for _, c := range cases {
		err := c.p.Validate("t")
		if got := errs.FieldOf(err); got != c.field || (c.field == "") != (err == nil) {
			t.Errorf("%s: err = %v, want field %q", c.name, err, c.field)
		}
	}
}

func TestPolicyChangeHook(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	var told []tenant.PracticeID
	svc := tenant.NewService(mem, clock.NewFixed(time.Now()), clock.UUIDv7{}, tenant.OnPolicyChange(func(id tenant.PracticeID) { told = append(told, id) }))
	g, _ := svc.CreateGroup(ctx, "G")
	p, err := svc.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "P"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetPolicy(ctx, p.ID, tenant.BookingPolicy{MinNotice: -1}); err == nil || len(told) != 0 {
		t.Fatalf("a refused policy: err %v, hook called %d times", err, len(told))
	}
	if err := svc.SetPolicy(ctx, p.ID, tenant.BookingPolicy{AutoConfirm: true}); err != nil || len(told) != 1 || told[0] != p.ID {
		t.Fatalf("SetPolicy: %v, hook calls %v", err, told)
	}
	if _, err := svc.CreatePractice(ctx, tenant.NewPractice{GroupID: uuid.New(), Name: "Orphan"}); errs.FieldOf(err) != "group_id" {
		t.Errorf("practice in an unknown group: %v", err)
	}
}

// policyObserver records the policies it is told of and fails with err
// when set.
type policyObserver struct {
	told []tenant.BookingPolicy
	err  error
}

func (o *policyObserver) PolicyChanged(_ context.Context, _ tenant.PracticeID, p tenant.BookingPolicy) error {
	o.told = append(o.told, p)
	return o.err
}

// TestPolicyObserver: SetPolicy tells its observers of the new policy; a
// refused policy tells none, and an observer's error is SetPolicy's, with
// the OnPolicyChange functions not called.
func TestPolicyObserver(t *testing.T) {
	ctx := context.Background()
	obs := &policyObserver{}
	var forgot int
	svc := tenant.NewService(newMem(), clock.NewFixed(time.Now()), clock.UUIDv7{}, tenant.WithPolicyObserver(obs),
		tenant.OnPolicyChange(func(tenant.PracticeID) { forgot++ }))
	g, _ := svc.CreateGroup(ctx, "G")
	p, err := svc.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "P"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetPolicy(ctx, p.ID, tenant.BookingPolicy{MinNotice: -1}); err == nil || len(obs.told) != 0 {
		t.Fatalf("a refused policy: err %v, observer told %d times", err, len(obs.told))
	}
	pol := tenant.BookingPolicy{MinNotice: time.Hour}
	if err := svc.SetPolicy(ctx, p.ID, pol); err != nil || len(obs.told) != 1 || obs.told[0] != pol || forgot != 1 {
		t.Fatalf("SetPolicy: %v, observer told %v, forgotten %d times", err, obs.told, forgot)
	}
	obs.err = errs.Invalid("test", "x", "no")
	if err := svc.SetPolicy(ctx, p.ID, pol); errs.FieldOf(err) != "x" || forgot != 1 {
		t.Fatalf("SetPolicy with a failing observer: %v, forgotten %d times", err, forgot)
	}
}
