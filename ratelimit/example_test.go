package ratelimit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/ratelimit"
	"github.com/carebook/carebook/ratelimit/ratelimittest"
)

// A practice may make 3 API requests a minute: a burst of 3, then one more
// every 20 seconds. The store here is in memory; across replicas it is
// sqlstore.RateLimits.
func ExampleLimiter_Allow() {
	ctx := context.Background()
	clk := clock.NewFixed(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	lm := ratelimit.New(ratelimittest.NewMemory(), clk)
	limit, err := ratelimit.ParseLimit("api_rate_limit", "3/1m")
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 4 {
		d, _ := lm.Allow(ctx, "api:practice:1", limit, 1)
		fmt.Printf("allowed %v, remaining %d, retry after %v\n", d.Allowed, d.Remaining, d.RetryAfter)
	}
	clk.Advance(20 * time.Second)
	d, _ := lm.Allow(ctx, "api:practice:1", limit, 1)
	fmt.Println("20 s later:", d.Allowed)
	// Output:
	// allowed true, remaining 2, retry after 0s
	// allowed true, remaining 1, retry after 0s
	// allowed true, remaining 0, retry after 0s
	// allowed false, remaining 0, retry after 20s
	// 20 s later: true
}
