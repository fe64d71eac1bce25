// Package clock gives carebook its sense of time and its IDs, both injected so
// that tests control them. Nothing in carebook calls time.Now directly.
package clock

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// Clock tells the current time. A github.com/jonboulle/clockwork fake clock
// satisfies it, so one fake can drive both carebook and gocron.
type Clock interface {
	Now() time.Time
}

// System is the real wall clock.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// Fixed is a manual clock for tests: it stands still until Set or Advance.
// It is safe for concurrent use.
type Fixed struct {
	mu sync.Mutex
	t  time.Time
}

// NewFixed returns a Fixed clock showing t.
func NewFixed(t time.Time) *Fixed { return &Fixed{t: t} }

// Now returns the time the clock shows.
func (f *Fixed) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Set moves the clock to t.
func (f *Fixed) Set(t time.Time) {
	f.mu.Lock()
	f.t = t
	f.mu.Unlock()
}

// Advance moves the clock forward by d.
func (f *Fixed) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// IDSource makes new unique IDs. The default is UUIDv7 (time-ordered, so index
// friendly); tests may use a fixed sequence.
type IDSource interface {
	New() uuid.UUID
}

// UUIDv7 is the default IDSource.
type UUIDv7 struct{}

// New returns a fresh UUIDv7. It panics only if the system's random source fails.
func (UUIDv7) New() uuid.UUID { return uuid.Must(uuid.NewV7()) }
