package sqlstore_test

import (
	"context"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/ehr/ehrtest"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/uptrace/bun"
)

// ehrChart makes a practice with a patient and an entry of every kind in
// its chart, each text field holding marker.
func ehrChart(t *testing.T, s *sqlstore.Store, marker string) (ehrtest.Fixture, []*ehr.Entry) {
	t.Helper()
	fx := ehrtest.NewFixture(t, ehrStores(s))
	return fx, ehrtest.AppendAll(t, s.EHR, fx, ehrtest.Bodies(marker))
}

// TestEHRVersionsAppendOnly: the database itself refuses to update or
// delete a version, but for rewriting sealed and sealed_key alone (what
// re-encryption does); a ciphertext moved to another row that way does
// not open there.
func TestEHRVersionsAppendOnly(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		fx, all := ehrChart(t, s, "x")
		refused := []string{
			`UPDATE ehr_versions SET status = 'locked' WHERE practice_id = ?`,
			`UPDATE ehr_versions SET restricted = NOT restricted WHERE practice_id = ?`,
			`UPDATE ehr_versions SET hash = prev_hash WHERE practice_id = ?`,
			`UPDATE ehr_versions SET seq = seq + 100 WHERE practice_id = ?`,
			`UPDATE ehr_versions SET sealed = sealed, recorded_at = '2030-01-01T00:00:00.000000Z' WHERE practice_id = ?`,
			`DELETE FROM ehr_versions WHERE practice_id = ?`,
		}
		if s.Dialect() == sqlstore.Postgres {
			refused = append(refused, `TRUNCATE ehr_versions`)
		}
		for _, q := range refused {
			args := []any{fx.Practice}
			if !strings.Contains(q, "?") {
				args = nil
			}
			if _, err := s.DB().ExecContext(ctx, q, args...); err == nil {
				t.Errorf("%s succeeded, want it refused", q)
			}
		}
		exec(t, s, `UPDATE ehr_versions SET sealed = sealed, sealed_key = sealed_key WHERE practice_id = ?`, fx.Practice)
		vs, err := s.EHR.Versions(ctx, fx.Practice, fx.Patient, 0, 100)
		if err != nil || len(vs) != len(all) {
			t.Fatalf("Versions = %d, %v; want %d", len(vs), err, len(all))
		}
		if err := ehr.VerifyChain(vs); err != nil {
			t.Errorf("VerifyChain after the refused changes: %v", err)
		}

		// Seq 2's ciphertext moved onto seq 1 (allowed: only sealed).
		exec(t, s, `UPDATE ehr_versions SET sealed = (SELECT sealed FROM ehr_versions WHERE practice_id = ? AND patient_id = ? AND seq = 2)
WHERE practice_id = ? AND patient_id = ? AND seq = 1`, fx.Practice, fx.Patient, fx.Practice, fx.Patient)
		_, err = s.EHR.Current(ctx, fx.Practice, all[0].ID)
		if !errs.Is(err, errs.KindConflict) || !strings.Contains(err.Error(), "ehr_versions.sealed of row "+all[0].ID.String()+"/1") {
			t.Errorf("Current of a version with another's ciphertext: %v, want KindConflict naming its binding", err)
		}
		if _, err := s.EHR.Versions(ctx, fx.Practice, fx.Patient, 0, 100); !errs.Is(err, errs.KindConflict) {
			t.Errorf("Versions over it: %v, want KindConflict", err)
		}
	})
}

// TestEHRBodyReplacedIsCaught: a body replaced by another, sealed as the
// right key would seal it at the right row (the one change the triggers
// allow, to whoever holds the practice's keys), fails VerifyChain: the
// hash covers the body in clear.
func TestEHRBodyReplacedIsCaught(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		fx, all := ehrChart(t, s, "x")
		p := all[2] // seq 3, a problem
		ct, err := sqlstore.SealEHRBody(ctx, s, fx.Practice, p.ID, p.Version,
			`{"display":"Nothing at all","clinical_status":"resolved"}`)
		if err != nil {
			t.Fatalf("SealEHRBody: %v", err)
		}
		exec(t, s, `UPDATE ehr_versions SET sealed = ? WHERE practice_id = ? AND patient_id = ? AND seq = 3`, ct, fx.Practice, fx.Patient)
		got, err := s.EHR.Current(ctx, fx.Practice, p.ID)
		if err != nil || got.Body.(*ehr.Problem).Display != "Nothing at all" {
			t.Fatalf("Current = %+v, %v; want the replaced body", got, err)
		}
		vs, err := s.EHR.Versions(ctx, fx.Practice, fx.Patient, 0, 100)
		if err != nil {
			t.Fatalf("Versions: %v", err)
		}
		if err := ehr.VerifyChain(vs); !errs.Is(err, errs.KindConflict) || !strings.Contains(err.Error(), "version 3 was changed") {
			t.Errorf("VerifyChain: %v, want KindConflict naming version 3", err)
		}
	})
}

// TestEHREntriesTamperedUnlockNothing: ehr_entries, the chart's index of
// current versions, is an ordinary table; pointing a locked note back at
// its draft there changes neither what Current returns nor what Append
// checks a change against.
func TestEHREntriesTamperedUnlockNothing(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		fx, all := ehrChart(t, s, "x")
		note := all[1]
		locked := ehrtest.Next(note, ehrtest.Epoch.Add(time.Hour), ehrtest.SignedBy(ehrtest.Clinician, true))
		if err := s.EHR.Append(ctx, locked, ehrtest.Now); err != nil {
			t.Fatalf("Append(locked): %v", err)
		}
		exec(t, s, `UPDATE ehr_entries SET version = 1, status = 'draft' WHERE practice_id = ? AND id = ?`, fx.Practice, note.ID)
		if got, err := s.EHR.Current(ctx, fx.Practice, note.ID); err != nil || got.Version != 2 || got.Status != ehr.Locked {
			t.Errorf("Current = %+v, %v; want the locked version 2", got, err)
		}
		edit := ehrtest.Next(note, ehrtest.Epoch.Add(2*time.Hour), func(e *ehr.Entry) {
			e.Body = &ehr.Note{Title: "Rewritten", Plan: "Something else."}
		})
		if err := s.EHR.Append(ctx, edit, ehrtest.Now); !errs.Is(err, errs.KindConflict) {
			t.Errorf("Append of version 2 over the tampered index: %v, want KindConflict", err)
		}
		edit.Version = 3
		if err := s.EHR.Append(ctx, edit, ehrtest.Now); !errs.Is(err, errs.KindConflict) {
			t.Errorf("Append of version 3 after the locked one: %v, want KindConflict", err)
		}
	})
}

// allowEHRTampering lifts the append-only triggers of ehr_versions.
func allowEHRTampering(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	if s.Dialect() == sqlstore.Postgres {
		exec(t, s, `ALTER TABLE ehr_versions DISABLE TRIGGER ehr_versions_append_only`)
		return
	}
	exec(t, s, `DROP TRIGGER ehr_versions_no_update`)
	exec(t, s, `DROP TRIGGER ehr_versions_no_delete`)
}

// TestEHRVerifyChainCatchesTampering: a version edited, or removed, in the
// database behind the store's back (its triggers lifted) fails
// VerifyChain over Versions, naming the version's Seq.
func TestEHRVerifyChainCatchesTampering(t *testing.T) {
	for _, c := range []struct {
		name, sql, want string
	}{
		{"restricted lifted", `UPDATE ehr_versions SET restricted = NOT restricted WHERE practice_id = ? AND patient_id = ? AND seq = 3`, "version 3 was changed"},
		{"status changed", `UPDATE ehr_versions SET status = 'inactive' WHERE practice_id = ? AND patient_id = ? AND seq = 3`, "version 3 was changed"},
		{"hash rewritten", `UPDATE ehr_versions SET hash = prev_hash WHERE practice_id = ? AND patient_id = ? AND seq = 3`, "version 3 was changed"},
		{"a version removed", `DELETE FROM ehr_versions WHERE practice_id = ? AND patient_id = ? AND seq = 3`, "version 3 of the chart is missing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
				ctx := t.Context()
				fx, all := ehrChart(t, s, "x")
				// seq 3 is a problem's first version; its second is current.
				p2 := ehrtest.Next(all[2], ehrtest.Epoch.Add(time.Hour), func(e *ehr.Entry) { e.Status = ehr.Inactive })
				if err := s.EHR.Append(ctx, p2, ehrtest.Now); err != nil {
					t.Fatalf("Append: %v", err)
				}
				allowEHRTampering(t, s)
				exec(t, s, c.sql, fx.Practice, fx.Patient)
				vs, err := s.EHR.Versions(ctx, fx.Practice, fx.Patient, 0, 100)
				if err != nil {
					t.Fatalf("Versions: %v", err)
				}
				err = ehr.VerifyChain(vs)
				if !errs.Is(err, errs.KindConflict) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("VerifyChain: %v, want KindConflict saying %q", err, c.want)
				}
			})
		})
	}
}

// TestEHRResealVersions: after a rotation of the practice's key,
// ResealVersions seals every version again with the new key, in batches,
// and the chart reads back the same, its chain whole.
func TestEHRResealVersions(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		fx, all := ehrChart(t, s, "x")
		other, _ := ehrChart(t, s, "y")
		keysOf := func(p any) map[int64]int {
			var rows []struct {
				Key int64 `bun:"sealed_key"`
				N   int   `bun:"n"`
			}
			if err := s.DB().NewRaw(`SELECT sealed_key, count(*) AS n FROM ehr_versions WHERE practice_id = ? GROUP BY sealed_key`, p).
				Scan(ctx, &rows); err != nil {
				t.Fatalf("keys: %v", err)
			}
			out := map[int64]int{}
			for _, r := range rows {
				out[r.Key] = r.N
			}
			return out
		}
		before := keysOf(fx.Practice)
		if len(before) != 1 {
			t.Fatalf("keys before the rotation: %v, want one", before)
		}
		if n, err := s.EHR.ResealVersions(ctx, fx.Practice, 10); err != nil || n != 0 {
			t.Errorf("ResealVersions before a rotation = %d, %v; want 0", n, err)
		}
		if err := s.Sealer().Rotate(ctx, fx.Practice); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		total := 0
		for range 10 {
			n, err := s.EHR.ResealVersions(ctx, fx.Practice, 3)
			if err != nil {
				t.Fatalf("ResealVersions: %v", err)
			}
			if n > 3 {
				t.Fatalf("ResealVersions(limit 3) = %d", n)
			}
			if n == 0 {
				break
			}
			total += n
		}
		if total != len(all) {
			t.Errorf("ResealVersions rewrote %d versions, want %d", total, len(all))
		}
		after := keysOf(fx.Practice)
		for k := range before {
			if len(after) != 1 || after[k] != 0 {
				t.Errorf("keys after ResealVersions: %v (before %v), want one, new", after, before)
			}
		}
		vs, err := s.EHR.Versions(ctx, fx.Practice, fx.Patient, 0, 100)
		if err != nil || len(vs) != len(all) {
			t.Fatalf("Versions = %d, %v", len(vs), err)
		}
		if err := ehr.VerifyChain(vs); err != nil {
			t.Errorf("VerifyChain after ResealVersions: %v", err)
		}
		for i, e := range all {
			got, err := s.EHR.Current(ctx, fx.Practice, e.ID)
			if err != nil || got.Hash != e.Hash || got.Body.Kind() != e.Kind {
				t.Errorf("Current(%s) after ResealVersions = %+v, %v", e.Kind, got, err)
			}
			if vs[i].Hash != e.Hash {
				t.Errorf("Versions[%d] hash changed", i)
			}
		}
		if got := keysOf(other.Practice); len(got) != 1 {
			t.Errorf("the other practice's keys: %v", got)
		}
		if _, err := s.EHR.ResealVersions(ctx, fx.Practice, 0); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("ResealVersions(limit 0): %v, want KindInvalid", err)
		}
	})
}

// tableMarkerCounts returns, by column of table, how many rows hold needle:
// in the column's text (a SQLite BLOB's bytes read as text), or in its hex
// (a bytea's hex text on PostgreSQL).
func tableMarkerCounts(t *testing.T, s *sqlstore.Store, table, needle string) map[string]int {
	t.Helper()
	ctx := context.Background()
	var cols []string
	q := `SELECT name FROM pragma_table_info(?) ORDER BY cid`
	if s.Dialect() == sqlstore.Postgres {
		q = `SELECT column_name FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`
	}
	if err := s.DB().NewRaw(q, table).Scan(ctx, &cols); err != nil || len(cols) == 0 {
		t.Fatalf("columns of %s: %v, %v", table, cols, err)
	}
	find := `instr(CAST(? AS TEXT), ?) > 0 OR instr(hex(?), ?) > 0`
	hexNeedle := strings.ToUpper(hex.EncodeToString([]byte(needle)))
	if s.Dialect() == sqlstore.Postgres {
		find = `strpos(CAST(? AS text), ?) > 0 OR strpos(CAST(? AS text), ?) > 0`
		hexNeedle = hex.EncodeToString([]byte(needle))
	}
	out := map[string]int{}
	for _, col := range cols {
		var n int
		if err := s.DB().NewRaw(`SELECT count(*) FROM ? WHERE `+find, bun.Ident(table),
			bun.Ident(col), needle, bun.Ident(col), hexNeedle).Scan(ctx, &n); err != nil {
			t.Fatalf("search %s.%s: %v", table, col, err)
		}
		if n > 0 {
			out[col] = n
		}
	}
	return out
}

// TestEHRSealedAtRest writes entries of every kind, each text field naming
// a marker, and a new version of each, and finds the marker in clear in no
// column of ehr_versions or ehr_entries; the search does find it where it
// is put in clear.
func TestEHRSealedAtRest(t *testing.T) {
	const marker = "Quillonbury-5523"
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := t.Context()
		fx, all := ehrChart(t, s, marker)
		for _, e := range all {
			next := ehrtest.Next(e, ehrtest.Epoch.Add(time.Hour), nil)
			if e.Kind == ehr.KindEncounter {
				continue // its entries' rules would refuse them once it changed
			}
			if err := s.EHR.Append(ctx, next, ehrtest.Now); err != nil {
				t.Fatalf("Append(%s v2): %v", e.Kind, err)
			}
		}
		for _, table := range []string{"ehr_versions", "ehr_entries"} {
			if got := tableMarkerCounts(t, s, table, marker); len(got) != 0 {
				t.Errorf("the marker is in clear in %s: rows by column %v", table, got)
			}
		}
		got, err := s.EHR.Current(ctx, fx.Practice, all[1].ID)
		if err != nil || !strings.Contains(got.Body.(*ehr.Note).Subjective, marker) {
			t.Fatalf("Current(note) = %+v, %v", got, err)
		}
		// The search sees a marker in clear (the one update the triggers
		// allow).
		exec(t, s, `UPDATE ehr_versions SET sealed = ? WHERE practice_id = ? AND patient_id = ? AND seq = 1`,
			[]byte("clear "+marker), fx.Practice, fx.Patient)
		if got := tableMarkerCounts(t, s, "ehr_versions", marker); got["sealed"] != 1 {
			t.Errorf("the search found the clear marker in %v, want once in sealed", got)
		}
	})
}

// BenchmarkEHRAppend appends vital signs to one patient's chart, one
// after the other: each a transaction that locks the chart, reads the
// entry, its encounter and the chain's head, and writes two rows.
func BenchmarkEHRAppend(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{{"sqlite", sqltest.SQLite}, {"postgres", sqltest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			s := db.open(b)
			ctx := context.Background()
			fx := ehrtest.NewFixture(b, ehrStores(s))
			enc := fx.Entry(&ehr.Encounter{Class: "ambulatory", Start: ehrtest.Epoch}, nil, ehrtest.Epoch)
			if err := s.EHR.Append(ctx, enc, ehrtest.Now); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				v := fx.Entry(&ehr.Vital{Code: "8867-4", Value: float64(60 + i%40), Unit: "/min", EffectiveAt: ehrtest.Epoch}, enc, ehrtest.Epoch)
				if err := s.EHR.Append(ctx, v, ehrtest.Now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEHRAppendParallel appends vital signs from parallel writers,
// each to its own patient's chart: on PostgreSQL the charts' locks do not
// meet; SQLite takes one writer at a time.
func BenchmarkEHRAppendParallel(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{{"sqlite", sqltest.SQLite}, {"postgres", sqltest.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			s := db.open(b)
			ctx := context.Background()
			fx := ehrtest.NewFixture(b, ehrStores(s))
			var mu sync.Mutex
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				mu.Lock()
				p := ehrtest.NewPatient(b, ehrStores(s), fx.Practice)
				mu.Unlock()
				enc := p.Entry(&ehr.Encounter{Class: "ambulatory", Start: ehrtest.Epoch}, nil, ehrtest.Epoch)
				if err := s.EHR.Append(ctx, enc, ehrtest.Now); err != nil {
					b.Error(err)
					return
				}
				for pb.Next() {
					v := p.Entry(&ehr.Vital{Code: "8867-4", Value: 72, Unit: "/min", EffectiveAt: ehrtest.Epoch}, enc, ehrtest.Epoch)
					if err := s.EHR.Append(ctx, v, ehrtest.Now); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
