package carebook_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/directory/directorytest"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// listed is a clinic with a second provider, an orthopaedist at a
// Brooklyn location (ZIP 11201, with a geo point) seeing patients 09:00 to
// 17:00 daily, and the practice administrator's caller.
type listed struct {
	*clinic
	admin, desk context.Context
	brooklyn    tenant.LocationID
	bones       scheduling.ProviderID
	patientCtx  context.Context
}

const ortho = "207X00000X"

func newListed(t testing.TB, st *sqlstore.Store) *listed {
	t.Helper()
	c := newClinic(t, st)
	l := &listed{clinic: c}
	pr, err := c.e.Tenants.Practice(c.staff, c.practice)
	require.NoError(t, err)
	l.admin = callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(pr.GroupID, pr.ID))
	l.desk = callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(pr.GroupID, pr.ID))
	loc, err := c.e.Tenants.CreateLocation(c.staff, c.practice, tenant.NewLocation{Name: "Brooklyn Heights", TimeZone: "America/New_York",
		Address: tenant.Address{Line1: "135 Remsen Street", City: "Brooklyn", Region: "NY", PostalCode: "11201", Country: "US"},
		Geo:     tenant.GeoPoint{Lat: 40.6936, Lng: -73.9920}})
	require.NoError(t, err)
	l.brooklyn = loc.ID
	prov, err := c.e.Scheduling.CreateProvider(c.staff, c.practice, scheduling.NewProvider{NPI: directorytest.NPI(7), GivenName: "Ana",
		FamilyName: "Bones", Specialties: []string{"orthopedics"}, LocationIDs: []tenant.LocationID{loc.ID}})
	require.NoError(t, err)
	l.bones = prov.ID
	_, err = c.e.Scheduling.CreateBlock(c.staff, c.practice, scheduling.NewBlock{ProviderID: prov.ID, BlockInput: scheduling.BlockInput{
		LocationID: loc.ID, Start: c.at(3, 2, 9, 0), End: c.at(3, 2, 17, 0), RRule: "FREQ=DAILY;COUNT=60"}})
	require.NoError(t, err)
	l.patientCtx = actor.With(context.Background(), actor.Actor{Kind: actor.Patient, ID: c.patient.ID.String()})
	return l
}

// publish publishes the practice with Bones's profile.
func (l *listed) publish(t testing.TB) {
	t.Helper()
	require.NoError(t, l.e.PutDirectoryProfile(l.admin, l.practice, directory.Profile{ProviderID: l.bones,
		Taxonomies: []string{ortho}, Languages: []string{"en", "es"}, AcceptingNew: true}))
	require.NoError(t, l.e.PublishDirectory(l.admin, l.practice, true))
}

// addLater adds Lee Later, an orthopedist working at Court Street (nearer
// ZIP 11201's centroid than Bones) in the hours of b, and returns him.
func (l *listed) addLater(t testing.TB, b scheduling.BlockInput) scheduling.ProviderID {
	t.Helper()
	near, err := l.e.Tenants.CreateLocation(l.staff, l.practice, tenant.NewLocation{Name: "Court Street", TimeZone: "America/New_York",
		Address: tenant.Address{Line1: "200 Court Street", City: "Brooklyn", Region: "NY", PostalCode: "11201", Country: "US"},
		Geo:     tenant.GeoPoint{Lat: 40.6937, Lng: -73.9898}})
	require.NoError(t, err)
	later, err := l.e.Scheduling.CreateProvider(l.staff, l.practice, scheduling.NewProvider{NPI: directorytest.NPI(8), GivenName: "Lee",
		FamilyName: "Later", LocationIDs: []tenant.LocationID{near.ID}})
	require.NoError(t, err)
	b.LocationID = near.ID
	_, err = l.e.Scheduling.CreateBlock(l.staff, l.practice, scheduling.NewBlock{ProviderID: later.ID, BlockInput: b})
	require.NoError(t, err)
	require.NoError(t, l.e.PutDirectoryProfile(l.admin, l.practice, directory.Profile{ProviderID: later.ID, Taxonomies: []string{ortho}}))
	return later.ID
}

// backPain searches "back pain" within 10 km of ZIP 11201's centroid.
func (l *listed) backPain(t *testing.T, edit ...func(q *directory.Query)) []directory.Hit {
	t.Helper()
	q := directory.Query{Near: &directory.Point{Lat: 40.6937, Lon: -73.9897}, RadiusKm: 10}
	q.ParseWords("back pain")
	for _, f := range edit {
		f(&q)
	}
	hits, err := l.e.SearchDirectory(context.Background(), q)
	require.NoError(t, err)
	return hits
}

// bookable checks that each next open time of hits is a slot a patient
// is offered, and so may book.
func (l *listed) bookable(t *testing.T, hits []directory.Hit) {
	t.Helper()
	for _, h := range hits {
		for _, loc := range append([]directory.Location{h.Location}, h.Provider.Locations...) {
			if loc.NextOpen == nil {
				continue
			}
			id := loc.ID
			slots, err := l.e.Scheduling.OpenSlots(l.patientCtx, h.PracticeID, scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{h.Provider.ID},
				VisitTypeID: loc.NextOpenVisitType, LocationID: &id, From: *loc.NextOpen, To: loc.NextOpen.Add(time.Minute)})
			require.NoError(t, err)
			require.Len(t, slots, 1, "next open %v of %s is not offered to a patient", loc.NextOpen, h.Provider.FamilyName)
		}
	}
}

// TestDirectoryNextOpenFollowsBookings is the next open time's "done when":
// the directory shows the provider's first slot a patient may book (the
// practice's two hours' notice from 12:00 make it 14:00); a patient books
// it and the directory moves to 14:30, in the booking's transaction; a
// cancellation brings 14:00 back; every time shown is bookable.
func TestDirectoryNextOpenFollowsBookings(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		l := newListed(t, st)
		l.publish(t)
		next := func() time.Time {
			t.Helper()
			hits := l.backPain(t)
			require.Len(t, hits, 1)
			require.Equal(t, "Bones", hits[0].Provider.FamilyName)
			require.NotNil(t, hits[0].Location.NextOpen)
			require.Equal(t, l.vt, hits[0].Location.NextOpenVisitType)
			require.Equal(t, "America/New_York", hits[0].Location.TimeZone, "the listed location carries its zone")
			l.bookable(t, hits)
			return hits[0].Location.NextOpen.In(l.loc)
		}
		require.Equal(t, l.at(3, 2, 14, 0), next())
		a, err := l.e.Scheduling.Book(l.patientCtx, l.practice, scheduling.BookRequest{PatientID: l.patient.ID, ProviderID: l.bones,
			VisitTypeID: l.vt, Start: next()})
		require.NoError(t, err)
		require.Equal(t, l.at(3, 2, 14, 30), next())
		_, err = l.e.Scheduling.Cancel(l.staff, l.practice, a.ID, "changed plans")
		require.NoError(t, err)
		require.Equal(t, l.at(3, 2, 14, 0), next())

		// A minute later 14:00 is inside the two hours' notice: booking
		// refuses it, and the directory no longer shows it.
		l.clk.Set(l.at(3, 2, 12, 1))
		_, err = l.e.Scheduling.Book(l.patientCtx, l.practice, scheduling.BookRequest{PatientID: l.patient.ID, ProviderID: l.bones,
			VisitTypeID: l.vt, Start: l.at(3, 2, 14, 0)})
		require.True(t, errs.Is(err, errs.KindPreconditionFailed), "%v", err)
		hits := l.backPain(t)
		require.Len(t, hits, 1)
		require.Nil(t, hits[0].Location.NextOpen, "a next open time inside the notice is not shown")
		require.NoError(t, l.e.RefreshDirectory(context.Background(), l.practice))
		require.Equal(t, l.at(3, 2, 14, 30), next())

		// The clock moves past 14:00: the stale time is not shown, and the
		// refresh computes the next.
		l.clk.Set(l.at(3, 2, 13, 0))
		require.Equal(t, l.at(3, 2, 15, 0), func() time.Time {
			require.NoError(t, l.e.RefreshDirectory(context.Background(), l.practice))
			return next()
		}())
		l.clk.Set(l.at(3, 2, 16, 0))
		hits = l.backPain(t)
		require.Len(t, hits, 1)
		require.Nil(t, hits[0].Location.NextOpen, "a next open time in the past is not shown")
		n, err := l.e.RefreshDirectories(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, l.at(3, 3, 9, 0), next())
	})
}

// TestDirectoryOnlyPublishedAndVisible: nothing of a practice appears
// before it publishes, a provider without a profile or hidden never does,
// and unpublishing removes the practice from search, its pages and the
// index.
func TestDirectoryOnlyPublishedAndVisible(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		l := newListed(t, st)
		ctx := context.Background()
		notFound := func() {
			t.Helper()
			require.Empty(t, l.backPain(t))
			_, err := l.e.DirectoryProvider(ctx, l.bones)
			require.True(t, errs.Is(err, errs.KindNotFound), "DirectoryProvider = %v", err)
			_, err = l.e.DirectoryPractice(ctx, l.practice)
			require.True(t, errs.Is(err, errs.KindNotFound), "DirectoryPractice = %v", err)
			idx, err := l.e.DirectoryIndex(ctx, "", 0)
			require.NoError(t, err)
			require.Empty(t, idx)
		}
		require.NoError(t, l.e.PutDirectoryProfile(l.admin, l.practice, directory.Profile{ProviderID: l.bones, Taxonomies: []string{ortho}}))
		notFound()
		l.publish(t)
		h, err := l.e.DirectoryProvider(ctx, l.bones)
		require.NoError(t, err)
		require.Equal(t, l.practice, h.PracticeID)
		require.Equal(t, "Harbor Pediatrics", h.PracticeName)
		require.Len(t, h.Provider.Locations, 1, "the clinic's Main Street has no geo point: not listed")
		require.Equal(t, []string{"en", "es"}, h.Provider.Languages)
		require.NotNil(t, h.Provider.Locations[0].NextOpen)
		require.Equal(t, directory.VisitProblem, h.Provider.Locations[0].VisitTypes[0].Kind, "audience any: problem")
		pl, err := l.e.DirectoryPractice(ctx, l.practice)
		require.NoError(t, err)
		require.Len(t, pl.Providers, 1, "Hopper has no profile")
		_, err = l.e.DirectoryProvider(ctx, l.provider)
		require.True(t, errs.Is(err, errs.KindNotFound))
		idx, err := l.e.DirectoryIndex(ctx, "", 0)
		require.NoError(t, err)
		require.Equal(t, []string{"practice:" + l.practice.String(), "provider:" + l.bones.String()},
			[]string{idx[0].Cursor(), idx[1].Cursor()})

		require.NoError(t, l.e.PutDirectoryProfile(l.admin, l.practice, directory.Profile{ProviderID: l.bones, Taxonomies: []string{ortho}, Hidden: true}))
		require.Empty(t, l.backPain(t))
		_, err = l.e.DirectoryProvider(ctx, l.bones)
		require.True(t, errs.Is(err, errs.KindNotFound))
		l.publish(t)
		require.Len(t, l.backPain(t), 1)
		require.NoError(t, l.e.PublishDirectory(l.admin, l.practice, false))
		notFound()
		require.Len(t, entries(t, l.clinic, "directory.publish"), 3)
		require.Len(t, entries(t, l.clinic, "directory.profile.write"), 4)
	})
}

// TestDirectorySettingsRefuse: bad input names its field and writes
// nothing; the front desk may not change what the practice publishes; a
// stranger's provider is not found.
func TestDirectorySettingsRefuse(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		l := newListed(t, st)
		for _, tc := range []struct {
			field string
			p     directory.Profile
		}{
			{"taxonomies", directory.Profile{ProviderID: l.bones}},
			{"taxonomies", directory.Profile{ProviderID: l.bones, Taxonomies: []string{"207x00000X"}}},
			{"taxonomies", directory.Profile{ProviderID: l.bones, Taxonomies: []string{"orthopedics"}}},
			{"languages", directory.Profile{ProviderID: l.bones, Taxonomies: []string{ortho}, Languages: []string{"EN"}}},
			{"languages", directory.Profile{ProviderID: l.bones, Taxonomies: []string{ortho}, Languages: []string{"english"}}},
			{"provider_id", directory.Profile{Taxonomies: []string{ortho}}},
		} {
			err := l.e.PutDirectoryProfile(l.admin, l.practice, tc.p)
			require.True(t, errs.Is(err, errs.KindInvalid) && errs.FieldOf(err) == tc.field, "%+v: %v", tc.p, err)
		}
		err := l.e.PutDirectoryProfile(l.admin, l.practice, directory.Profile{ProviderID: uuid.New(), Taxonomies: []string{ortho}})
		require.True(t, errs.Is(err, errs.KindNotFound) && errs.FieldOf(err) == "provider_id", "%v", err)
		err = l.e.PutDirectoryVisitType(l.admin, l.practice, directory.VisitSetting{VisitTypeID: l.vt, Kind: "urgent"})
		require.True(t, errs.Is(err, errs.KindInvalid) && errs.FieldOf(err) == "kind", "%v", err)
		err = l.e.PutDirectoryVisitType(l.admin, l.practice, directory.VisitSetting{VisitTypeID: uuid.New(), Kind: directory.VisitProblem})
		require.True(t, errs.Is(err, errs.KindNotFound) && errs.FieldOf(err) == "visit_type_id", "%v", err)
		profiles, err := l.e.DirectoryProfiles(l.admin, l.practice)
		require.NoError(t, err)
		require.Empty(t, profiles)

		err = l.e.PublishDirectory(l.desk, l.practice, true)
		require.True(t, errs.Is(err, errs.KindForbidden), "%v", err)
		err = l.e.PublishDirectory(context.Background(), l.practice, true)
		require.True(t, errs.Is(err, errs.KindUnauthenticated), "%v", err)
		set, err := l.e.DirectorySettings(l.admin, l.practice)
		require.NoError(t, err)
		require.False(t, set.Published)
		_, err = l.e.SearchDirectory(context.Background(), directory.Query{WithinDays: 91})
		require.True(t, errs.Is(err, errs.KindInvalid) && errs.FieldOf(err) == "within_days", "%v", err)
		_, err = l.e.SearchDirectory(context.Background(), directory.Query{VisitKind: "urgent"})
		require.True(t, errs.Is(err, errs.KindInvalid) && errs.FieldOf(err) == "visit_kind", "%v", err)
		_, err = l.e.DirectoryIndex(context.Background(), "provider:nope", 10)
		require.True(t, errs.Is(err, errs.KindInvalid) && errs.FieldOf(err) == "after", "%v", err)
	})
}

// TestDirectoryFilters: the visit kind a practice sets, "within N days"
// and the order by soonest, through the engine.
func TestDirectoryFilters(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		l := newListed(t, st)
		l.publish(t)
		kind := func(k directory.VisitKind) func(q *directory.Query) {
			return func(q *directory.Query) { q.VisitKind = k }
		}
		require.Len(t, l.backPain(t, kind(directory.VisitProblem)), 1)
		require.Empty(t, l.backPain(t, kind(directory.VisitPreventive)))
		require.NoError(t, l.e.PutDirectoryVisitType(l.admin, l.practice, directory.VisitSetting{VisitTypeID: l.vt, Kind: directory.VisitPreventive}))
		require.Len(t, l.backPain(t, kind(directory.VisitPreventive)), 1)
		within := func(n int) func(q *directory.Query) { return func(q *directory.Query) { q.WithinDays = n } }
		require.Len(t, l.backPain(t, within(1)), 1)
		// Later sees patients from ten days on, nearer the point than Bones.
		l.addLater(t, scheduling.BlockInput{Start: l.at(3, 12, 9, 0), End: l.at(3, 12, 17, 0), RRule: "FREQ=DAILY;COUNT=30"})
		names := func(hits []directory.Hit) (out []string) {
			for _, h := range hits {
				out = append(out, h.Provider.FamilyName)
			}
			return out
		}
		require.Equal(t, []string{"Later", "Bones"}, names(l.backPain(t)), "nearest first")
		require.Equal(t, []string{"Bones"}, names(l.backPain(t, within(7))))
		require.Equal(t, []string{"Later", "Bones"}, names(l.backPain(t, within(14))))
		soonest := func(q *directory.Query) { q.OrderBySoonest = true }
		require.Equal(t, []string{"Bones", "Later"}, names(l.backPain(t, soonest)))
		require.Equal(t, []string{"Bones", "Later"}, names(l.backPain(t, soonest, func(q *directory.Query) { q.Near, q.RadiusKm = nil, 0 })))
		require.NoError(t, l.e.PutDirectoryVisitType(l.admin, l.practice, directory.VisitSetting{VisitTypeID: l.vt, Kind: directory.VisitProblem, Hidden: true}))
		hits := l.backPain(t)
		require.Len(t, hits, 2)
		require.Empty(t, hits[1].Location.VisitTypes, "the practice hid its one visit type")
		require.Nil(t, hits[1].Location.NextOpen)
		require.Empty(t, l.backPain(t, within(90)))
		require.Equal(t, []string{"Later", "Bones"}, names(l.backPain(t, soonest)), "without next open times, by distance")
	})
}

// TestDirectoryConcurrentBookings: many patients book the provider's open
// slots at once; afterwards the next open time the directory shows is the
// first slot still open, never a taken one.
func TestDirectoryConcurrentBookings(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		l := newListed(t, st)
		l.publish(t)
		slots, err := l.e.Scheduling.OpenSlots(l.patientCtx, l.practice, scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{l.bones},
			VisitTypeID: l.vt, From: l.at(3, 2, 12, 0), To: l.at(3, 4, 12, 0)})
		require.NoError(t, err)
		const n = 12
		errc := make(chan error, n)
		for i := range n {
			go func() {
				p, err := l.e.Scheduling.CreatePatient(l.staff, l.practice, scheduling.PatientInput{GivenName: "P", FamilyName: fmt.Sprint(i),
					BirthDate: "1990-01-01"})
				if err != nil {
					errc <- err
					return
				}
				ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Patient, ID: p.ID.String()})
				_, err = l.e.Scheduling.Book(ctx, l.practice, scheduling.BookRequest{PatientID: p.ID, ProviderID: l.bones,
					VisitTypeID: l.vt, Start: slots[i].Start})
				errc <- err
			}()
		}
		for range n {
			require.NoError(t, <-errc)
		}
		hits := l.backPain(t)
		require.Len(t, hits, 1)
		require.NotNil(t, hits[0].Location.NextOpen)
		require.Equal(t, slots[n].Start, hits[0].Location.NextOpen.UTC())
		require.False(t, slices.ContainsFunc(slots[:n], func(s scheduling.Slot) bool { return s.Start.Equal(*hits[0].Location.NextOpen) }))
		l.bookable(t, hits)
	})
}

// TestDirectoryRefreshJob: the periodic refresh (RegisterJobs) brings a
// next open time that the clock has passed up to date.
func TestDirectoryRefreshJob(t *testing.T) {
	l := newListed(t, sqltest.SQLite(t))
	l.publish(t)
	l.clk.Set(l.at(3, 2, 16, 0))
	s, clk := fakeScheduler(t)
	ran := make(chan string, 4)
	jobs, err := l.e.RegisterJobs(s, carebook.JobsConfig{RefreshDirectory: true, DirectoryRefreshEvery: time.Minute,
		JobOptions: []gocron.JobOption{gocron.WithEventListeners(gocron.AfterJobRuns(func(_ uuid.UUID, name string) { ran <- name }))}})
	require.NoError(t, err)
	require.Equal(t, []string{carebook.DirectoryRefreshJobName}, jobNames(s))
	require.Len(t, jobs.Scheduled, 1)
	s.Start()
	wait, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, clk.BlockUntilContext(wait, 1))
	clk.Advance(time.Minute)
	select {
	case name := <-ran:
		require.Equal(t, carebook.DirectoryRefreshJobName, name)
	case <-wait.Done():
		t.Fatal("the refresh did not run")
	}
	hits := l.backPain(t)
	require.Len(t, hits, 1)
	require.NotNil(t, hits[0].Location.NextOpen)
	require.Equal(t, l.at(3, 3, 9, 0), hits[0].Location.NextOpen.In(l.loc))
}

// BenchmarkDirectoryBooking measures a patient's booking and its
// cancellation with a provider that the directory lists (each change
// recomputes the provider's next open times in its transaction) beside the
// same with one it does not list, in the same run, on both databases.
func BenchmarkDirectoryBooking(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{{"sqlite", func(tb testing.TB) *sqlstore.Store { return sqltest.SQLite(tb) }}, {"postgres", func(tb testing.TB) *sqlstore.Store { return sqltest.Postgres(tb) }}} {
		for _, published := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/listed=%v", db.name, published), func(b *testing.B) {
				l := newListed(b, db.open(b))
				if published {
					l.publish(b)
				}
				start := l.at(3, 3, 9, 0)
				for b.Loop() {
					a, err := l.e.Scheduling.Book(l.patientCtx, l.practice, scheduling.BookRequest{PatientID: l.patient.ID, ProviderID: l.bones,
						VisitTypeID: l.vt, Start: start})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := l.e.Scheduling.Cancel(l.staff, l.practice, a.ID, "bench"); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestDirectorySearchesByTheEngineTaxonomy: with a loaded NUCC file, a
// provider of a code only the file has is found by the words of its name,
// near a point and not, as the Engine builds listings and resolves
// searches by its own taxonomy.
func TestDirectorySearchesByTheEngineTaxonomy(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		tx, err := directory.LoadTaxonomy(strings.NewReader("Code,Classification,Specialization,Display Name\n" +
			"363LF0000X,Nurse Practitioner,Family,Family Nurse Practitioner\n"))
		require.NoError(t, err)
		l := newListed(t, st)
		l.e.Taxonomy = tx
		require.NoError(t, l.e.PutDirectoryProfile(l.admin, l.practice, directory.Profile{ProviderID: l.bones,
			Taxonomies: []string{"363LF0000X"}, Languages: []string{"en"}, AcceptingNew: true}))
		require.NoError(t, l.e.PublishDirectory(l.admin, l.practice, true))
		require.Empty(t, l.backPain(t), "a nurse practitioner treats no back pain here")
		for _, near := range []bool{true, false} {
			hits := l.backPain(t, func(q *directory.Query) {
				q.ParseWords("nurse pract")
				if !near {
					q.Near, q.RadiusKm = nil, 0
				}
			})
			require.Len(t, hits, 1, "near a point: %v", near)
			require.Equal(t, "Bones", hits[0].Provider.FamilyName)
		}
	})
}
