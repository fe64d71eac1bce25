package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// The patient benchmarks run on a registry of registrySize patients of one
// practice, each sealed in patients (through CreatePatient) and in clear,
// with the same IDs and fields, in bench_clear_patients: the patients table
// as it was before sealing, with its indexes, for the baseline in the same
// database. One practice holding them all is the worst case for the
// indexes, which all begin with practice_id.
const (
	registrySize = 100_000
	// registryVersion names the fixture: change it when the seed changes,
	// so that kept databases (sqltest.Seeded, the SQLite file) are rebuilt.
	registryVersion = 2
	// registryBatch is how many patients one transaction of the seed
	// creates.
	registryBatch = 5_000
)

// Given and family names of the registry, drawn uniformly: each family name
// is about 1% of the patients, and only "Smith" begins with "smi".
var (
	benchGiven = []string{"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
		"William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
		"Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
		"Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
		"Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Dorothy", "George", "Melissa", "Timothy", "Deborah"}
	benchFamily = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
		"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
		"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
		"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
		"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
		"Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
		"Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
		"Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
		"Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
		"Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez"}
)

// benchPatient is the i-th patient of the registry (IDs aside): its phone
// is unique, its names and birth date drawn from a fixed seed.
func benchPatient(i int, r *rand.Rand) scheduling.Patient {
	return scheduling.Patient{
		GivenName:  benchGiven[r.IntN(len(benchGiven))],
		FamilyName: benchFamily[r.IntN(len(benchFamily))],
		BirthDate:  time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(90*365)).Format(time.DateOnly),
		Phone:      fmt.Sprintf("+1202%07d", i),
		Email:      fmt.Sprintf("patient%d@example.com", i),
		Language:   "en",
	}
}

// clearPatient is a row of bench_clear_patients: a patient in clear, as the
// patients table held it before sealing.
type clearPatient struct {
	bun.BaseModel `bun:"table:bench_clear_patients"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	ID         uuid.UUID `bun:"id,pk"`
	GivenName  string    `bun:"given_name"`
	FamilyName string    `bun:"family_name"`
	GivenKey   string    `bun:"given_key"`
	FamilyKey  string    `bun:"family_key"`
	BirthDate  string    `bun:"birth_date"`
	Phone      string    `bun:"phone"`
	Email      string    `bun:"email"`
	Language   string    `bun:"language"`
	CreatedAt  time.Time `bun:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at"`
}

// patient returns the row as the store returns a patient.
func (c *clearPatient) patient() *scheduling.Patient {
	return &scheduling.Patient{ID: c.ID, PracticeID: c.PracticeID, GivenName: c.GivenName, FamilyName: c.FamilyName,
		BirthDate: c.BirthDate, Phone: c.Phone, Email: c.Email, Language: c.Language, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// clearColumns are what a clear read selects: those GetPatient reads.
var clearColumns = []string{"practice_id", "id", "given_name", "family_name", "birth_date", "phone", "email",
	"language", "created_at", "updated_at"}

// clearTableDDL is the patients table and indexes of the first migration,
// renamed: the clear baseline.
var clearTableDDL = map[sqlstore.Dialect][]string{
	sqlstore.Postgres: {`CREATE TABLE bench_clear_patients (
	practice_id uuid NOT NULL REFERENCES practices (id),
	id          uuid NOT NULL,
	given_name  text COLLATE "C" NOT NULL,
	family_name text COLLATE "C" NOT NULL,
	given_key   text COLLATE "C" NOT NULL,
	family_key  text COLLATE "C" NOT NULL,
	birth_date  text NOT NULL,
	phone       text NOT NULL,
	email       text NOT NULL,
	language    text NOT NULL,
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL,
	PRIMARY KEY (practice_id, id))`},
	sqlstore.SQLite: {`CREATE TABLE bench_clear_patients (
	practice_id TEXT NOT NULL REFERENCES practices (id),
	id          TEXT NOT NULL,
	given_name  TEXT NOT NULL,
	family_name TEXT NOT NULL,
	given_key   TEXT NOT NULL,
	family_key  TEXT NOT NULL,
	birth_date  TEXT NOT NULL,
	phone       TEXT NOT NULL,
	email       TEXT NOT NULL,
	language    TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	PRIMARY KEY (practice_id, id)) STRICT`},
}

// clearIndexDDL are the clear table's indexes, the same in both dialects.
var clearIndexDDL = []string{
	`CREATE INDEX bench_clear_patients_name ON bench_clear_patients (practice_id, family_name, given_name, id)`,
	`CREATE INDEX bench_clear_patients_family_key ON bench_clear_patients (practice_id, family_key)`,
	`CREATE INDEX bench_clear_patients_given_key ON bench_clear_patients (practice_id, given_key)`,
	`CREATE INDEX bench_clear_patients_phone ON bench_clear_patients (practice_id, phone)`,
	`CREATE INDEX bench_clear_patients_email ON bench_clear_patients (practice_id, email)`,
}

// seedRegistry creates a practice and its registrySize patients: sealed
// through CreatePatient, registryBatch to a transaction, and in clear in
// bench_clear_patients, 500 rows to an INSERT.
func seedRegistry(ctx context.Context, st *sqlstore.Store) error {
	c := clock.NewFixed(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	ten := tenant.NewService(st.Tenants, c, clock.UUIDv7{})
	g, err := ten.CreateGroup(ctx, "Registry Health")
	if err != nil {
		return err
	}
	pr, err := ten.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Registry Clinic"})
	if err != nil {
		return err
	}
	for _, q := range append(slices.Clone(clearTableDDL[st.Dialect()]), clearIndexDDL...) {
		if _, err := st.DB().ExecContext(ctx, q); err != nil {
			return err
		}
	}
	r := rand.New(rand.NewPCG(1, registryVersion))
	now := c.Now()
	clear := make([]clearPatient, 0, registryBatch)
	add := func(ctx context.Context, i int) error {
		p := benchPatient(i, r)
		p.ID, p.PracticeID, p.CreatedAt, p.UpdatedAt = uuid.Must(uuid.NewV7()), pr.ID, now, now
		if err := st.Scheduling.CreatePatient(ctx, &p); err != nil {
			return err
		}
		clear = append(clear, clearPatient{PracticeID: p.PracticeID, ID: p.ID, GivenName: p.GivenName, FamilyName: p.FamilyName,
			GivenKey: strings.ToLower(p.GivenName), FamilyKey: strings.ToLower(p.FamilyName), BirthDate: p.BirthDate,
			Phone: p.Phone, Email: p.Email, Language: p.Language, CreatedAt: now, UpdatedAt: now})
		return nil
	}
	// The first patient is created outside a transaction, so that the
	// practice's keys, made with it, are cached: keys read or made in a
	// transaction are not.
	if err := add(ctx, 0); err != nil {
		return err
	}
	for i := 1; i < registrySize; i += registryBatch {
		if err := st.InTx(ctx, func(ctx context.Context) error {
			for j := i; j < min(i+registryBatch, registrySize); j++ {
				if err := add(ctx, j); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		for k := 0; k < len(clear); k += 500 {
			rows := clear[k:min(k+500, len(clear))]
			if _, err := st.DB().NewInsert().Model(&rows).Exec(ctx); err != nil {
				return err
			}
		}
		clear = clear[:0]
	}
	return nil
}

// seedAnalyzed seeds the registry, then gathers the planner's statistics
// (ANALYZE), as PostgreSQL's autovacuum soon would.
func seedAnalyzed(ctx context.Context, st *sqlstore.Store) error {
	if err := seedRegistry(ctx, st); err != nil {
		return err
	}
	_, err := st.DB().ExecContext(ctx, "ANALYZE")
	return err
}

// registry is the seeded fixture as the benchmarks read it: the store, the
// practice, and its patients' IDs and phones, in ID order.
type registry struct {
	st       *sqlstore.Store
	practice tenant.PracticeID
	ids      []scheduling.PatientID
	phones   []string
}

// newRegistry reads st's fixture.
func newRegistry(ctx context.Context, st *sqlstore.Store) (*registry, error) {
	var rows []clearPatient
	if err := st.DB().NewSelect().Model(&rows).Column("practice_id", "id", "phone").OrderExpr("id").Scan(ctx); err != nil {
		return nil, err
	}
	if len(rows) != registrySize {
		return nil, fmt.Errorf("the registry has %d patients, want %d", len(rows), registrySize)
	}
	g := &registry{st: st, practice: rows[0].PracticeID}
	for _, r := range rows {
		g.ids, g.phones = append(g.ids, r.ID), append(g.phones, r.Phone)
	}
	return g, nil
}

// pick returns the index of the n-th patient a benchmark reads: a prime
// stride through the registry, so that the reads spread over its indexes.
func (g *registry) pick(n int) int { return (n * 7919) % len(g.ids) }

// sqliteRegistry returns the SQLite fixture, analyzed (with the planner's
// statistics, ANALYZE) or not (as the store leaves a SQLite database: it
// never analyzes one). Each is seeded once into a file under os.TempDir()
// named by registryVersion and a hash of the SQLite migrations, and kept
// there: seeding takes a while, and the benchmarks only read it. Its store
// stays open for the process.
func sqliteRegistry(analyzed bool) (*registry, error) {
	sqliteMu.Lock()
	defer sqliteMu.Unlock()
	if g := sqliteOpen[analyzed]; g != nil {
		return g, nil
	}
	ctx := context.Background()
	seed, kind := seedRegistry, "plain"
	if analyzed {
		seed, kind = seedAnalyzed, "analyzed"
	}
	path, err := sqltest.KeptSQLite(ctx, "bench-registry-"+kind, registryVersion, seed)
	if err != nil {
		return nil, err
	}
	st, err := sqlstore.Open(ctx, "sqlite:"+path, sqlstore.WithMasterKey(sqltest.MasterKey()))
	if err != nil {
		return nil, err
	}
	g, err := newRegistry(ctx, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	sqliteOpen[analyzed] = g
	return g, nil
}

// The SQLite fixtures this process opened, by analyzed.
var (
	sqliteMu   sync.Mutex
	sqliteOpen = map[bool]*registry{}
)

// registries are the fixture's databases: SQLite analyzed (sqlite) and as
// the store leaves it, without statistics (sqlite-nostats), each a kept
// file; and PostgreSQL analyzed, a kept database (sqltest.Seeded).
var registries = []struct {
	name string
	open func(b *testing.B) *registry
}{
	{"sqlite", func(b *testing.B) *registry { return sqliteOrFatal(b, true) }},
	{"sqlite-nostats", func(b *testing.B) *registry { return sqliteOrFatal(b, false) }},
	{"postgres", func(b *testing.B) *registry {
		st := sqltest.Seeded(b, "registry", registryVersion, seedAnalyzed)
		g, err := newRegistry(context.Background(), st)
		if err != nil {
			b.Fatal(err)
		}
		return g
	}},
}

func sqliteOrFatal(b *testing.B, analyzed bool) *registry {
	b.Helper()
	g, err := sqliteRegistry(analyzed)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// latencies runs op in b.Loop with n = 1, 2, ..., after one call to warm
// the caches (keys, statements), timing each call; it reports their median
// and 95th percentile in milliseconds (p50-ms, p95-ms), and returns its
// ns/op and median.
func latencies(b *testing.B, op func(n int) error) (mean float64, p50 time.Duration) {
	b.Helper()
	if err := op(0); err != nil {
		b.Fatal(err)
	}
	var d []time.Duration
	n := 0
	for b.Loop() {
		n++
		t := time.Now()
		err := op(n)
		d = append(d, time.Since(t))
		if err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(d)
	q := func(p float64) time.Duration { return d[int(p*float64(len(d)-1))] }
	b.ReportMetric(float64(q(.50))/float64(time.Millisecond), "p50-ms")
	b.ReportMetric(float64(q(.95))/float64(time.Millisecond), "p95-ms")
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N), q(.50)
}

// baseline is a clear variant's ns/op and median, for its sealed variant
// to report its own as multiples of them.
type baseline struct {
	mean float64
	p50  time.Duration
}

// ratios reports mean and p50 as multiples of the baseline's: x-clear
// (ns/op) and x-clear-p50 (the medians, which the noise of other processes
// on the machine moves less).
func (base baseline) ratios(b *testing.B, mean float64, p50 time.Duration) {
	if base.mean > 0 && base.p50 > 0 {
		b.ReportMetric(mean/base.mean, "x-clear")
		b.ReportMetric(float64(p50)/float64(base.p50), "x-clear-p50")
	}
}

// clearFirst runs the clear baseline, then the sealed variant, which also
// reports its ns/op as a multiple of the baseline's (x-clear).
func clearFirst(b *testing.B, clear, sealed func(n int) error) {
	var base baseline
	b.Run("clear", func(b *testing.B) { base.mean, base.p50 = latencies(b, clear) })
	b.Run("sealed", func(b *testing.B) {
		mean, p50 := latencies(b, sealed)
		base.ratios(b, mean, p50)
	})
}

// BenchmarkPatientByPhone finds a patient by phone among 100,000 of one
// practice, on SQLite and PostgreSQL: sealed is ListPatients{Phone}, the
// blind-index lookup with the candidates opened and filtered; beside it, in
// the same database and run, clear is the same lookup as it was before
// sealing, an indexed SELECT of the same columns on the phone in clear
// (bench_clear_patients). Issue 11 asks for a p95 under 5 ms.
func BenchmarkPatientByPhone(b *testing.B) {
	ctx := context.Background()
	for _, d := range registries {
		b.Run(d.name, func(b *testing.B) {
			g := d.open(b)
			clearFirst(b, func(n int) error {
				k := g.pick(n)
				var rows []clearPatient
				if err := g.st.DB().NewSelect().Model(&rows).Column(clearColumns...).
					Where("practice_id = ? AND phone = ?", g.practice, g.phones[k]).OrderExpr("id").Scan(ctx); err != nil {
					return err
				}
				ps := make([]*scheduling.Patient, len(rows))
				for i := range rows {
					ps[i] = rows[i].patient()
				}
				return onlyPatient(ps, g.ids[k])
			}, func(n int) error {
				k := g.pick(n)
				ps, err := g.st.Scheduling.ListPatients(ctx, g.practice, scheduling.PatientFilter{Phone: g.phones[k]})
				if err != nil {
					return err
				}
				return onlyPatient(ps, g.ids[k])
			})
		})
	}
}

// onlyPatient checks that a lookup found patient id alone.
func onlyPatient(ps []*scheduling.Patient, id scheduling.PatientID) error {
	if len(ps) != 1 || ps[0].ID != id {
		return fmt.Errorf("found %d patients, want %s alone", len(ps), id)
	}
	return nil
}

// BenchmarkPatientGet reads one patient's record by ID among 100,000, on
// SQLite and PostgreSQL: sealed is GetPatient, its ciphertext opened;
// beside it, in the same database and run, clear is the same SELECT of the
// same columns from the clear table. x-clear is the cost of opening as a
// multiple of the clear read.
func BenchmarkPatientGet(b *testing.B) {
	ctx := context.Background()
	for _, d := range registries {
		b.Run(d.name, func(b *testing.B) {
			g := d.open(b)
			clearFirst(b, func(n int) error {
				k := g.pick(n)
				var row clearPatient
				if err := g.st.DB().NewSelect().Model(&row).Column(clearColumns...).
					Where("practice_id = ? AND id = ?", g.practice, g.ids[k]).Scan(ctx); err != nil {
					return err
				}
				return onlyPatient([]*scheduling.Patient{row.patient()}, g.ids[k])
			}, func(n int) error {
				k := g.pick(n)
				p, err := g.st.Scheduling.GetPatient(ctx, g.practice, g.ids[k])
				if err != nil {
					return err
				}
				return onlyPatient([]*scheduling.Patient{p}, g.ids[k])
			})
		})
	}
}

// BenchmarkPatientByName searches the 100,000 patients of a practice for
// the name prefix "smi" (the family name Smith, about 1% of them), on
// SQLite and PostgreSQL: sealed is ListPatients{Name}, which reads every row
// whose 3-letter prefix token matches and opens it to filter; limit25 is the
// same with Limit 25, as a search page asks (the rows are still all read,
// since the filter runs after opening, but only 25 matches are opened).
// Beside them, clear is the search as it was before sealing: ranges of
// the clear given_key and family_key indexes. It reports patients/op.
func BenchmarkPatientByName(b *testing.B) {
	ctx := context.Background()
	const name, next = "smi", "smj"
	for _, d := range registries {
		b.Run(d.name, func(b *testing.B) {
			g := d.open(b)
			smiths, err := g.st.DB().NewSelect().Model((*clearPatient)(nil)).
				Where("practice_id = ? AND family_key = 'smith'", g.practice).Count(ctx)
			if err != nil || smiths == 0 {
				b.Fatalf("the Smiths: %d, %v", smiths, err)
			}
			want := int(smiths)
			found := func(ps []*scheduling.Patient, want int) error {
				if len(ps) != want {
					return fmt.Errorf("%d patients named %s…, want %d", len(ps), name, want)
				}
				return nil
			}
			var base baseline
			b.Run("clear", func(b *testing.B) {
				base.mean, base.p50 = latencies(b, func(int) error {
					var rows []clearPatient
					if err := g.st.DB().NewSelect().Model(&rows).Column(clearColumns...).
						Where("practice_id = ? AND (given_key >= ? AND given_key < ? OR family_key >= ? AND family_key < ?)",
							g.practice, name, next, name, next).OrderExpr("id").Scan(ctx); err != nil {
						return err
					}
					ps := make([]*scheduling.Patient, len(rows))
					for i := range rows {
						ps[i] = rows[i].patient()
					}
					return found(ps, want)
				})
				b.ReportMetric(float64(want), "patients/op")
			})
			for _, v := range []struct {
				name  string
				limit int
			}{{"sealed", 0}, {"sealed-limit25", 25}} {
				w := want
				if v.limit > 0 {
					w = min(w, v.limit)
				}
				b.Run(v.name, func(b *testing.B) {
					mean, p50 := latencies(b, func(int) error {
						ps, err := g.st.Scheduling.ListPatients(ctx, g.practice, scheduling.PatientFilter{Name: name, Limit: v.limit})
						if err != nil {
							return err
						}
						return found(ps, w)
					})
					b.ReportMetric(float64(w), "patients/op")
					base.ratios(b, mean, p50)
				})
			}
		})
	}
}
