package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// day0 is a Monday; at(d, h, m) is d days after it at h:m UTC.
var day0 = time.Date(2030, 3, 4, 0, 0, 0, 0, time.UTC)

func at(d, h, m int) time.Time {
	return day0.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

// fixture is one practice with a location, a provider, a room, a patient, a
// visit type and a block.
type fixture struct {
	s    *sqlstore.Store
	p    *tenant.Practice
	loc  *tenant.Location
	prov *scheduling.Provider
	room *scheduling.Resource
	pat  *scheduling.Patient
	vt   *scheduling.VisitType
	blk  *scheduling.Block
}

func ok(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantKind(t testing.TB, err error, k errs.Kind, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %v", what, k)
	}
	if got := errs.KindOf(err); got != k {
		t.Fatalf("%s: kind %v (%v), want %v", what, got, err, k)
	}
}

var npiSeq struct {
	sync.Mutex
	n int
}

func mustFixture(t testing.TB, s *sqlstore.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
	g := &tenant.Group{ID: newID(), Name: "G", CreatedAt: now}
	ok(t, s.Tenants.CreateGroup(ctx, g), "CreateGroup")
	f := &fixture{s: s}
	f.p = &tenant.Practice{ID: newID(), GroupID: g.ID, Name: "P", Policy: tenant.DefaultPolicy, CreatedAt: now}
	ok(t, s.Tenants.CreatePractice(ctx, f.p), "CreatePractice")
	f.loc = &tenant.Location{ID: newID(), PracticeID: f.p.ID, Name: "Main", TimeZone: "America/New_York",
		Address: tenant.Address{Line1: "1 Main St", City: "Springfield", Country: "US"},
		Geo:     tenant.GeoPoint{Lat: 40.7, Lng: -74}, CreatedAt: now}
	ok(t, s.Tenants.CreateLocation(ctx, f.loc), "CreateLocation")
	npiSeq.Lock()
	npiSeq.n++
	npi := 1000000000 + npiSeq.n
	npiSeq.Unlock()
	f.prov = &scheduling.Provider{ID: newID(), PracticeID: f.p.ID, NPI: itoa(npi), GivenName: "Ann", FamilyName: "Lee",
		Specialties: []string{"cardiology"}, LocationIDs: []tenant.LocationID{f.loc.ID}, CreatedAt: now}
	ok(t, s.Scheduling.CreateProvider(ctx, f.prov), "CreateProvider")
	f.room = &scheduling.Resource{ID: newID(), PracticeID: f.p.ID, LocationID: f.loc.ID, Name: "Room 1",
		Kind: scheduling.Room, CreatedAt: now}
	ok(t, s.Scheduling.CreateResource(ctx, f.room), "CreateResource")
	f.pat = &scheduling.Patient{ID: newID(), PracticeID: f.p.ID, GivenName: "Émile", FamilyName: "Zola",
		BirthDate: "1990-01-02", Phone: "+12025550143", CreatedAt: now, UpdatedAt: now}
	ok(t, s.Scheduling.CreatePatient(ctx, f.pat), "CreatePatient")
	f.vt = &scheduling.VisitType{ID: newID(), PracticeID: f.p.ID, Name: "Checkup", Duration: 30 * time.Minute,
		BufferAfter: 5 * time.Minute, ResourceIDs: []scheduling.ResourceID{f.room.ID}, Audience: scheduling.AnyPatient,
		PriceMinor: 5000, Currency: "USD", CreatedAt: now}
	ok(t, s.Scheduling.CreateVisitType(ctx, f.vt), "CreateVisitType")
	f.blk = &scheduling.Block{ID: newID(), PracticeID: f.p.ID, ProviderID: f.prov.ID, LocationID: f.loc.ID,
		TimeZone: "America/New_York", Start: at(0, 14, 0), End: at(0, 22, 0), RRule: "FREQ=WEEKLY;BYDAY=MO",
		ExDates: []string{}, Overrides: []scheduling.Override{}, Capacity: 2, CreatedAt: now, UpdatedAt: now}
	ok(t, s.Scheduling.CreateBlock(ctx, f.blk), "CreateBlock")
	return f
}

func itoa(n int) string {
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// appt is a confirmed 30-minute visit at start in seat 1, held for the room
// when room is set.
func (f *fixture) appt(start time.Time, room bool) *scheduling.Appointment {
	a := &scheduling.Appointment{
		ID: newID(), PracticeID: f.p.ID, ProviderID: f.prov.ID, LocationID: f.loc.ID, BlockID: f.blk.ID,
		VisitTypeID: f.vt.ID, PatientID: f.pat.ID, Start: start, End: start.Add(30 * time.Minute),
		HoldStart: start, HoldEnd: start.Add(30 * time.Minute), Seat: 1, Status: scheduling.StatusConfirmed,
		ResourceIDs: []scheduling.ResourceID{}, BookedBy: "staff:x", CreatedAt: day0, UpdatedAt: day0,
	}
	if room {
		a.ResourceIDs = []scheduling.ResourceID{f.room.ID}
	}
	return a
}

func TestMigrateTwice(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ok(t, s.Migrate(context.Background()), "second Migrate")
		ok(t, s.Ping(context.Background()), "Ping")
	})
}

func TestRoundTripUTC(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		f := mustFixture(t, s)
		want := time.Date(2030, 1, 1, 11, 0, 0, 123456000, time.UTC)

		p, err := s.Tenants.GetPractice(ctx, f.p.ID)
		ok(t, err, "GetPractice")
		if !p.CreatedAt.Equal(want) || p.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt = %v, want %v in UTC", p.CreatedAt, want)
		}
		if p.Policy != tenant.DefaultPolicy {
			t.Errorf("Policy = %+v, want %+v", p.Policy, tenant.DefaultPolicy)
		}
		b, err := s.Scheduling.GetBlock(ctx, f.p.ID, f.blk.ID)
		ok(t, err, "GetBlock")
		if !b.Start.Equal(f.blk.Start) || b.Start.Location() != time.UTC || b.SpanEnd != nil || b.Capacity != 2 {
			t.Errorf("block = %+v", b)
		}
		vt, err := s.Scheduling.GetVisitType(ctx, f.p.ID, f.vt.ID)
		ok(t, err, "GetVisitType")
		if vt.Duration != 30*time.Minute || vt.BufferAfter != 5*time.Minute || len(vt.ResourceIDs) != 1 {
			t.Errorf("visit type = %+v", vt)
		}
		a := f.appt(at(0, 15, 0), true)
		ok(t, s.Scheduling.InsertAppointment(ctx, a), "InsertAppointment")
		got, err := s.Scheduling.GetAppointment(ctx, f.p.ID, a.ID)
		ok(t, err, "GetAppointment")
		if !got.HoldStart.Equal(a.HoldStart) || got.HoldStart.Location() != time.UTC ||
			len(got.ResourceIDs) != 1 || got.ResourceIDs[0] != f.room.ID || got.Status != a.Status {
			t.Errorf("appointment = %+v", got)
		}
		prev := at(0, 14, 0)
		c := &scheduling.Change{ID: newID(), PracticeID: f.p.ID, AppointmentID: a.ID, Action: "book",
			To: scheduling.StatusConfirmed, By: "staff:x", At: day0, PrevStart: &prev}
		ok(t, s.Scheduling.AppendChange(ctx, c), "AppendChange")
		cs, err := s.Scheduling.ListChanges(ctx, f.p.ID, a.ID)
		ok(t, err, "ListChanges")
		if len(cs) != 1 || cs[0].PrevStart == nil || !cs[0].PrevStart.Equal(prev) {
			t.Errorf("changes = %+v", cs)
		}
	})
}

func TestFilters(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		f := mustFixture(t, s)
		ps, err := s.Scheduling.ListProviders(ctx, f.p.ID, scheduling.ProviderFilter{Specialty: "cardiology", LocationID: &f.loc.ID})
		ok(t, err, "ListProviders")
		if len(ps) != 1 {
			t.Errorf("providers = %d, want 1", len(ps))
		}
		other := newID()
		ps, err = s.Scheduling.ListProviders(ctx, f.p.ID, scheduling.ProviderFilter{LocationID: &other})
		ok(t, err, "ListProviders other location")
		if len(ps) != 0 {
			t.Errorf("providers at other location = %d, want 0", len(ps))
		}
		pts, err := s.Scheduling.ListPatients(ctx, f.p.ID, scheduling.PatientFilter{Name: "émi"})
		ok(t, err, "ListPatients")
		if len(pts) != 1 {
			t.Errorf("patients by prefix = %d, want 1", len(pts))
		}
		pts, err = s.Scheduling.ListPatients(ctx, f.p.ID, scheduling.PatientFilter{Name: "%"})
		ok(t, err, "ListPatients %")
		if len(pts) != 0 {
			t.Errorf("patients by %%: %d, want 0", len(pts))
		}
		a := f.appt(at(0, 15, 0), true)
		ok(t, s.Scheduling.InsertAppointment(ctx, a), "InsertAppointment")
		as, err := s.Scheduling.ListAppointments(ctx, f.p.ID, scheduling.AppointmentFilter{ResourceID: &f.room.ID,
			From: at(0, 15, 29), To: at(0, 16, 0)})
		ok(t, err, "ListAppointments")
		if len(as) != 1 {
			t.Errorf("appointments = %d, want 1", len(as))
		}
		bs, hs, err := s.Scheduling.SlotInputs(ctx, f.p.ID, []uuid.UUID{f.prov.ID}, []uuid.UUID{f.room.ID}, at(0, 0, 0), at(14, 0, 0))
		ok(t, err, "SlotInputs")
		if len(bs) != 1 || len(hs.Provider) != 1 || len(hs.Resource) != 1 || hs.Resource[0].OwnerID != f.room.ID ||
			hs.Provider[0].BlockID != f.blk.ID || !hs.Resource[0].Start.Equal(a.HoldStart) {
			t.Errorf("SlotInputs = %v, %+v", bs, hs)
		}
	})
}

func TestOtherPracticeNotFound(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		f, g := mustFixture(t, s), mustFixture(t, s)
		a := f.appt(at(0, 15, 0), false)
		ok(t, s.Scheduling.InsertAppointment(ctx, a), "InsertAppointment")
		_, err := s.Scheduling.GetProvider(ctx, g.p.ID, f.prov.ID)
		wantKind(t, err, errs.KindNotFound, "GetProvider")
		_, err = s.Tenants.GetLocation(ctx, g.p.ID, f.loc.ID)
		wantKind(t, err, errs.KindNotFound, "GetLocation")
		_, err = s.Scheduling.GetAppointment(ctx, g.p.ID, a.ID)
		wantKind(t, err, errs.KindNotFound, "GetAppointment")
		wantKind(t, s.Scheduling.DeleteBlock(ctx, g.p.ID, f.blk.ID), errs.KindNotFound, "DeleteBlock")
		moved := *a
		moved.PracticeID = g.p.ID
		wantKind(t, s.Scheduling.UpdateAppointment(ctx, &moved), errs.KindNotFound, "UpdateAppointment")
		pat := *f.pat
		pat.PracticeID = g.p.ID
		wantKind(t, s.Scheduling.UpdatePatient(ctx, &pat), errs.KindNotFound, "UpdatePatient")
		wantKind(t, s.Tenants.UpdatePolicy(ctx, newID(), tenant.DefaultPolicy), errs.KindNotFound, "UpdatePolicy")
		h, err := s.Scheduling.Holds(ctx, g.p.ID, []uuid.UUID{f.prov.ID}, nil, at(0, 0, 0), at(1, 0, 0))
		ok(t, err, "Holds")
		if len(h.Provider) != 0 {
			t.Errorf("holds of other practice: %+v", h)
		}
	})
}

func TestConflicts(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		f := mustFixture(t, s)
		a := f.appt(at(0, 15, 0), true)
		ok(t, s.Scheduling.InsertAppointment(ctx, a), "first")

		wantKind(t, s.Scheduling.InsertAppointment(ctx, f.appt(at(0, 15, 15), false)), errs.KindConflict, "same seat")
		b := f.appt(at(0, 15, 15), true)
		b.Seat, b.BlockID = 2, newID()
		wantKind(t, s.Scheduling.InsertAppointment(ctx, b), errs.KindConflict, "same room, other block")
		wantKind(t, s.Scheduling.InsertAppointment(ctx, b), errs.KindConflict, "no room, other block: the provider is busy")
		b.ResourceIDs, b.BlockID = []uuid.UUID{}, a.BlockID
		wantKind(t, s.Scheduling.InsertAppointment(ctx, b), errs.KindConflict, "other seat, no room: the patient is busy")
		other := *f.pat
		other.ID = newID()
		ok(t, s.Scheduling.CreatePatient(ctx, &other), "CreatePatient")
		b.PatientID = other.ID
		ok(t, s.Scheduling.InsertAppointment(ctx, b), "other seat, no room, another patient")
		ok(t, s.Scheduling.InsertAppointment(ctx, f.appt(at(0, 15, 30), true)), "adjacent")
		wantKind(t, s.Scheduling.InsertAppointment(ctx, a), errs.KindConflict, "duplicate ID")

		canceled := f.appt(at(0, 15, 0), true)
		canceled.Status = scheduling.StatusCanceled
		ok(t, s.Scheduling.InsertAppointment(ctx, canceled), "canceled over a taken time")
		canceled.Status = scheduling.StatusNew
		wantKind(t, s.Scheduling.UpdateAppointment(ctx, canceled), errs.KindConflict, "revive over a taken time")

		a.Status = scheduling.StatusCanceled
		ok(t, s.Scheduling.UpdateAppointment(ctx, a), "cancel")
		ok(t, s.Scheduling.UpdateAppointment(ctx, canceled), "revive after cancel")

		long := f.appt(at(3, 0, 0), false)
		long.HoldEnd = long.HoldStart.Add(sqlstore.MaxHold + time.Minute)
		wantKind(t, s.Scheduling.InsertAppointment(ctx, long), errs.KindInvalid, "hold too long")

		dup := *f.prov
		dup.ID = newID()
		wantKind(t, s.Scheduling.CreateProvider(ctx, &dup), errs.KindConflict, "duplicate NPI")
	})
}

func TestLockOutsideTx(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		if err := s.Scheduling.Lock(context.Background(), newID()); err == nil {
			t.Fatal("Lock outside InTx: no error")
		}
		err := s.InTx(context.Background(), func(ctx context.Context) error {
			return s.Scheduling.Lock(ctx, newID(), newID())
		})
		ok(t, err, "Lock in InTx")
	})
}

// TestConcurrentBooking races check-then-insert transactions for one time:
// exactly one must win and the others must see a conflict, never a busy
// error or a double booking.
func TestConcurrentBooking(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		f := mustFixture(t, s)
		const n = 8
		var (
			wg   sync.WaitGroup
			errc = make(chan error, n)
		)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := f.appt(at(0, 15, 0), true)
				errc <- s.InTx(ctx, func(ctx context.Context) error {
					if err := s.Scheduling.Lock(ctx, f.prov.ID, f.room.ID); err != nil {
						return err
					}
					h, err := s.Scheduling.Holds(ctx, f.p.ID, []uuid.UUID{f.prov.ID}, nil, a.HoldStart, a.HoldEnd)
					if err != nil {
						return err
					}
					if len(h.Provider) > 0 {
						return errs.Conflict("test", "taken")
					}
					return s.Scheduling.InsertAppointment(ctx, a)
				})
			}()
		}
		wg.Wait()
		close(errc)
		wins := 0
		for err := range errc {
			switch {
			case err == nil:
				wins++
			case errs.KindOf(err) != errs.KindConflict:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if wins != 1 {
			t.Errorf("%d bookings won, want 1", wins)
		}
	})
}

// TestLockBlocks checks on PostgreSQL that Lock holds a second transaction
// locking the same key until the first ends.
func TestLockBlocks(t *testing.T) {
	s := sqltest.Postgres(t)
	ctx := context.Background()
	key := newID()
	locked, release := make(chan struct{}), make(chan struct{})
	var first sync.WaitGroup
	first.Add(1)
	go func() {
		defer first.Done()
		err := s.InTx(ctx, func(ctx context.Context) error {
			if err := s.Scheduling.Lock(ctx, key); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
		if err != nil {
			t.Errorf("first tx: %v", err)
		}
	}()
	<-locked
	got := make(chan error, 1)
	go func() {
		got <- s.InTx(ctx, func(ctx context.Context) error { return s.Scheduling.Lock(ctx, key) })
	}()
	select {
	case err := <-got:
		t.Fatalf("second Lock returned (%v) while the first tx held the key", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	first.Wait()
	select {
	case err := <-got:
		ok(t, err, "second tx")
	case <-time.After(10 * time.Second):
		t.Fatal("second Lock still blocked after the first tx ended")
	}
}

func TestOpenDSN(t *testing.T) {
	for _, dsn := range []string{"mysql://x", "x.txt", "sqlite:"} {
		if _, err := sqlstore.Open(context.Background(), dsn); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("Open(%q) = %v, want KindInvalid", dsn, err)
		}
	}
	dir := t.TempDir()
	for _, dsn := range []string{"sqlite:" + dir + "/a.db", "file:" + dir + "/b.sqlite", dir + "/c.db"} {
		s, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			t.Errorf("Open(%q): %v", dsn, err)
			continue
		}
		if s.Dialect() != sqlstore.SQLite {
			t.Errorf("Open(%q) dialect %v", dsn, s.Dialect())
		}
		s.Close()
	}
	_ = errors.New
}

// TestConflictInTxLeavesTxUsable checks that an appointment write that
// conflicts inside a transaction returns KindConflict and leaves the
// transaction usable: on PostgreSQL the write runs in a savepoint, rolled
// back on failure, instead of aborting the transaction. The transaction
// then reads, writes other appointments and commits them.
func TestConflictInTxLeavesTxUsable(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		f := mustFixture(t, s)
		a, c := f.appt(at(0, 15, 0), true), f.appt(at(0, 16, 0), true)
		taken := f.appt(at(0, 15, 15), true)
		revived := f.appt(at(0, 15, 0), true)
		revived.Status = scheduling.StatusCanceled
		err := s.InTx(ctx, func(ctx context.Context) error {
			ok(t, s.Scheduling.InsertAppointment(ctx, a), "first")
			ok(t, s.Scheduling.InsertAppointment(ctx, revived), "canceled over a taken time")
			wantKind(t, s.Scheduling.InsertAppointment(ctx, taken), errs.KindConflict, "insert over a taken time")
			if _, err := s.Scheduling.GetAppointment(ctx, f.p.ID, a.ID); err != nil {
				t.Fatalf("read after a conflicting insert: %v", err)
			}
			revived.Status = scheduling.StatusNew
			wantKind(t, s.Scheduling.UpdateAppointment(ctx, revived), errs.KindConflict, "revive over a taken time")
			ok(t, s.Scheduling.InsertAppointment(ctx, c), "insert after two conflicts")
			revived.Start, revived.End = at(0, 17, 0), at(0, 17, 30)
			revived.HoldStart, revived.HoldEnd = revived.Start, revived.End
			revived.Status = scheduling.StatusConfirmed
			ok(t, s.Scheduling.UpdateAppointment(ctx, revived), "update after two conflicts")
			return nil
		})
		ok(t, err, "commit")
		for _, want := range []*scheduling.Appointment{a, c, revived} {
			got, err := s.Scheduling.GetAppointment(ctx, f.p.ID, want.ID)
			ok(t, err, "GetAppointment after commit")
			if got.Status != want.Status || !got.Start.Equal(want.Start) {
				t.Errorf("appointment %s = %s at %v, want %s at %v", want.ID, got.Status, got.Start, want.Status, want.Start)
			}
		}
		if _, err := s.Scheduling.GetAppointment(ctx, f.p.ID, taken.ID); errs.KindOf(err) != errs.KindNotFound {
			t.Errorf("the conflicting appointment: err %v, want not found", err)
		}
	})
}
