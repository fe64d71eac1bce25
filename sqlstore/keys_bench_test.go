package sqlstore_test

import (
	"context"
	"testing"

	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/uptrace/bun"
)

// benchKeyset is a row of keysets, to provision many practices at once.
type benchKeyset struct {
	bun.BaseModel `bun:"table:keysets"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	Purpose    string    `bun:"purpose,pk"`
	MasterID   string    `bun:"master_id"`
	Keyset     []byte    `bun:"keyset,type:bytea"`
	Version    int64     `bun:"version"`
}

func benchMaster(b *testing.B) *keys.FileProvider {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		b.Fatal(err)
	}
	p, err := keys.NewStatic(h)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkRotateMaster10k re-wraps the keysets of 10,000 practices (two
// each) with a new master key. It reports the keysets re-wrapped; the data
// the keysets sealed is not touched (RotateMaster writes only keysets).
func BenchmarkRotateMaster10k(b *testing.B) {
	const practices = 10_000
	for _, d := range []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{{"sqlite", sqltest.SQLite}, {"postgres", sqltest.Postgres}} {
		b.Run(d.name, func(b *testing.B) {
			ctx := context.Background()
			db := d.open(b)
			m := benchMaster(b)
			rows := make([]benchKeyset, 0, 2*practices)
			for range practices {
				ws, err := keys.NewKeysets(ctx, m, uuid.New())
				if err != nil {
					b.Fatal(err)
				}
				for _, w := range ws {
					rows = append(rows, benchKeyset{PracticeID: w.Practice, Purpose: string(w.Purpose), MasterID: w.MasterID, Keyset: w.Keyset, Version: w.Version})
				}
			}
			for i := 0; i < len(rows); i += 1000 {
				batch := rows[i:min(i+1000, len(rows))]
				if _, err := db.DB().NewInsert().Model(&batch).Exec(ctx); err != nil {
					b.Fatal(err)
				}
			}
			s := keys.New(db.Keys, m)
			b.ResetTimer()
			for b.Loop() {
				n, err := s.RotateMaster(ctx, benchMaster(b))
				if err != nil || n != 2*practices {
					b.Fatalf("RotateMaster = %d, %v; want %d", n, err, 2*practices)
				}
			}
			b.ReportMetric(2*practices, "keysets/op")
		})
	}
}
