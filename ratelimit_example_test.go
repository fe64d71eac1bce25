package carebook_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/ratelimit"
	"github.com/google/uuid"
)

// Every practice may make 2 API requests a minute here; a billing plan
// would answer per practice (a PracticeLimits of its own). The counts are
// in the database, shared by every Engine over it.
func ExampleEngine_AllowAPIRequest() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "carebook-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	master, err := keys.OpenFile(filepath.Join(dir, "master-key.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := carebook.New(ctx,
		carebook.Config{DSN: "sqlite:" + filepath.Join(dir, "carebook.db"), Migrate: true, MasterKey: master},
		carebook.WithClock(clock.NewFixed(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))),
		carebook.WithPracticeLimits(carebook.FixedLimits{API: ratelimit.PerMinute(2)}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	practice := uuid.MustParse("0193a6d2-0000-7000-8000-000000000001")
	for range 3 {
		d, err := e.AllowAPIRequest(ctx, practice)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("allowed %v, remaining %d of %d, retry after %v\n", d.Allowed, d.Remaining, d.Limit.Max(), d.RetryAfter)
	}
	// Output:
	// allowed true, remaining 1 of 2, retry after 0s
	// allowed true, remaining 0 of 2, retry after 0s
	// allowed false, remaining 0 of 2, retry after 30s
}
