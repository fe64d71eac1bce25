package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// BenchmarkReseal measures re-encryption after a practice key rotation:
// each iteration rotates the practice's key and moves its 5,000 patient
// rows to the new key with ResealPatients, 500 rows per transaction (what
// Engine.Reseal runs), reporting rows/s. Its baseline, in the same run, is
// UpdatePatient-rows: the same rows rewritten by UpdatePatient, 500 per
// transaction, without reading them first.
func BenchmarkReseal(b *testing.B) {
	const patients, batch = 5_000, 500
	for _, d := range []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{{"sqlite", sqltest.SQLite}, {"postgres", sqltest.Postgres}} {
		b.Run(d.name, func(b *testing.B) {
			ctx := context.Background()
			db := d.open(b)
			now := time.Now().UTC()
			g := &tenant.Group{ID: uuid.New(), Name: "G", CreatedAt: now}
			p := &tenant.Practice{ID: uuid.New(), GroupID: g.ID, Name: "P", Policy: tenant.DefaultPolicy, CreatedAt: now}
			if err := db.Tenants.CreateGroup(ctx, g); err != nil {
				b.Fatal(err)
			}
			if err := db.Tenants.CreatePractice(ctx, p); err != nil {
				b.Fatal(err)
			}
			all := make([]*scheduling.Patient, patients)
			if err := db.InTx(ctx, func(ctx context.Context) error {
				for i := range all {
					all[i] = &scheduling.Patient{ID: uuid.New(), PracticeID: p.ID, GivenName: "Pat", FamilyName: fmt.Sprintf("Parker%05d", i),
						BirthDate: "1980-02-29", Phone: fmt.Sprintf("+1202555%04d", i%10_000), Email: fmt.Sprintf("p%d@example.com", i),
						Language: "en", CreatedAt: now, UpdatedAt: now}
					if err := db.Scheduling.CreatePatient(ctx, all[i]); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			b.Run("ResealPatients", func(b *testing.B) {
				start := time.Now()
				moved := 0
				for b.Loop() {
					if err := db.Sealer().Rotate(ctx, p.ID); err != nil {
						b.Fatal(err)
					}
					for {
						n, err := db.Scheduling.ResealPatients(ctx, p.ID, batch)
						if err != nil {
							b.Fatal(err)
						}
						if n == 0 {
							break
						}
						moved += n
					}
				}
				if moved != patients*b.N {
					b.Fatalf("moved %d rows in %d rotations, want %d each", moved, b.N, patients)
				}
				b.ReportMetric(float64(moved)/time.Since(start).Seconds(), "rows/s")
			})
			b.Run("UpdatePatient-rows", func(b *testing.B) {
				start := time.Now()
				written := 0
				for b.Loop() {
					for i := 0; i < patients; i += batch {
						if err := db.InTx(ctx, func(ctx context.Context) error {
							for _, pt := range all[i : i+batch] {
								if err := db.Scheduling.UpdatePatient(ctx, pt); err != nil {
									return err
								}
							}
							return nil
						}); err != nil {
							b.Fatal(err)
						}
						written += batch
					}
				}
				b.ReportMetric(float64(written)/time.Since(start).Seconds(), "rows/s")
			})
		})
	}
}
