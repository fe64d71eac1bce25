package sqlstore_test

import (
	"context"
	"database/sql"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/directory/directorytest"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// seedDirectory returns the seed of a generated directory of n providers
// for the benchmarks: one transaction, each practice's listing written in
// a few statements (PutListing's chunks), then ANALYZE.
func seedDirectory(n int) func(ctx context.Context, s *sqlstore.Store) error {
	return func(ctx context.Context, s *sqlstore.Store) error {
		err := s.InTx(ctx, func(ctx context.Context) error {
			for _, l := range directorytest.Generate(n, 14) {
				if err := s.Directory.PutListing(ctx, l); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if s.Dialect() == sqlstore.Postgres {
			_, err := s.DB().ExecContext(ctx, `ANALYZE directory_providers; ANALYZE directory_locations`)
			return err
		}
		_, err = s.DB().ExecContext(ctx, `ANALYZE`)
		return err
	}
}

// BenchmarkDirectorySearch searches a directory of 10,000 generated
// providers (directorytest.Generate: 60% within 50 km of Brooklyn) on
// SQLite and PostgreSQL, and one of 100,000 (sqlite-100k, postgres-100k;
// not with -short), from points drawn within 20 km of Brooklyn, top 20
// within 25 km. bare is the baseline: the bare geo-and-specialty query in
// SQL, the nearest 20 locations' provider IDs, nothing decoded; specialty
// is Directory.Search with a specialty and the point (each provider once,
// at its nearest location, decoded, with next open times); concern is
// Search by the words "back pain" with the filters accepting new patients
// and English. Each reports p50-ms and p95-ms, and the searches their
// medians as multiples of bare's (x-bare-p50). Issue 14 asks for a p50
// under 5 ms and a p95 under 15 ms at 10,000, a p95 under 25 ms at
// 100,000, and at most twice the bare query.
func BenchmarkDirectorySearch(b *testing.B) {
	type db struct {
		name string // the sub-benchmark's
		open func(b *testing.B) *sqlstore.Store
	}
	// The fixtures are kept between runs (see sqltest.KeptSQLite, Seeded),
	// named by fixture.
	sqlite := func(name, fixture string, n int) db {
		return db{name, func(b *testing.B) *sqlstore.Store {
			path, err := sqltest.KeptSQLite(context.Background(), "bench-"+fixture, 2, seedDirectory(n))
			if err != nil {
				b.Fatal(err)
			}
			s, err := sqlstore.Open(context.Background(), "sqlite:"+path+"?mode=ro", sqlstore.WithMasterKey(sqltest.MasterKey()))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}}
	}
	postgres := func(name, fixture string, n int) db {
		return db{name, func(b *testing.B) *sqlstore.Store {
			return sqltest.Seeded(b, fixture, 2, seedDirectory(n))
		}}
	}
	dbs := []db{sqlite("sqlite", "directory", 10_000), postgres("postgres", "directory", 10_000)}
	if !testing.Short() {
		dbs = append(dbs, sqlite("sqlite-100k", "directory-100k", 100_000), postgres("postgres-100k", "directory_100k", 100_000))
	}
	for _, d := range dbs {
		b.Run(d.name, func(b *testing.B) {
			s := d.open(b)
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(1, 2))
			points := make([]directory.Point, 64)
			for i := range points {
				points[i] = directorytest.Offset(directorytest.Brooklyn, 20*math.Sqrt(rng.Float64()), 360*rng.Float64())
			}
			const family, radius = "207Q00000X", 25.0
			bare := bareDirectoryQuery(s.Dialect())
			var base bareBase
			b.Run("bare", func(b *testing.B) {
				_, base.p50 = latencies(b, func(n int) error {
					p := points[n%len(points)]
					rows, err := s.DB().DB.QueryContext(ctx, bare, p.Lat, p.Lon, radius, family)
					if err != nil {
						return err
					}
					return drain(rows, 20)
				})
			})
			b.Run("specialty", func(b *testing.B) {
				_, p50 := latencies(b, func(n int) error {
					p := points[n%len(points)]
					hits, err := s.Directory.Search(ctx, directory.Query{Specialties: []string{family}, Near: &p, RadiusKm: radius, Limit: 20})
					if err == nil && len(hits) != 20 {
						b.Fatalf("%d hits, want 20", len(hits))
					}
					return err
				})
				base.ratio(b, p50)
			})
			b.Run("concern", func(b *testing.B) {
				_, p50 := latencies(b, func(n int) error {
					p := points[n%len(points)]
					hits, err := s.Directory.Search(ctx, directory.Query{Words: []string{"back", "pain"}, Near: &p, RadiusKm: radius,
						AcceptingNew: true, Language: "en", Limit: 20})
					if err == nil && len(hits) != 20 {
						b.Fatalf("%d hits, want 20", len(hits))
					}
					return err
				})
				base.ratio(b, p50)
			})
		})
	}
}

// bareBase is the median of the bare query, for the searches to report
// theirs as a multiple of it (x-bare-p50).
type bareBase struct{ p50 time.Duration }

func (base bareBase) ratio(b *testing.B, p50 time.Duration) {
	if base.p50 > 0 {
		b.ReportMetric(float64(p50)/float64(base.p50), "x-bare-p50")
	}
}

// drain reads rows, failing unless there are want of them.
func drain(rows *sql.Rows, want int) error {
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != want {
		return sql.ErrNoRows
	}
	return nil
}

// bareDirectoryQuery is the baseline of BenchmarkDirectorySearch in d: the
// provider IDs of the 20 nearest locations within $3 km of ($1, $2) of a
// provider of specialty $4.
func bareDirectoryQuery(d sqlstore.Dialect) string {
	if d == sqlstore.Postgres {
		return `SELECT l.provider_id, earth_distance(ll_to_earth($1, $2), l.earth) AS d
			FROM directory_locations l
			WHERE earth_box(ll_to_earth($1, $2), $3 * 1000) @> l.earth
				AND earth_distance(ll_to_earth($1, $2), l.earth) <= $3 * 1000
				AND l.specialties && ARRAY[$4::text]
			ORDER BY d LIMIT 20`
	}
	// The box is the one of 25 km at Brooklyn's latitude, a little wide.
	return `WITH c(lat, lon, r) AS (SELECT ?1, ?2, ?3)
		SELECT l.location_id, 12756.336 * asin(min(1, sqrt(pow(sin(radians(l.lat - c.lat) / 2), 2)
			+ cos(radians(c.lat)) * cos(radians(l.lat)) * pow(sin(radians(l.lon - c.lon) / 2), 2)))) AS d
		FROM c, directory_locations l
		WHERE l.id IN (SELECT g.id FROM directory_geo g, c WHERE g.max_lat >= c.lat - c.r / 111.0 AND g.min_lat <= c.lat + c.r / 111.0
				AND g.max_lon >= c.lon - c.r / 83.0 AND g.min_lon <= c.lon + c.r / 83.0)
			AND instr(l.specialties, ' ' || ?4 || ' ') > 0 AND d <= c.r
		ORDER BY d LIMIT 20`
}
