package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// clinic is a practice with many providers, each with a daily or weekday
// block at one UTC location, and one patient and visit type.
type clinic struct {
	ten       *tenant.Service
	svc       *scheduling.Service
	practice  tenant.PracticeID
	location  tenant.LocationID
	visit     *scheduling.VisitType
	patient   scheduling.PatientID
	providers []scheduling.ProviderID
}

// npiFor makes the n-th valid NPI: nine digits and the check digit.
func npiFor(n int) string {
	base := fmt.Sprintf("1%08d", n)
	for d := '0'; d <= '9'; d++ {
		if s := base + string(d); scheduling.ValidNPI(s) {
			return s
		}
	}
	panic("no check digit")
}

// newClinic creates the clinic through the services, with blocks from first
// (local 09:00–17:00 on weekdays, or a whole day, 00:00–23:30, daily).
func newClinic(ctx context.Context, st *sqlstore.Store, c clock.Clock, providers int, first time.Time, daily bool) (*clinic, error) {
	ids := clock.UUIDv7{}
	cl := &clinic{ten: tenant.NewService(st.Tenants, c, ids), svc: scheduling.NewService(st.Scheduling, st.Tenants, c, ids)}
	g, err := cl.ten.CreateGroup(ctx, "Bench Health")
	if err != nil {
		return nil, err
	}
	p, err := cl.ten.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Bench Clinic"})
	if err != nil {
		return nil, err
	}
	cl.practice = p.ID
	loc, err := cl.ten.CreateLocation(ctx, p.ID, tenant.NewLocation{Name: "Main", TimeZone: "UTC"})
	if err != nil {
		return nil, err
	}
	cl.location = loc.ID
	if cl.visit, err = cl.svc.CreateVisitType(ctx, p.ID, scheduling.NewVisitType{Name: "Visit", Duration: 30 * time.Minute}); err != nil {
		return nil, err
	}
	pat, err := cl.svc.CreatePatient(ctx, p.ID, scheduling.PatientInput{GivenName: "Pat", FamilyName: "Bench", BirthDate: "1970-01-01"})
	if err != nil {
		return nil, err
	}
	cl.patient = pat.ID
	in := scheduling.BlockInput{LocationID: loc.ID, Start: first.Add(9 * time.Hour), End: first.Add(17 * time.Hour), RRule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"}
	if daily {
		in = scheduling.BlockInput{LocationID: loc.ID, Start: first, End: first.Add(23*time.Hour + 30*time.Minute), RRule: "FREQ=DAILY"}
	}
	for i := 0; i < providers; i++ {
		pr, err := cl.svc.CreateProvider(ctx, p.ID, scheduling.NewProvider{NPI: npiFor(i), GivenName: "Doc", FamilyName: fmt.Sprintf("No. %04d", i),
			Specialties: []string{"family-medicine"}, LocationIDs: []tenant.LocationID{loc.ID}})
		if err != nil {
			return nil, err
		}
		if _, err := cl.svc.CreateBlock(ctx, p.ID, scheduling.NewBlock{ProviderID: pr.ID, BlockInput: in}); err != nil {
			return nil, err
		}
		cl.providers = append(cl.providers, pr.ID)
	}
	return cl, nil
}

// slotBenchFirst is the first day of the slot benchmark's data: a Monday.
var slotBenchFirst = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// seedMillion loads 1,000 providers with weekday blocks and 1,000 half-hour
// appointments each, one per weekday over 1,400 days from slotBenchFirst, a
// fifth of them canceled: 1,000,000 appointments.
func seedMillion(ctx context.Context, st *sqlstore.Store) error {
	n := 1000
	if v := os.Getenv("CAREBOOK_BENCH_PROVIDERS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	cl, err := newClinic(ctx, st, clock.NewFixed(slotBenchFirst), n, slotBenchFirst, false)
	if err != nil {
		return err
	}
	if err := patientPerProvider(ctx, st, cl.practice); err != nil {
		return err
	}
	_, err = st.DB().ExecContext(ctx, `
INSERT INTO appointments (practice_id, id, provider_id, location_id, block_id, visit_type_id, patient_id,
	start_at, end_at, hold_start, hold_end, seat, status, resource_ids, booked_by, created_at, updated_at)
SELECT b.practice_id, gen_random_uuid(), b.provider_id, b.location_id, b.id, ?, b.provider_id,
	x.t, x.t + interval '30 minutes', x.t, x.t + interval '30 minutes', 1,
	CASE WHEN d % 5 = 4 THEN 'canceled' ELSE 'confirmed' END, '[]', 'staff:bench',
	x.t - interval '7 days', x.t - interval '7 days'
FROM (SELECT *, row_number() OVER (ORDER BY provider_id) AS rn FROM blocks WHERE practice_id = ?) AS b
CROSS JOIN generate_series(0, 1399) AS d
CROSS JOIN LATERAL (SELECT ?::timestamptz + d * interval '1 day' + interval '9 hours'
	+ ((d + b.rn) % 16) * interval '30 minutes' AS t) AS x
WHERE extract(isodow FROM ?::timestamptz + d * interval '1 day') < 6`,
		cl.visit.ID, cl.practice, slotBenchFirst, slotBenchFirst)
	if err != nil {
		return err
	}
	_, err = st.DB().ExecContext(ctx, `VACUUM ANALYZE`)
	return err
}

// patientPerProvider gives each provider of practice a patient of its own,
// with the provider's ID, for the generated visits: a patient is in one
// visit at a time, and the providers' visits overlap each other's.
func patientPerProvider(ctx context.Context, st *sqlstore.Store, practice tenant.PracticeID) error {
	_, err := st.DB().ExecContext(ctx, `
INSERT INTO patients (practice_id, id, given_name, family_name, given_key, family_key, birth_date, phone, email,
	language, created_at, updated_at)
SELECT practice_id, id, 'Pat', family_name, 'pat', lower(family_name), '1970-01-01', '', '', '', created_at, created_at
FROM providers WHERE practice_id = ?`, practice)
	return err
}

// BenchmarkOpenSlots is the open-slot search for one provider over 14 days
// on PostgreSQL holding 1,000,000 appointments of 1,000 providers, beside the
// bare indexed range query it needs, in the same run. The database is built
// once and kept (sqltest.Seeded).
func BenchmarkOpenSlots(b *testing.B) {
	st := sqltest.Seeded(b, "slots", 1, seedMillion)
	ctx := context.Background()
	var practice tenant.PracticeID
	if err := st.DB().NewSelect().Table("practices").Column("id").Limit(1).Scan(ctx, &practice); err != nil {
		b.Fatal(err)
	}
	provs, err := st.Scheduling.ListProviders(ctx, practice, scheduling.ProviderFilter{Limit: 1000})
	if err != nil || len(provs) == 0 {
		b.Fatalf("providers: %d, %v", len(provs), err)
	}
	vts, err := st.Scheduling.ListVisitTypes(ctx, practice)
	if err != nil || len(vts) != 1 {
		b.Fatalf("visit types: %v", err)
	}
	// A Monday in the middle of the data, seen by the front desk.
	now := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	svc := scheduling.NewService(st.Scheduling, st.Tenants, clock.NewFixed(now), clock.UUIDv7{})
	staff := actor.With(ctx, actor.Actor{Kind: actor.Staff, ID: "bench"})
	from, to := now, now.AddDate(0, 0, 14)
	var i int
	next := func() scheduling.ProviderID { i++; return provs[(i*7919)%len(provs)].ID }

	b.Run("service", func(b *testing.B) {
		var slots int
		for b.Loop() {
			s, err := svc.OpenSlots(staff, practice, scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{next()}, VisitTypeID: vts[0].ID, From: from, To: to})
			if err != nil {
				b.Fatal(err)
			}
			slots = len(s)
		}
		if slots < 100 || slots > 160 {
			b.Fatalf("%d slots in two weeks, want about 150", slots)
		}
	})
	b.Run("bare-range-query", func(b *testing.B) {
		for b.Loop() {
			var holds []struct {
				ID        uuid.UUID `bun:"id"`
				HoldStart time.Time `bun:"hold_start"`
				HoldEnd   time.Time `bun:"hold_end"`
			}
			err := st.DB().NewRaw(`SELECT id, hold_start, hold_end FROM appointments
WHERE practice_id = ? AND provider_id = ? AND hold_start < ? AND hold_start > ? AND hold_end > ?
	AND status IN ('new', 'confirmed', 'arrived', 'out')`,
				practice, next(), to, from.Add(-sqlstore.MaxHold), from).Scan(ctx, &holds)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBookParallel books with 8 concurrent clients through the Service
// on PostgreSQL, each booking a free half hour of one of 200 providers, beside
// a raw INSERT of the same rows into the same constrained table in the same
// run. Compare bookings/s.
func BenchmarkBookParallel(b *testing.B) {
	st := sqltest.Postgres(b)
	ctx := context.Background()
	first := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := clock.NewFixed(first.Add(-time.Hour))
	cl, err := newClinic(ctx, st, c, 200, first, true)
	if err != nil {
		b.Fatal(err)
	}
	// A practice with a past: 50,000 earlier visits, and statistics, as a
	// running clinic's database has them.
	if err := patientPerProvider(ctx, st, cl.practice); err != nil {
		b.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, `
INSERT INTO appointments (practice_id, id, provider_id, location_id, block_id, visit_type_id, patient_id,
	start_at, end_at, hold_start, hold_end, seat, status, resource_ids, booked_by, created_at, updated_at)
SELECT b.practice_id, gen_random_uuid(), b.provider_id, b.location_id, b.id, ?, b.provider_id,
	x.t, x.t + interval '30 minutes', x.t, x.t + interval '30 minutes', 1, 'out', '[]', 'staff:bench', x.t, x.t
FROM blocks AS b
CROSS JOIN generate_series(1, 250) AS d
CROSS JOIN LATERAL (SELECT ?::timestamptz - d * interval '1 day' AS t) AS x
WHERE b.practice_id = ?`, cl.visit.ID, first, cl.practice); err != nil {
		b.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	staff := actor.With(ctx, actor.Actor{Kind: actor.Staff, ID: "bench"})
	// A patient per 50 bookings or so: each booking looks up its patient's
	// finished visits.
	patients := make([]scheduling.PatientID, 500)
	for i := range patients {
		p, err := cl.svc.CreatePatient(ctx, cl.practice, scheduling.PatientInput{GivenName: "Pat", FamilyName: fmt.Sprintf("No. %d", i), BirthDate: "1980-01-01"})
		if err != nil {
			b.Fatal(err)
		}
		patients[i] = p.ID
	}
	// 47 half hours a day per provider; every booking takes the next one.
	// Bookings n and m share a patient only if n ≡ m (mod 500), so never a
	// time: the patient's rule refuses none.
	slot := func(n int64) (scheduling.ProviderID, time.Time) {
		p := cl.providers[n%int64(len(cl.providers))]
		k := n / int64(len(cl.providers))
		return p, first.AddDate(0, 0, int(k/47)).Add(time.Duration(k%47) * 30 * time.Minute)
	}
	parallel := (8 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
	var counter atomic.Int64

	b.Run("service", func(b *testing.B) {
		b.SetParallelism(parallel)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := counter.Add(1)
				p, t := slot(n)
				pat := patients[(n*7)%int64(len(patients))]
				if _, err := cl.svc.Book(staff, cl.practice, scheduling.BookRequest{PatientID: pat, ProviderID: p, VisitTypeID: cl.visit.ID, Start: t}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bookings/s")
	})
	// The raw rows go a year later, so they never meet the service's.
	block, err := st.Scheduling.ListBlocks(ctx, cl.practice, scheduling.BlockFilter{})
	if err != nil {
		b.Fatal(err)
	}
	blockOf := map[scheduling.ProviderID]scheduling.BlockID{}
	for _, bl := range block {
		blockOf[bl.ProviderID] = bl.ID
	}
	var rawCounter atomic.Int64
	b.Run("raw-insert", func(b *testing.B) {
		b.SetParallelism(parallel)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := rawCounter.Add(1)
				p, t := slot(n)
				t = t.AddDate(1, 0, 0)
				_, err := st.DB().ExecContext(ctx, `INSERT INTO appointments (practice_id, id, provider_id, location_id, block_id,
	visit_type_id, patient_id, start_at, end_at, hold_start, hold_end, seat, status, resource_ids, booked_by, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'confirmed', '[]', 'staff:bench', ?, ?)`,
					cl.practice, uuid.Must(uuid.NewV7()), p, cl.location, blockOf[p], cl.visit.ID, patients[(n*7)%int64(len(patients))],
					t, t.Add(30*time.Minute), t, t.Add(30*time.Minute), first, first)
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bookings/s")
	})
}
