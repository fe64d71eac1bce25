package schedtest

import (
	"context"
	"errors"
	"testing"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
)

// blockCalls is a BlockObserver that records what it is told and fails
// with err when set.
type blockCalls struct {
	calls [][2]*scheduling.Block
	err   error
}

func (o *blockCalls) BlockChanged(_ context.Context, before, after *scheduling.Block) error {
	o.calls = append(o.calls, [2]*scheduling.Block{before, after})
	return o.err
}

// testBlockObserver: a block observer hears of each block created,
// changed and deleted, with the block before and after; a refused change
// tells it nothing, and its error undoes the change.
func testBlockObserver(t *testing.T, w *world) {
	obs := &blockCalls{}
	svc := scheduling.NewService(w.st.Scheduling, w.st.Tenants, w.clock, clock.UUIDv7{}, scheduling.WithBlockObserver(obs))
	sunday := func(from, to string) scheduling.BlockInput {
		return scheduling.BlockInput{LocationID: w.location.ID, Start: w.at(6, from), End: w.at(6, to)}
	}
	last := func(what string, before, after *scheduling.Block) {
		t.Helper()
		if len(obs.calls) == 0 {
			t.Fatalf("%s: the observer was not told", what)
		}
		got := obs.calls[len(obs.calls)-1]
		for i, want := range []*scheduling.Block{before, after} {
			if (got[i] == nil) != (want == nil) || want != nil && (got[i].ID != want.ID || !got[i].End.Equal(want.End)) {
				t.Errorf("%s: told %+v, want %+v", what, got, [2]*scheduling.Block{before, after})
			}
		}
	}
	wantTold := func(what string, n int) {
		t.Helper()
		if len(obs.calls) != n {
			t.Fatalf("%s: the observer was told %d times, want %d", what, len(obs.calls), n)
		}
	}

	b := must(svc.CreateBlock(w.ctx, w.practice.ID, scheduling.NewBlock{ProviderID: w.prov.ID, BlockInput: sunday("10:00", "12:00")}))(t)
	last("CreateBlock", nil, b)
	_, err := svc.CreateBlock(w.ctx, w.practice.ID, scheduling.NewBlock{ProviderID: w.prov.ID, BlockInput: sunday("11:00", "13:00")})
	wantKind(t, err, errs.KindConflict, "start")
	wantTold("a refused CreateBlock", 1)
	shorter := must(svc.UpdateBlock(w.ctx, w.practice.ID, b.ID, sunday("10:00", "11:00")))(t)
	last("UpdateBlock", b, shorter)

	boom := errors.New("boom")
	obs.err = boom
	if _, err := svc.CreateBlock(w.ctx, w.practice.ID, scheduling.NewBlock{ProviderID: w.prov.ID, BlockInput: sunday("14:00", "15:00")}); !errors.Is(err, boom) {
		t.Fatalf("CreateBlock with a failing observer: %v", err)
	}
	if _, err := svc.UpdateBlock(w.ctx, w.practice.ID, b.ID, sunday("10:00", "10:30")); !errors.Is(err, boom) {
		t.Fatalf("UpdateBlock with a failing observer: %v", err)
	}
	if err := svc.DeleteBlock(w.ctx, w.practice.ID, b.ID); !errors.Is(err, boom) {
		t.Fatalf("DeleteBlock with a failing observer: %v", err)
	}
	wantTold("the failing changes", 5)
	got := must(svc.Block(w.ctx, w.practice.ID, b.ID))(t)
	if !got.End.Equal(shorter.End) {
		t.Errorf("after a failed UpdateBlock the block ends %v, want %v", got.End, shorter.End)
	}
	all := must(svc.Blocks(w.ctx, w.practice.ID, scheduling.BlockFilter{}))(t)
	if len(all) != 2 {
		t.Errorf("blocks after a failed CreateBlock and DeleteBlock = %d, want 2 (the world's and this one)", len(all))
	}

	obs.err = nil
	if err := svc.DeleteBlock(w.ctx, w.practice.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	last("DeleteBlock", shorter, nil)
}
