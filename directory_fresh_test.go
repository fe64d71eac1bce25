package carebook_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
)

// block returns Bones's one block (09:00 to 17:00 daily from March 2).
func (l *listed) block(t *testing.T) *scheduling.Block {
	t.Helper()
	bs, err := l.e.Scheduling.Blocks(l.staff, l.practice, scheduling.BlockFilter{ProviderIDs: []scheduling.ProviderID{l.bones}})
	require.NoError(t, err)
	require.Len(t, bs, 1)
	return bs[0]
}

// daily is the input of Bones's block, changed by edit.
func (l *listed) daily(edit func(in *scheduling.BlockInput)) scheduling.BlockInput {
	in := scheduling.BlockInput{LocationID: l.brooklyn, Start: l.at(3, 2, 9, 0), End: l.at(3, 2, 17, 0), RRule: "FREQ=DAILY;COUNT=60"}
	if edit != nil {
		edit(&in)
	}
	return in
}

// shown returns the next open time the directory shows of Bones at
// Brooklyn, nil for none, in the clinic's zone: the same in a search and
// on the provider's page, and bookable; the job never runs here.
func (l *listed) shown(t *testing.T) *time.Time {
	t.Helper()
	hits := l.backPain(t)
	require.Len(t, hits, 1)
	l.bookable(t, hits)
	h, err := l.e.DirectoryProvider(context.Background(), l.bones)
	require.NoError(t, err)
	require.Equal(t, hits[0].Location.NextOpen, h.Location.NextOpen, "search and the provider's page agree")
	if at := hits[0].Location.NextOpen; at != nil {
		in := at.In(l.loc)
		return &in
	}
	return nil
}

// TestDirectoryNextOpenFollowsBlocks: a change of an availability block
// through the engine (deleted, shortened, a day off, a one-day change, a
// new block earlier than the next open time) moves the next open time the
// directory shows in the change's transaction, without the refresh job.
func TestDirectoryNextOpenFollowsBlocks(t *testing.T) {
	tomorrow := func(l *listed) *time.Time { at := l.at(3, 3, 9, 0); return &at }
	cases := []struct {
		name   string
		change func(t *testing.T, l *listed) error
		want   func(l *listed) *time.Time
	}{
		{"deleted", func(t *testing.T, l *listed) error {
			return l.e.Scheduling.DeleteBlock(l.staff, l.practice, l.block(t).ID)
		}, func(*listed) *time.Time { return nil }},
		{"shortened", func(t *testing.T, l *listed) error {
			_, err := l.e.Scheduling.UpdateBlock(l.staff, l.practice, l.block(t).ID, l.daily(func(in *scheduling.BlockInput) {
				in.End = l.at(3, 2, 13, 0)
			}))
			return err
		}, tomorrow},
		{"day off", func(t *testing.T, l *listed) error {
			_, err := l.e.Scheduling.UpdateBlock(l.staff, l.practice, l.block(t).ID, l.daily(func(in *scheduling.BlockInput) {
				in.ExDates = []string{"2026-03-02"}
			}))
			return err
		}, tomorrow},
		{"one-day change", func(t *testing.T, l *listed) error {
			_, err := l.e.Scheduling.UpdateBlock(l.staff, l.practice, l.block(t).ID, l.daily(func(in *scheduling.BlockInput) {
				in.Overrides = []scheduling.Override{{Date: "2026-03-02", Start: "09:00", End: "13:00"}}
			}))
			return err
		}, tomorrow},
		{"new earlier block", func(t *testing.T, l *listed) error {
			_, err := l.e.Scheduling.UpdateBlock(l.staff, l.practice, l.block(t).ID, l.daily(func(in *scheduling.BlockInput) {
				in.ExDates = []string{"2026-03-02"}
			}))
			require.NoError(t, err)
			require.Equal(t, tomorrow(l), l.shown(t))
			_, err = l.e.Scheduling.CreateBlock(l.staff, l.practice, scheduling.NewBlock{ProviderID: l.bones, BlockInput: scheduling.BlockInput{
				LocationID: l.brooklyn, Start: l.at(3, 2, 18, 0), End: l.at(3, 2, 19, 0)}})
			return err
		}, func(l *listed) *time.Time { at := l.at(3, 2, 18, 0); return &at }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
				l := newListed(t, st)
				l.publish(t)
				at := l.at(3, 2, 14, 0)
				require.Equal(t, &at, l.shown(t))
				require.NoError(t, c.change(t, l))
				require.Equal(t, c.want(l), l.shown(t))
			})
		})
	}
}

// TestDirectoryNextOpenFollowsPolicy: raising the practice's minimum
// notice past the next open time moves it (and until when it is shown) in
// the change's transaction, also in a transaction whose context lets
// bookings take the policy from the cache (scheduling.CacheInTx); lowering
// it brings an earlier one back.
func TestDirectoryNextOpenFollowsPolicy(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		l := newListed(t, st)
		l.publish(t)
		at := l.at(3, 2, 14, 0)
		require.Equal(t, &at, l.shown(t))
		for _, c := range []struct {
			notice time.Duration
			cached bool
			want   time.Time
		}{{4 * time.Hour, false, l.at(3, 2, 16, 0)}, {26 * time.Hour, true, l.at(3, 3, 14, 0)}, {time.Hour, false, l.at(3, 2, 13, 0)}} {
			pr, err := l.e.Tenants.Practice(l.staff, l.practice)
			require.NoError(t, err)
			pol := pr.Policy
			pol.MinNotice = c.notice
			if c.cached {
				require.NoError(t, l.e.InTx(scheduling.CacheInTx(l.admin), func(ctx context.Context) error {
					return l.e.Tenants.SetPolicy(ctx, l.practice, pol)
				}))
			} else {
				require.NoError(t, l.e.Tenants.SetPolicy(l.admin, l.practice, pol))
			}
			require.Equal(t, &c.want, l.shown(t), "minimum notice %v", c.notice)
			h, err := l.e.DirectoryProvider(context.Background(), l.bones)
			require.NoError(t, err)
			require.NotNil(t, h.Location.NextOpenUntil)
			require.Equal(t, c.want.Add(-c.notice).UTC(), h.Location.NextOpenUntil.UTC(), "shown until the notice begins")
		}
	})
}

// TestDirectoryChangeRollsBack: a block change and a policy change in a
// transaction that fails leave the directory as it was.
func TestDirectoryChangeRollsBack(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		l := newListed(t, st)
		l.publish(t)
		at := l.at(3, 2, 14, 0)
		require.Equal(t, &at, l.shown(t))
		boom, id := errors.New("boom"), l.block(t).ID
		err := l.e.InTx(l.staff, func(ctx context.Context) error {
			if err := l.e.Scheduling.DeleteBlock(ctx, l.practice, id); err != nil {
				return err
			}
			pr, err := l.e.Tenants.Practice(ctx, l.practice)
			if err != nil {
				return err
			}
			pol := pr.Policy
			pol.MinNotice = 26 * time.Hour
			if err := l.e.Tenants.SetPolicy(ctx, l.practice, pol); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.Equal(t, &at, l.shown(t))
	})
}

// directoryWrites records the statements a database runs on the
// directory's tables.
type directoryWrites struct {
	mu           sync.Mutex
	reads, write []string
}

func (d *directoryWrites) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (d *directoryWrites) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	q := strings.TrimSpace(e.Query)
	if !strings.Contains(q, "directory_") {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if strings.HasPrefix(strings.ToUpper(q), "SELECT") {
		d.reads = append(d.reads, q)
	} else {
		d.write = append(d.write, q)
	}
}

// TestDirectoryUnpublishedChangesWriteNothing: the block and policy
// changes of a practice that is not published (never, or no longer) write
// nothing to the directory and read it at most twice each; the provider
// stays unlisted.
func TestDirectoryUnpublishedChangesWriteNothing(t *testing.T) {
	for _, c := range []struct {
		name    string
		prepare func(t *testing.T, l *listed)
	}{
		{"never published", func(*testing.T, *listed) {}},
		{"unpublished", func(t *testing.T, l *listed) {
			l.publish(t)
			require.NoError(t, l.e.PublishDirectory(l.admin, l.practice, false))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
				l := newListed(t, st)
				c.prepare(t, l)
				hook := &directoryWrites{}
				//lint:ignore SA1019 the store's own *bun.DB must run the hook; WithQueryHook hooks only a copy
				st.DB().AddQueryHook(hook)
				changes := []func() error{
					func() error {
						_, err := l.e.Scheduling.UpdateBlock(l.staff, l.practice, l.block(t).ID, l.daily(func(in *scheduling.BlockInput) {
							in.End = l.at(3, 2, 13, 0)
						}))
						return err
					},
					func() error { return l.e.Scheduling.DeleteBlock(l.staff, l.practice, l.block(t).ID) },
					func() error {
						_, err := l.e.Scheduling.CreateBlock(l.staff, l.practice, scheduling.NewBlock{ProviderID: l.bones,
							BlockInput: scheduling.BlockInput{LocationID: l.brooklyn, Start: l.at(3, 2, 18, 0), End: l.at(3, 2, 19, 0)}})
						return err
					},
					func() error {
						return l.e.Tenants.SetPolicy(l.admin, l.practice, tenant.BookingPolicy{MinNotice: 4 * time.Hour})
					},
				}
				for i, change := range changes {
					hook.mu.Lock()
					hook.reads, hook.write = nil, nil
					hook.mu.Unlock()
					require.NoError(t, change(), "change %d", i)
					hook.mu.Lock()
					require.Empty(t, hook.write, "change %d wrote to the directory", i)
					require.LessOrEqual(t, len(hook.reads), 2, "change %d read the directory: %q", i, hook.reads)
					hook.mu.Unlock()
				}
				_, err := l.e.DirectoryProvider(context.Background(), l.bones)
				require.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
				hits, err := l.e.SearchDirectory(context.Background(), directory.Query{Near: &directory.Point{Lat: 40.6937, Lon: -73.9897}, RadiusKm: 10})
				require.NoError(t, err)
				require.Empty(t, hits)
			})
		})
	}
}
