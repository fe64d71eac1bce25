package carebook_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// benchDesk is the clinic of newClinic grown for booking benchmarks: a
// location with providers working every day 07:00 to 19:00 (24 half hours
// a day), patients with a phone and an email (so that each booking writes
// its messages), and a front desk account with its grant.
type benchDesk struct {
	*clinic
	location  tenant.LocationID
	providers []scheduling.ProviderID
	blocks    []scheduling.BlockID
	patients  []scheduling.PatientID
	account   uuid.UUID
}

// newBenchDesk builds a clinic with n providers and m patients on st.
func newBenchDesk(b *testing.B, c *clinic, n, m int) *benchDesk {
	b.Helper()
	d := &benchDesk{clinic: c, account: uuid.New()}
	l, err := c.e.Tenants.CreateLocation(c.staff, c.practice, tenant.NewLocation{Name: "Bench wing", TimeZone: "America/New_York"})
	require.NoError(b, err)
	d.location = l.ID
	for i := range n {
		pr, err := c.e.Scheduling.CreateProvider(c.staff, c.practice, scheduling.NewProvider{NPI: npiAt(i), GivenName: "Doc",
			FamilyName: fmt.Sprintf("No. %d", i), Specialties: []string{"pediatrics"}, LocationIDs: []tenant.LocationID{l.ID}})
		require.NoError(b, err)
		bl, err := c.e.Scheduling.CreateBlock(c.staff, c.practice, scheduling.NewBlock{ProviderID: pr.ID, BlockInput: scheduling.BlockInput{
			LocationID: l.ID, Start: c.at(3, 2, 7, 0), End: c.at(3, 2, 19, 0), RRule: "FREQ=DAILY"}})
		require.NoError(b, err)
		d.providers, d.blocks = append(d.providers, pr.ID), append(d.blocks, bl.ID)
	}
	for i := range m {
		p, err := c.e.Scheduling.CreatePatient(c.staff, c.practice, scheduling.PatientInput{GivenName: "Pat", FamilyName: fmt.Sprintf("No. %d", i),
			BirthDate: "1980-01-01", Phone: fmt.Sprintf("+1202555%04d", i), Email: fmt.Sprintf("pat%d@example.com", i), Language: "en"})
		require.NoError(b, err)
		d.patients = append(d.patients, p.ID)
	}
	p, err := c.e.Tenants.Practice(c.staff, c.practice)
	require.NoError(b, err)
	require.NoError(b, c.e.Store().RBAC.CreateGrant(c.staff, &rbac.Grant{ID: uuid.New(), AccountID: d.account, RoleID: rbac.FrontDeskID,
		Scope: rbac.PracticeScope(p.GroupID, p.ID), CreatedAt: c.clk.Now().UTC(), CreatedBy: "system:bench"}))
	return d
}

// npiAt makes the i-th valid NPI of a run of them.
func npiAt(i int) string {
	base := fmt.Sprintf("19%07d", i)
	for d := '0'; d <= '9'; d++ {
		if s := base + string(d); scheduling.ValidNPI(s) {
			return s
		}
	}
	panic("no check digit")
}

// slot is the n-th booking's provider and time: the next half hour of
// provider n mod len(providers), from tomorrow on. Bookings n and m share a
// patient only if n ≡ m (mod len(patients)), a multiple of len(providers)
// apart, so never at one time.
func (d *benchDesk) slot(n int64) (provider int, start time.Time, patient scheduling.PatientID) {
	provider = int(n % int64(len(d.providers)))
	k := int(n / int64(len(d.providers)))
	return provider, d.at(3, 3+k/24, 7, 0).Add(time.Duration(k%24) * 30 * time.Minute), d.patients[n%int64(len(d.patients))]
}

// bookAsServer books through the Engine what the reference server's
// booking route does in its request: read the account's principal, and
// through the access guard authorize appointment.book over the patient,
// then book through Scheduling (whose observer writes the messages to the
// outbox) and append the allowed activity-log entry in one transaction.
func bookAsServer(ctx context.Context, e *carebook.Engine, account uuid.UUID, practice tenant.PracticeID, in scheduling.BookRequest) error {
	pr, err := e.RBAC.Principal(ctx, account)
	if err != nil {
		return err
	}
	ctx = carebook.WithCaller(ctx, carebook.Caller{Actor: actor.Actor{Kind: actor.Staff, ID: account.String()}, Principal: pr})
	_, err = e.Book(ctx, practice, in)
	return err
}

// BenchmarkBookEngine books with 8 concurrent clients on PostgreSQL through
// the Engine as the reference server does (bookAsServer: authorization, the
// booking, its outbox messages and its activity-log entry in one
// transaction), beside a raw INSERT of the same rows into the same
// constrained appointments table, in the same run, over 50 providers of one
// practice. Compare bookings/s; the engine's %raw is its rate as a share of
// the raw INSERT's, measured just before it.
func BenchmarkBookEngine(b *testing.B) {
	d := newBenchDesk(b, newClinic(b, sqltest.Postgres(b)), 50, 100)
	ctx := context.Background()
	parallel := (8 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
	var rawRate float64

	var rawCounter atomic.Int64
	b.Run("raw-insert", func(b *testing.B) {
		b.SetParallelism(parallel)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i, t, patient := d.slot(rawCounter.Add(1))
				t = t.AddDate(1, 0, 0) // a year after the engine's bookings
				_, err := d.e.Store().DB().ExecContext(ctx, `INSERT INTO appointments (practice_id, id, provider_id, location_id, block_id,
	visit_type_id, patient_id, start_at, end_at, hold_start, hold_end, seat, status, resource_ids, booked_by, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'confirmed', '[]', 'staff:bench', ?, ?)`,
					d.practice, uuid.Must(uuid.NewV7()), d.providers[i], d.location, d.blocks[i], d.vt, patient,
					t, t.Add(30*time.Minute), t, t.Add(30*time.Minute), d.clk.Now(), d.clk.Now())
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		rawRate = float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(rawRate, "bookings/s")
	})

	// The raw rows came after the fixture's ANALYZE: give the planner their
	// statistics, as autovacuum would within its minute, so that the engine
	// is not measured on plans made for a near-empty table.
	if _, err := d.e.Store().DB().ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	var counter atomic.Int64
	b.Run("engine", func(b *testing.B) {
		staff := d.staffOf()
		msgs0 := d.messages(b)
		b.SetParallelism(parallel)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i, t, patient := d.slot(counter.Add(1))
				if err := bookAsServer(staff, d.e, d.account, d.practice, scheduling.BookRequest{PatientID: patient,
					ProviderID: d.providers[i], VisitTypeID: d.vt, Start: t}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		rate := float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "bookings/s")
		if rawRate > 0 {
			b.ReportMetric(100*rate/rawRate, "%raw")
		}
		msgs := d.messages(b) - msgs0
		if msgs < b.N {
			b.Fatalf("%d outbox messages for %d bookings, want one or more each", msgs, b.N)
		}
		b.ReportMetric(float64(msgs)/float64(b.N), "msgs/booking")
	})
}

// staffOf is a context with the desk account as the acting staff member.
func (d *benchDesk) staffOf() context.Context {
	return actor.With(context.Background(), actor.Actor{Kind: actor.Staff, ID: d.account.String()})
}

// messages counts the practice's outbox.
func (d *benchDesk) messages(b *testing.B) int {
	b.Helper()
	n, err := d.e.Store().DB().NewSelect().Table("notify_messages").Where("practice_id = ?", d.practice).Count(context.Background())
	require.NoError(b, err)
	return int(n)
}
