package audittest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

func testAppendChains(e *Env) {
	p := e.MustPractice()
	if h, err := e.Store.Head(e.Ctx, p); err != nil || h.Seq != 0 || h.Hash != audit.ZeroHash {
		e.T.Fatalf("Head of an empty chain = %+v, %v; want seq 0 and ZeroHash", h, err)
	}
	rec := e.MustRecord(p, "patient.read", 3)
	got := e.MustQuery(p, audit.Filter{})
	if len(got) != 3 {
		e.T.Fatalf("Query returned %d entries, want 3", len(got))
	}
	prev := audit.ZeroHash
	for i, g := range got {
		if g.Seq != int64(i+1) {
			e.T.Errorf("entry %d: Seq = %d, want %d", i, g.Seq, i+1)
		}
		if g.PrevHash != prev {
			e.T.Errorf("entry %d: PrevHash = %s, want %s", i, g.PrevHash, prev)
		}
		if g.Hash != g.ComputeHash() || g.Hash != rec[i].Hash {
			e.T.Errorf("entry %d: Hash = %s, want the hash of its fields %s as recorded %s", i, g.Hash, g.ComputeHash(), rec[i].Hash)
		}
		if g.At.Location() != time.UTC {
			e.T.Errorf("entry %d: At in %v, want UTC", i, g.At.Location())
		}
		if g.ID != rec[i].ID || g.Action != "patient.read" || g.IP != "192.0.2.1" || g.Outcome != audit.Allowed {
			e.T.Errorf("entry %d = %+v, want it as recorded %+v", i, g, rec[i])
		}
		prev = g.Hash
	}
	h, err := e.Store.Head(e.Ctx, p)
	if err != nil || h.Seq != 3 || h.Hash != prev {
		e.T.Fatalf("Head = %+v, %v; want seq 3, hash %s", h, err, prev)
	}
	if b := e.MustVerify(p); b != nil {
		e.T.Fatalf("Verify = %v, want nil", b)
	}
}

func testPracticesHaveOwnChains(e *Env) {
	p1, p2 := e.MustPractice(), e.MustPractice()
	e.MustRecord(p1, "login", 2)
	e.MustRecord(p2, "login", 1)
	e.MustRecord(p1, "logout", 1)
	for _, c := range []struct {
		p    uuid.UUID
		want int
	}{{p1, 3}, {p2, 1}} {
		got := e.MustQuery(c.p, audit.Filter{})
		if len(got) != c.want {
			e.T.Fatalf("practice has %d entries, want %d", len(got), c.want)
		}
		for i, g := range got {
			if g.PracticeID != c.p || g.Seq != int64(i+1) {
				e.T.Fatalf("entry %d: practice %s seq %d; want practice %s seq %d", i, g.PracticeID, g.Seq, c.p, i+1)
			}
		}
		if b := e.MustVerify(c.p); b != nil {
			e.T.Fatalf("Verify = %v, want nil", b)
		}
	}
}

func testRecordRefusesBadInput(e *Env) {
	p := e.MustPractice()
	for _, c := range []struct {
		field string
		mod   func(*audit.Entry)
	}{
		{"practice_id", func(x *audit.Entry) { x.PracticeID = uuid.Nil }},
		{"actor", func(x *audit.Entry) { x.Actor = " " }},
		{"action", func(x *audit.Entry) { x.Action = "" }},
		{"outcome", func(x *audit.Entry) { x.Outcome = "maybe" }},
		{"outcome", func(x *audit.Entry) { x.Outcome = "" }},
	} {
		x := Entry(p, "login")
		c.mod(&x)
		_, err := e.Service.Record(e.Ctx, x)
		wantKind(e.T, err, errs.KindInvalid)
		if got := errs.FieldOf(err); got != c.field {
			e.T.Errorf("Field = %q, want %q", got, c.field)
		}
	}
	if got := e.MustQuery(p, audit.Filter{}); len(got) != 0 {
		e.T.Fatalf("bad input wrote %d entries", len(got))
	}
	_, err := e.Service.Query(e.Ctx, p, audit.Filter{Limit: audit.MaxLimit + 1})
	wantKind(e.T, err, errs.KindInvalid)
}

func testAppendUnknownPractice(e *Env) {
	_, err := e.Service.Record(e.Ctx, Entry(uuid.Must(uuid.NewV7()), "login"))
	wantKind(e.T, err, errs.KindNotFound)
}

func testAtNeverDecreases(e *Env) {
	p := e.MustPractice()
	first := e.MustRecord(p, "login", 1)[0]
	x := Entry(p, "login")
	x.ID, x.At = uuid.Must(uuid.NewV7()), first.At.Add(-time.Hour)
	if err := e.Store.Append(e.Ctx, &x); err != nil {
		e.T.Fatal(err)
	}
	got := e.MustQuery(p, audit.Filter{AfterSeq: 1})
	if len(got) != 1 || !got[0].At.Equal(first.At) {
		e.T.Fatalf("an entry dated before its predecessor got At %v, want %v", got[0].At, first.At)
	}
	if b := e.MustVerify(p); b != nil {
		e.T.Fatalf("Verify = %v", b)
	}
}

func testQueryFilters(e *Env) {
	p, other := e.MustPractice(), e.MustPractice()
	patient := uuid.Must(uuid.NewV7())
	add := func(actor, action string, o audit.Outcome, pat *uuid.UUID) {
		e.T.Helper()
		x := Entry(p, action)
		x.Actor, x.Outcome, x.PatientID = actor, o, pat
		if _, err := e.Service.Record(e.Ctx, x); err != nil {
			e.T.Fatal(err)
		}
		e.Clock.Advance(time.Hour)
	}
	add("a", "login", audit.Allowed, nil)             // 1, 10:00
	add("b", "login.failed", audit.Failed, nil)       // 2, 11:00
	add("a", "patient.read", audit.Allowed, &patient) // 3, 12:00
	add("b", "patient.read", audit.Denied, &patient)  // 4, 13:00
	add("a", "appointment.book", audit.Allowed, nil)  // 5, 14:00
	e.MustRecord(other, "patient.read", 2)

	for _, c := range []struct {
		name string
		f    audit.Filter
		want []int64
	}{
		{"all", audit.Filter{}, []int64{1, 2, 3, 4, 5}},
		{"actor", audit.Filter{Actor: "a"}, []int64{1, 3, 5}},
		{"patient", audit.Filter{PatientID: &patient}, []int64{3, 4}},
		{"action", audit.Filter{Action: "patient.read"}, []int64{3, 4}},
		{"outcome", audit.Filter{Outcome: audit.Denied}, []int64{4}},
		{"from-to", audit.Filter{From: Day0.Add(11 * time.Hour), To: Day0.Add(13 * time.Hour)}, []int64{2, 3}},
		{"cursor", audit.Filter{AfterSeq: 3}, []int64{4, 5}},
		{"limit", audit.Filter{AfterSeq: 1, Limit: 2}, []int64{2, 3}},
		{"combined", audit.Filter{Actor: "a", Outcome: audit.Allowed, AfterSeq: 1, Limit: 1}, []int64{3}},
	} {
		got := e.MustQuery(p, c.f)
		seqs := make([]int64, len(got))
		for i, g := range got {
			seqs[i] = g.Seq
			if g.PracticeID != p {
				e.T.Errorf("%s: an entry of another practice", c.name)
			}
		}
		if fmt.Sprint(seqs) != fmt.Sprint(c.want) {
			e.T.Errorf("%s: seqs = %v, want %v", c.name, seqs, c.want)
		}
	}
	if got := e.MustQuery(p, audit.Filter{Actor: "nobody"}); got == nil || len(got) != 0 {
		e.T.Errorf("Query with no match = %#v, want an empty non-nil slice", got)
	}
}

func testTxCommitsTogether(e *Env) {
	p := e.MustPractice()
	err := e.Store.InTx(e.Ctx, func(ctx context.Context) error {
		svc := e.Service
		for range 2 {
			if _, err := svc.Record(ctx, Entry(p, "appointment.book")); err != nil {
				return err
			}
		}
		// A nested InTx runs in the same transaction.
		return e.Store.InTx(ctx, func(ctx context.Context) error {
			_, err := e.Service.Record(ctx, Entry(p, "appointment.book"))
			return err
		})
	})
	if err != nil {
		e.T.Fatal(err)
	}
	if got := e.MustQuery(p, audit.Filter{}); len(got) != 3 {
		e.T.Fatalf("%d entries after commit, want 3", len(got))
	}
	if b := e.MustVerify(p); b != nil {
		e.T.Fatalf("Verify = %v", b)
	}
}

func testTxRollbackLeavesNoTrace(e *Env) {
	p := e.MustPractice()
	e.MustRecord(p, "login", 1)
	boom := errors.New("boom")
	err := e.Store.InTx(e.Ctx, func(ctx context.Context) error {
		if _, err := e.Service.Record(ctx, Entry(p, "appointment.book")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		e.T.Fatalf("InTx = %v, want boom", err)
	}
	if got := e.MustQuery(p, audit.Filter{}); len(got) != 1 {
		e.T.Fatalf("%d entries after rollback, want 1", len(got))
	}
	if h, err := e.Store.Head(e.Ctx, p); err != nil || h.Seq != 1 {
		e.T.Fatalf("Head after rollback = %+v, %v; want seq 1", h, err)
	}
	e.MustRecord(p, "login", 1)
	if b := e.MustVerify(p); b != nil {
		e.T.Fatalf("Verify = %v", b)
	}
}

// Appenders is how many goroutines append at once in the concurrency tests.
const Appenders = 64

func testConcurrentAppends(e *Env) {
	p := e.MustPractice()
	appendAll(e, []uuid.UUID{p})
	got := e.MustQuery(p, audit.Filter{})
	if len(got) != Appenders {
		e.T.Fatalf("%d entries, want %d", len(got), Appenders)
	}
	if b := e.MustVerify(p); b != nil {
		e.T.Fatalf("Verify = %v", b)
	}
}

func testConcurrentPractices(e *Env) {
	ps := []uuid.UUID{e.MustPractice(), e.MustPractice(), e.MustPractice(), e.MustPractice()}
	appendAll(e, ps)
	for _, p := range ps {
		if got := e.MustQuery(p, audit.Filter{}); len(got) != Appenders/len(ps) {
			e.T.Fatalf("%d entries, want %d", len(got), Appenders/len(ps))
		}
		if b := e.MustVerify(p); b != nil {
			e.T.Fatalf("Verify = %v", b)
		}
	}
}

// appendAll runs Appenders goroutines, spread over practices, that append
// one entry each, all released at once.
func appendAll(e *Env, practices []uuid.UUID) {
	e.T.Helper()
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errc  = make(chan error, Appenders)
	)
	for i := range Appenders {
		wg.Go(func() {
			<-start
			_, err := e.Service.Record(e.Ctx, Entry(practices[i%len(practices)], "patient.read"))
			errc <- err
		})
	}
	close(start)
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			e.T.Fatalf("concurrent Record: %v", err)
		}
	}
}

func testVerifyReadsPages(e *Env) {
	p := e.MustPractice()
	const n = 620
	err := e.Store.InTx(e.Ctx, func(ctx context.Context) error {
		svc := e.Service
		for range n {
			if _, err := svc.Record(ctx, Entry(p, "patient.read")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.T.Fatal(err)
	}
	cs := &countingStore{Store: e.Store}
	b, err := audit.Verify(e.Ctx, cs, p)
	if err != nil || b != nil {
		e.T.Fatalf("Verify = %v, %v", b, err)
	}
	if len(cs.queries) < 2 {
		e.T.Fatalf("Verify read %d pages, want at least 2", len(cs.queries))
	}
	for _, f := range cs.queries {
		if f.Limit <= 0 || f.Limit >= n {
			e.T.Fatalf("Verify read a page of limit %d, want pages smaller than the chain", f.Limit)
		}
	}
}
