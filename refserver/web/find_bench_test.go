package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/directory/directorytest"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/refserver/api"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// findBenchProviders is the size of the results page benchmark's
// directory, besides the demo's.
const findBenchProviders = 10_000

// BenchmarkFindResultsPage is the results page of "back pain" near 11201
// within 25 km, top 20 with their next open times, through the whole
// server (the search and the template), over a directory of 10,000
// generated providers (each with a next open time) and the demo, on
// SQLite and on PostgreSQL. It reports the p50 and p95 of the server
// time per page (the figure: p95 < 30 ms), beside
// BenchmarkFindResultsPage/*/search, the search alone.
func BenchmarkFindResultsPage(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{{"sqlite", sqltest.SQLite}, {"postgres", sqltest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			ctx := context.Background()
			st := db.open(b)
			e := carebook.NewWithStore(st, carebook.WithClock(clock.NewFixed(testNow)), carebook.WithLinks(testLinkKey, testPublicURL))
			if _, err := demo.SeedWithAdmin(ctx, e); err != nil {
				b.Fatal(err)
			}
			at := testNow.Add(26 * time.Hour)
			err := st.InTx(ctx, func(ctx context.Context) error {
				for _, l := range directorytest.Generate(findBenchProviders, 14) {
					for i := range l.Providers {
						loc := &l.Providers[i].Locations[0]
						t := at.Add(time.Duration(i) * time.Hour)
						loc.NextOpen, loc.NextOpenVisitType = &t, loc.VisitTypes[0].ID
					}
					if err := st.Directory.PutListing(ctx, l); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			srv := refserver.New(e, refserver.Options{Authenticate: refserver.SessionAuth(e.Identity)}, api.Module, Module)
			const page = "/find?q=back+pain&zip=11201&radius=25"
			get := func() (*httptest.ResponseRecorder, time.Duration) {
				start := time.Now()
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, httptest.NewRequest("GET", page, nil))
				return w, time.Since(start)
			}
			w, _ := get()
			if w.Code != http.StatusOK || strings.Count(w.Body.String(), `itemtype="https://schema.org/Physician"`) != directory.DefaultLimit ||
				strings.Count(w.Body.String(), "Next open time:") < directory.DefaultLimit/2 {
				b.Fatalf("results page: %d, %d physicians\n%.600s", w.Code, strings.Count(w.Body.String(), "schema.org/Physician"), w.Body.String())
			}
			q := directory.Query{Near: &directorytest.Brooklyn, RadiusKm: 25}
			q.ParseWords("back pain")
			b.Run("page", func(b *testing.B) {
				var times []time.Duration
				for b.Loop() {
					w, d := get()
					if w.Code != http.StatusOK {
						b.Fatal(w.Code)
					}
					times = append(times, d)
				}
				reportQuantiles(b, times)
			})
			b.Run("search", func(b *testing.B) {
				var times []time.Duration
				for b.Loop() {
					start := time.Now()
					if _, err := e.SearchDirectory(ctx, q); err != nil {
						b.Fatal(err)
					}
					times = append(times, time.Since(start))
				}
				reportQuantiles(b, times)
			})
		})
	}
}

// reportQuantiles reports the p50 and p95 of times, in ms.
func reportQuantiles(b *testing.B, times []time.Duration) {
	slices.Sort(times)
	at := func(q float64) float64 {
		return float64(times[int(q*float64(len(times)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
}
