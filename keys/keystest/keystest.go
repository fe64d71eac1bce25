// Package keystest is the conformance suite of keys.Store. Every storage
// adapter runs it against each database it supports; an adapter that
// passes keeps the promises made in the doc comments of keys.Store.
package keystest

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/keys"
	"github.com/google/uuid"
)

// Run runs the suite. Each subtest calls open for a store on a fresh,
// empty database; open registers its own clean-up and fails t if it cannot.
func Run(t *testing.T, open func(t *testing.T) keys.Store) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open(t)) })
	}
}

var cases = []struct {
	name string
	fn   func(t *testing.T, s keys.Store)
}{
	{"CreateAndRead", testCreateAndRead},
	{"CreateTwice", testCreateTwice},
	{"NotFound", testNotFound},
	{"UpdateVersion", testUpdateVersion},
	{"Rewrap", testRewrap},
	{"List", testList},
	{"Shred", testShred},
	{"AddKeyset", testAddKeyset},
}

func pair(practice uuid.UUID, master string) []*keys.Wrapped {
	return []*keys.Wrapped{
		{Practice: practice, Purpose: keys.PurposeSeal, MasterID: master, Keyset: []byte("seal of " + practice.String())},
		{Practice: practice, Purpose: keys.PurposeIndex, MasterID: master, Keyset: []byte("index of " + practice.String())},
	}
}

func mustCreate(t *testing.T, s keys.Store, ws []*keys.Wrapped) {
	t.Helper()
	if err := s.CreateKeysets(context.Background(), ws); err != nil {
		t.Fatalf("CreateKeysets: %v", err)
	}
}

func mustRead(t *testing.T, s keys.Store, practice uuid.UUID) []*keys.Wrapped {
	t.Helper()
	ws, shredded, err := s.Keysets(context.Background(), practice)
	if err != nil || shredded {
		t.Fatalf("Keysets(%s) = shredded %v, %v; want keysets", practice, shredded, err)
	}
	return ws
}

func wantKind(t *testing.T, what string, err error, k errs.Kind) {
	t.Helper()
	if err == nil || errs.KindOf(err) != k {
		t.Fatalf("%s: err = %v, want kind %v", what, err, k)
	}
}

func testCreateAndRead(t *testing.T, s keys.Store) {
	p, other := uuid.New(), uuid.New()
	mustCreate(t, s, pair(p, "m1"))
	mustCreate(t, s, pair(other, "m1"))
	ws := mustRead(t, s, p)
	if len(ws) != 2 {
		t.Fatalf("read %d keysets, want 2", len(ws))
	}
	// Ordered by purpose: "index" before "seal".
	want := pair(p, "m1")
	for i, w := range ws {
		exp := want[1-i]
		if w.Practice != p || w.Purpose != exp.Purpose || w.MasterID != "m1" || !bytes.Equal(w.Keyset, exp.Keyset) || w.Version != 1 {
			t.Errorf("keyset %d = %+v, want %+v at version 1", i, w, exp)
		}
	}
}

func testCreateTwice(t *testing.T, s keys.Store) {
	p := uuid.New()
	mustCreate(t, s, pair(p, "m1"))
	wantKind(t, "CreateKeysets again", s.CreateKeysets(context.Background(), pair(p, "m2")), errs.KindConflict)
	if ws := mustRead(t, s, p); ws[0].MasterID != "m1" {
		t.Errorf("the second create changed the keysets: %+v", ws[0])
	}
}

func testNotFound(t *testing.T, s keys.Store) {
	_, _, err := s.Keysets(context.Background(), uuid.New())
	wantKind(t, "Keysets of an unknown practice", err, errs.KindNotFound)
	w := pair(uuid.New(), "m1")[0]
	w.Version = 1
	wantKind(t, "UpdateKeyset of an unknown keyset", s.UpdateKeyset(context.Background(), w), errs.KindNotFound)
}

func testUpdateVersion(t *testing.T, s keys.Store) {
	ctx := context.Background()
	p := uuid.New()
	mustCreate(t, s, pair(p, "m1"))
	a, b := mustRead(t, s, p)[1], mustRead(t, s, p)[1] // the seal keyset, read twice
	a.Keyset, a.MasterID = []byte("rotated"), "m2"
	if err := s.UpdateKeyset(ctx, a); err != nil {
		t.Fatalf("UpdateKeyset: %v", err)
	}
	if a.Version != 2 {
		t.Errorf("after the update, Version = %d, want 2", a.Version)
	}
	b.Keyset = []byte("lost")
	wantKind(t, "UpdateKeyset at a stale version", s.UpdateKeyset(ctx, b), errs.KindConflict)
	got := mustRead(t, s, p)[1]
	if string(got.Keyset) != "rotated" || got.MasterID != "m2" || got.Version != 2 {
		t.Errorf("stored %+v, want the first update at version 2", got)
	}
	if idx := mustRead(t, s, p)[0]; idx.Version != 1 {
		t.Errorf("the index keyset's version moved to %d", idx.Version)
	}
}

func testRewrap(t *testing.T, s keys.Store) {
	ctx := context.Background()
	p, q := uuid.New(), uuid.New()
	mustCreate(t, s, pair(p, "m1"))
	mustCreate(t, s, pair(q, "m1"))
	ws := append(mustRead(t, s, p), mustRead(t, s, q)...)
	// q's seal keyset changes first: its rewrap must not apply.
	stale := mustRead(t, s, q)[1]
	stale.Keyset = []byte("rotated")
	if err := s.UpdateKeyset(ctx, stale); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		w.Keyset, w.MasterID = append([]byte("rewrapped "), w.Keyset...), "m2"
	}
	n, err := s.Rewrap(ctx, ws)
	if err != nil || n != 3 {
		t.Fatalf("Rewrap = %d, %v; want 3 rewrapped", n, err)
	}
	for _, got := range append(mustRead(t, s, p), mustRead(t, s, q)...) {
		switch {
		case got.Practice == q && got.Purpose == keys.PurposeSeal:
			if string(got.Keyset) != "rotated" || got.MasterID != "m1" || got.Version != 2 {
				t.Errorf("the changed keyset was rewrapped: %+v", got)
			}
		case !bytes.HasPrefix(got.Keyset, []byte("rewrapped ")) || got.MasterID != "m2" || got.Version != 2:
			t.Errorf("keyset %s/%s = %q master %s version %d, want rewrapped by m2 at version 2", got.Practice, got.Purpose, got.Keyset, got.MasterID, got.Version)
		}
	}
	if n, err := s.Rewrap(ctx, nil); err != nil || n != 0 {
		t.Errorf("Rewrap(nil) = %d, %v", n, err)
	}
}

func testList(t *testing.T, s keys.Store) {
	ctx := context.Background()
	var practices []uuid.UUID
	for i := range 5 {
		p := uuid.New()
		practices = append(practices, p)
		mustCreate(t, s, pair(p, map[bool]string{true: "new", false: "old"}[i%2 == 0]))
	}
	shredded := uuid.New()
	mustCreate(t, s, pair(shredded, "old"))
	if err := s.Shred(ctx, shredded); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(practices, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })

	var got []*keys.Wrapped
	page := keys.Page{Limit: 3}
	for range 10 {
		ws, err := s.List(ctx, page)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(ws) > 3 {
			t.Fatalf("List returned %d, over its limit 3", len(ws))
		}
		if len(ws) == 0 {
			break
		}
		got = append(got, ws...)
		page.AfterPractice, page.AfterPurpose = ws[len(ws)-1].Practice, ws[len(ws)-1].Purpose
	}
	if len(got) != 10 {
		t.Fatalf("listed %d keysets in pages, want 10 (the shredded practice left out)", len(got))
	}
	for i, w := range got {
		wantP, wantPurpose := practices[i/2], []keys.Purpose{keys.PurposeIndex, keys.PurposeSeal}[i%2]
		if w.Practice != wantP || w.Purpose != wantPurpose {
			t.Errorf("keyset %d = %s/%s, want %s/%s", i, w.Practice, w.Purpose, wantP, wantPurpose)
		}
	}
	ws, err := s.List(ctx, keys.Page{NotMaster: "new", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 4 {
		t.Errorf("listed %d keysets not wrapped by master new, want 4", len(ws))
	}
	for _, w := range ws {
		if w.MasterID != "old" {
			t.Errorf("NotMaster listed a keyset of master %s", w.MasterID)
		}
	}
	_, err = s.List(ctx, keys.Page{})
	wantKind(t, "List without a limit", err, errs.KindInvalid)
}

func testShred(t *testing.T, s keys.Store) {
	ctx := context.Background()
	p, other, never := uuid.New(), uuid.New(), uuid.New()
	mustCreate(t, s, pair(p, "m1"))
	mustCreate(t, s, pair(other, "m1"))
	for range 2 { // idempotent
		if err := s.Shred(ctx, p); err != nil {
			t.Fatalf("Shred: %v", err)
		}
	}
	ws, shredded, err := s.Keysets(ctx, p)
	if err != nil || !shredded || len(ws) != 0 {
		t.Fatalf("Keysets after Shred = %d keysets, shredded %v, %v; want shredded", len(ws), shredded, err)
	}
	wantKind(t, "CreateKeysets after Shred", s.CreateKeysets(ctx, pair(p, "m1")), errs.KindConflict)
	if ws, shredded, _ := s.Keysets(ctx, p); !shredded || len(ws) != 0 {
		t.Errorf("a shredded practice got keysets again")
	}
	if len(mustRead(t, s, other)) != 2 {
		t.Errorf("shredding one practice touched another's keysets")
	}
	if err := s.Shred(ctx, never); err != nil {
		t.Fatalf("Shred of a practice without keysets: %v", err)
	}
	if _, shredded, err := s.Keysets(ctx, never); err != nil || !shredded {
		t.Errorf("a practice shredded before it had keys: shredded %v, %v", shredded, err)
	}
	wantKind(t, "CreateKeysets after an early Shred", s.CreateKeysets(ctx, pair(never, "m1")), errs.KindConflict)
}

func testAddKeyset(t *testing.T, s keys.Store) {
	ctx := context.Background()
	p := uuid.New()
	stream := &keys.Wrapped{Practice: p, Purpose: keys.PurposeStream, MasterID: "m1", Keyset: []byte("stream of " + p.String())}
	wantKind(t, "AddKeyset to a practice without keys", s.AddKeyset(ctx, stream), errs.KindNotFound)
	mustCreate(t, s, pair(p, "m1"))
	if err := s.AddKeyset(ctx, stream); err != nil || stream.Version != 1 {
		t.Fatalf("AddKeyset = %v, version %d", err, stream.Version)
	}
	ws := mustRead(t, s, p)
	if len(ws) != 3 || ws[2].Purpose != keys.PurposeStream || !bytes.Equal(ws[2].Keyset, stream.Keyset) {
		t.Fatalf("keysets after AddKeyset = %+v, want index, seal, stream", ws)
	}
	again := *stream
	again.Keyset = []byte("another")
	wantKind(t, "AddKeyset of a purpose it has", s.AddKeyset(ctx, &again), errs.KindConflict)
	seal := pair(p, "m1")[0]
	wantKind(t, "AddKeyset of seal", s.AddKeyset(ctx, seal), errs.KindConflict)
	if err := s.Shred(ctx, p); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "AddKeyset to a shredded practice", s.AddKeyset(ctx, stream), errs.KindConflict)
}
