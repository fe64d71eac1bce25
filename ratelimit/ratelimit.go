// Package ratelimit bounds how often something may happen, across every
// replica of a service: a GCRA (generic cell rate algorithm) limiter whose
// state is one instant per key, the theoretical arrival time (TAT), kept by
// a Store in a shared database rather than in process memory.
//
// A Limit allows Rate events per Period on average and up to Burst at once.
// Each key is a bucket of Burst events, filled again at one event every
// Period/Rate. The TAT of a key is when its bucket will be full; an event
// of cost n is allowed when TAT' = max(TAT, now) + n·Period/Rate is at most
// now + Burst·Period/Rate, and then the TAT becomes TAT'. A refused event
// changes nothing. A key whose TAT is past is a full bucket, the same as a
// key never seen, so such keys can be swept at any time (Store.Sweep).
//
// Keys are strings the caller builds, a kind then the subject, so that
// limits of different things never share a bucket:
//
//	api:practice:<practice id>   the API requests of one practice
//	signin:ip:<client address>   sign-in and password-change attempts from one address
//	signin:account:<identifier>  those naming one account
//
// A key may be limited under different Limits over its life (a practice's
// plan changes): the TAT carries over and is read under the Limit given.
//
// Time comes from the Limiter's clock (package clock); the Store is told
// the instant, so that every replica decides on the same arithmetic and
// tests drive it without sleeping.
package ratelimit

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
)

// Limit is a rate of Rate events per Period with bursts of up to Burst
// events. The zero Limit is Off: it allows everything and costs no query.
type Limit struct {
	Rate   int           // events per Period; 0 with Period 0 is Off
	Period time.Duration // the period of Rate
	Burst  int           // events allowed at once; 0 means Rate
}

// PerMinute is a Limit of n events a minute with bursts of n.
func PerMinute(n int) Limit { return Limit{Rate: n, Period: time.Minute, Burst: n} }

// Off reports whether l limits nothing (the zero Limit).
func (l Limit) Off() bool { return l.Rate == 0 && l.Period == 0 }

// Interval is the time one event takes to refill: Period/Rate, at least a
// nanosecond.
func (l Limit) Interval() time.Duration { return max(l.Period/time.Duration(l.Rate), 1) }

// Max is the most events allowed at once: Burst, or Rate when Burst is 0.
func (l Limit) Max() int {
	if l.Burst == 0 {
		return l.Rate
	}
	return l.Burst
}

// Capacity is the time a full bucket holds: Burst·Interval.
func (l Limit) Capacity() time.Duration { return time.Duration(l.Max()) * l.Interval() }

// Validate checks l: an Off limit, or a positive Rate, Period and Burst
// (0 for Rate) whose capacity fits in a time.Duration. The error is of
// KindInvalid naming field (the rate, period or burst within it).
func (l Limit) Validate(op, field string) error {
	switch {
	case l.Off():
		return nil
	case l.Rate <= 0:
		return errs.Invalid(op, field+".rate", "want a positive number of events per period")
	case l.Period <= 0:
		return errs.Invalid(op, field+".period", "want a positive period")
	case l.Burst < 0:
		return errs.Invalid(op, field+".burst", "want a positive burst, or 0 for the rate")
	case time.Duration(l.Max()) > (1<<62)/l.Interval():
		return errs.Invalid(op, field+".burst", "the burst is too large for the rate")
	}
	return nil
}

// String writes l as ParseLimit reads it: "off", "RATE/PERIOD", or
// "RATE/PERIOD,BURST" when the burst differs from the rate.
func (l Limit) String() string {
	if l.Off() {
		return "off"
	}
	s := strconv.Itoa(l.Rate) + "/" + l.Period.String()
	if l.Burst != 0 && l.Burst != l.Rate {
		s += "," + strconv.Itoa(l.Burst)
	}
	return s
}

// ParseLimit reads a Limit written "RATE/PERIOD" (such as "600/1m": 600
// events a minute, in bursts of up to 600) or "RATE/PERIOD,BURST" (such as
// "1200/1m,200"); the period is a Go duration, and "off" or "" is the Off
// limit. A malformed limit is an error of KindInvalid naming field.
func ParseLimit(field, s string) (Limit, error) {
	const op = "ratelimit.ParseLimit"
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "off") {
		return Limit{}, nil
	}
	bad := func(msg string) (Limit, error) {
		return Limit{}, errs.Invalid(op, field, strconv.Quote(s)+": "+msg+` (want RATE/PERIOD[,BURST], such as "600/1m" or "1200/1m,200", or "off")`)
	}
	rate, rest, ok := strings.Cut(s, "/")
	if !ok {
		return bad("no period")
	}
	period, burst, hasBurst := strings.Cut(rest, ",")
	var l Limit
	var err error
	if l.Rate, err = strconv.Atoi(strings.TrimSpace(rate)); err != nil || l.Rate <= 0 {
		return bad("the rate is not a positive whole number")
	}
	if l.Period, err = time.ParseDuration(strings.TrimSpace(period)); err != nil || l.Period <= 0 {
		return bad("the period is not a positive duration")
	}
	if hasBurst {
		if l.Burst, err = strconv.Atoi(strings.TrimSpace(burst)); err != nil || l.Burst <= 0 {
			return bad("the burst is not a positive whole number")
		}
	}
	if err := l.Validate(op, field); err != nil {
		return bad(errs.FieldOf(err) + " is out of range")
	}
	return l, nil
}

// Decision is what a Store decided of one event.
type Decision struct {
	// Allowed tells that the event was counted; a refused one was not.
	Allowed bool
	// Limit is the limit decided under.
	Limit Limit
	// Remaining is how many events of cost 1 the key may still take now.
	Remaining int
	// RetryAfter is, when refused, how long until the same event would be
	// allowed; 0 when allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the key's bucket is full again (its
	// TAT less now).
	ResetAfter time.Duration
}

// Decide is the rule every Store keeps, on the key's stored TAT (the zero
// time for a key never seen, or swept): the decision for an event of cost
// at now, and the key's TAT after it (unchanged when refused). A Store
// computes the same in one statement of its database; Decide is the
// reference its conformance suite and the table test hold it to. Limit
// and cost must be valid (CheckCost); an Off limit allows everything.
func Decide(tat time.Time, l Limit, now time.Time, cost int) (Decision, time.Time) {
	if l.Off() {
		return Decision{Allowed: true, Limit: l}, tat
	}
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(time.Duration(cost) * l.Interval())
	edge := now.Add(l.Capacity())
	if next.After(edge) {
		return Decision{Limit: l, Remaining: remaining(l, edge.Sub(tat)),
			RetryAfter: next.Sub(edge), ResetAfter: tat.Sub(now)}, tat
	}
	return Decision{Allowed: true, Limit: l, Remaining: remaining(l, edge.Sub(next)), ResetAfter: next.Sub(now)}, next
}

// FromTAT is the Decision of a Store that has stored tat, the key's TAT
// after the event, and allowed or refused it: Decide's answer rebuilt from
// what its statement returned.
func FromTAT(l Limit, now, tat time.Time, cost int, allowed bool) Decision {
	if tat.Before(now) {
		tat = now
	}
	d := Decision{Allowed: allowed, Limit: l, ResetAfter: tat.Sub(now)}
	edge := now.Add(l.Capacity())
	d.Remaining = remaining(l, edge.Sub(tat))
	if !allowed {
		d.RetryAfter = tat.Add(time.Duration(cost) * l.Interval()).Sub(edge)
	}
	return d
}

// remaining is how many intervals of l fit in room.
func remaining(l Limit, room time.Duration) int { return max(int(room/l.Interval()), 0) }

// CheckCost checks that an event of cost can ever be allowed under l: at
// least 1 and at most its burst. The error is of KindInvalid naming
// "cost".
func CheckCost(op string, l Limit, cost int) error {
	if cost < 1 {
		return errs.Invalid(op, "cost", "want a cost of at least 1")
	}
	if !l.Off() && cost > l.Max() {
		return errs.Invalid(op, "cost", "the cost "+strconv.Itoa(cost)+" exceeds the burst "+strconv.Itoa(l.Max())+": it could never be allowed")
	}
	return nil
}

// Store keeps the TAT of every key and decides events on it. The contract
// every implementation keeps (package ratelimittest checks it):
//
//   - Take decides in one atomic step of the database (one statement):
//     two replicas, or goroutines, taking the same key at once are decided
//     one after the other, so no more events are allowed than the limit
//     holds;
//   - Take never joins a transaction the context carries: a count, once
//     made, stays whatever becomes of the caller's transaction (a refused
//     request's rollback must not undo it);
//   - its decisions equal Decide's on the key's TAT;
//   - Sweep forgets keys whose TAT is not after now (full buckets), which
//     changes no later decision.
//
// Callers use a Limiter, which validates the limit and the cost, skips Off
// limits and reads the clock; a Store may assume all three done. A Store
// is safe for concurrent use.
type Store interface {
	// Take decides an event of cost for key under l at now, and counts it
	// if allowed.
	Take(ctx context.Context, key string, l Limit, now time.Time, cost int) (Decision, error)
	// Sweep forgets the keys whose TAT is at or before now, and returns
	// how many it forgot.
	Sweep(ctx context.Context, now time.Time) (int, error)
}

// Limiter decides events on a Store at the time of its clock. It is safe
// for concurrent use.
type Limiter struct {
	store Store
	clock clock.Clock
}

// New returns a Limiter over s reading c.
func New(s Store, c clock.Clock) *Limiter { return &Limiter{store: s, clock: c} }

// MaxKeyLen bounds the length of a key, in bytes.
const MaxKeyLen = 256

// Allow decides one event of cost for key under l, now. An Off limit
// allows without a query. An empty or overlong key, one that is not UTF-8
// or holds a NUL, a bad limit or a cost
// outside 1..burst is an error of KindInvalid naming the field, and counts
// nothing.
func (lm *Limiter) Allow(ctx context.Context, key string, l Limit, cost int) (Decision, error) {
	const op = "ratelimit.Allow"
	if key == "" || len(key) > MaxKeyLen || !utf8.ValidString(key) || strings.ContainsRune(key, 0) {
		return Decision{}, errs.Invalid(op, "key", "want a key of 1 to "+strconv.Itoa(MaxKeyLen)+" bytes of UTF-8 text")
	}
	if err := l.Validate(op, "limit"); err != nil {
		return Decision{}, err
	}
	if err := CheckCost(op, l, cost); err != nil {
		return Decision{}, err
	}
	if l.Off() {
		return Decision{Allowed: true, Limit: l}, nil
	}
	return lm.store.Take(ctx, key, l, lm.clock.Now(), cost)
}

// Sweep forgets the keys that are full buckets now; the periodic jobs call
// it (carebook.Engine.RegisterJobs).
func (lm *Limiter) Sweep(ctx context.Context) (int, error) {
	return lm.store.Sweep(ctx, lm.clock.Now())
}

// Refusal is the error of KindRateLimited for a refused Decision d: its
// message tells the seconds to wait, and Details["retry_after_seconds"]
// holds them (rounded up, at least 1), as the reference server's
// Retry-After.
func Refusal(op, msg string, d Decision) *errs.Error {
	secs := RetryAfterSeconds(d)
	return &errs.Error{Kind: errs.KindRateLimited, Op: op,
		Msg:     msg + "; try again in " + strconv.FormatInt(secs, 10) + "s",
		Details: map[string]any{"retry_after_seconds": secs}}
}

// RetryAfterSeconds is d.RetryAfter in whole seconds, rounded up, at
// least 1.
func RetryAfterSeconds(d Decision) int64 { return max(ceilSeconds(d.RetryAfter), 1) }

// ResetSeconds is d.ResetAfter in whole seconds, rounded up.
func ResetSeconds(d Decision) int64 { return ceilSeconds(d.ResetAfter) }

func ceilSeconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }
