package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/audit/audittest"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

// auditEnv returns an audittest.Env on s with a practice holding n entries.
func auditEnv(t *testing.T, s *sqlstore.Store, n int) (*audittest.Env, uuid.UUID, []*audit.Entry) {
	t.Helper()
	e := audittest.NewEnv(t, auditStores(s))
	p := e.MustPractice()
	return e, p, e.MustRecord(p, "patient.read", n)
}

// exec runs raw SQL on s's database, failing t on error.
func exec(t *testing.T, s *sqlstore.Store, query string, args ...any) {
	t.Helper()
	if _, err := s.DB().ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// allowTampering lifts the append-only triggers of audit_entries.
func allowTampering(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	if s.Dialect() == sqlstore.Postgres {
		exec(t, s, `ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only`)
		return
	}
	exec(t, s, `DROP TRIGGER audit_entries_no_update`)
	exec(t, s, `DROP TRIGGER audit_entries_no_delete`)
}

func TestAuditEntriesAreAppendOnly(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		_, p, _ := auditEnv(t, s, 2)
		for _, q := range []string{
			`UPDATE audit_entries SET action = 'x' WHERE practice_id = ?`,
			`DELETE FROM audit_entries WHERE practice_id = ?`,
		} {
			if _, err := s.DB().ExecContext(t.Context(), q, p); err == nil {
				t.Errorf("%s succeeded, want it refused", q)
			}
		}
	})
}

func TestAuditVerifyCatchesTampering(t *testing.T) {
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, s *sqlstore.Store, p uuid.UUID, es []*audit.Entry)
		seq    int64
		reason audit.Reason
	}{
		{"edited", func(t *testing.T, s *sqlstore.Store, p uuid.UUID, _ []*audit.Entry) {
			exec(t, s, `UPDATE audit_entries SET actor = 'someone-else' WHERE practice_id = ? AND seq = 3`, p)
		}, 3, audit.HashMismatch},
		{"deleted", func(t *testing.T, s *sqlstore.Store, p uuid.UUID, _ []*audit.Entry) {
			exec(t, s, `DELETE FROM audit_entries WHERE practice_id = ? AND seq = 3`, p)
		}, 3, audit.SeqGap},
		{"last deleted", func(t *testing.T, s *sqlstore.Store, p uuid.UUID, _ []*audit.Entry) {
			exec(t, s, `DELETE FROM audit_entries WHERE practice_id = ? AND seq = 5`, p)
		}, 5, audit.SeqGap},
		{"reordered", func(t *testing.T, s *sqlstore.Store, p uuid.UUID, es []*audit.Entry) {
			// Swap entries 3 and 4 (they differ only in ID and PrevHash), each
			// resealed at its new place by someone who knows the encoding but
			// does not rewrite the rest of the chain.
			a, b := *es[2], *es[3]
			a.Seq, b.Seq = 4, 3
			a.Hash, b.Hash = a.ComputeHash(), b.ComputeHash()
			exec(t, s, `UPDATE audit_entries SET id = ? WHERE practice_id = ? AND seq = 3`, uuid.Must(uuid.NewV7()), p)
			const q = `UPDATE audit_entries SET id = ?, prev_hash = ?, hash = ? WHERE practice_id = ? AND seq = ?`
			exec(t, s, q, a.ID, a.PrevHash, a.Hash, p, 4)
			exec(t, s, q, b.ID, b.PrevHash, b.Hash, p, 3)
		}, 3, audit.PrevHashMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
				e, p, es := auditEnv(t, s, 5)
				if b := e.MustVerify(p); b != nil {
					t.Fatalf("Verify before tampering = %v", b)
				}
				allowTampering(t, s)
				c.tamper(t, s, p, es)
				audittest.WantBreak(t, e.MustVerify(p), c.seq, c.reason)
			})
		})
	}
}

// TestAuditAppendsInSchedulingTx checks the contract of audit.Store: an
// entry appended with the context that scheduling's InTx hands out is in
// the same transaction, so it commits or rolls back with the scheduling
// change.
func TestAuditAppendsInSchedulingTx(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		e, p, _ := auditEnv(t, s, 1)
		boom := errors.New("boom")
		record := func(fail error) error {
			return s.Scheduling.InTx(t.Context(), func(ctx context.Context) error {
				if _, err := e.Service.Record(ctx, audittest.Entry(p, "appointment.book")); err != nil {
					return err
				}
				return fail
			})
		}
		if err := record(boom); !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		if got := e.MustQuery(p, audit.Filter{}); len(got) != 1 {
			t.Fatalf("%d entries after a rolled back tx, want 1", len(got))
		}
		if err := record(nil); err != nil {
			t.Fatal(err)
		}
		if got := e.MustQuery(p, audit.Filter{}); len(got) != 2 || got[1].Seq != 2 {
			t.Fatalf("entries after a committed tx = %d, want 2 with the new one at seq 2", len(got))
		}
		if b := e.MustVerify(p); b != nil {
			t.Fatalf("Verify = %v", b)
		}
	})
}

// TestAuditSealMatchesComputeHash appends entries with awkward fields
// (multibyte text, empty and absent fields, a time with nanoseconds, a time
// before the chain's last) inside a transaction and on their own; on
// PostgreSQL the database seals them (carebook_audit_hash), and each stored
// Hash must be what audit.Entry.ComputeHash makes of the stored fields, At
// never decreasing along the chain.
func TestAuditSealMatchesComputeHash(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		e, p, _ := auditEnv(t, s, 1)
		patient := uuid.Must(uuid.NewV7())
		odd := []audit.Entry{
			{PracticeID: p, Actor: "Zoë Ångström 日本", Action: "patient.read", PatientID: &patient, Outcome: audit.Allowed,
				ResourceID: "é", UserAgent: "Mozilla/5.0 (X11; Linux) \"quoted\" 'single' \\ back"},
			{PracticeID: p, Actor: "system:export", Action: "export", Outcome: audit.Failed},
			{PracticeID: p, Actor: "a", Action: "login.failed", Outcome: audit.Denied, IP: "2001:db8::1", RequestID: "r\tq\nx"},
		}
		err := s.InTx(t.Context(), func(ctx context.Context) error {
			for i, x := range odd {
				if i == 1 {
					e.Clock.Advance(-time.Hour) // earlier than the last entry: At is raised
				}
				if _, err := e.Service.Record(ctx, x); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(time.Hour + 1234*time.Nanosecond)
		alone, err := e.Service.Record(t.Context(), odd[0])
		if err != nil {
			t.Fatal(err)
		}
		got := e.MustQuery(p, audit.Filter{})
		if len(got) != 5 {
			t.Fatalf("%d entries, want 5", len(got))
		}
		if last := got[4]; alone.Seq != 5 || alone.Hash != last.Hash || !alone.At.Equal(last.At) || alone.PrevHash != got[3].Hash {
			t.Errorf("Record on its own returned seq %d hash %s at %v; stored seq 5 hash %s at %v", alone.Seq, alone.Hash, alone.At, last.Hash, last.At)
		}
		for i, g := range got {
			if h := g.ComputeHash(); h != g.Hash {
				t.Errorf("entry %d: stored hash %s, ComputeHash %s", g.Seq, g.Hash, h)
			}
			if i > 0 && g.At.Before(got[i-1].At) {
				t.Errorf("entry %d at %v, before entry %d at %v", g.Seq, g.At, got[i-1].Seq, got[i-1].At)
			}
			if g.At.Nanosecond()%1000 != 0 {
				t.Errorf("entry %d at %v, not to the microsecond", g.Seq, g.At)
			}
		}
		if !got[2].At.Equal(got[1].At) {
			t.Errorf("entry 3 at %v, want raised to entry 2's %v", got[2].At, got[1].At)
		}
		if b := e.MustVerify(p); b != nil {
			t.Fatalf("Verify = %v", b)
		}
	})
}
