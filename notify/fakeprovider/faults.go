package fakeprovider

import (
	"net/http"
	"sync"
	"time"
)

// Faults is the failure injection and duplicate ledger that both fakes
// embed. Its zero value accepts everything at once. It is safe for
// concurrent use.
type Faults struct {
	mu       sync.Mutex
	failLeft int
	status   int
	code     int
	delay    time.Duration
	seen     map[string]int
	dups     int
	requests int
	// holdAfter is how many more sends pass before sends are held (-1:
	// none are held; holding stays off until Hold); hold is closed by
	// Release; held counts the sends waiting.
	holding   bool
	holdAfter int
	hold      chan struct{}
	held      int
}

// FailNext makes the next n requests fail with the HTTP status and, for
// Twilio, the provider error code (such as 21211 for an invalid number);
// n <= 0 clears a pending failure.
func (f *Faults) FailNext(n, status, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failLeft, f.status, f.code = max(n, 0), status, code
}

// SetDelay makes every following request wait d before it is answered; 0
// answers at once again. A request whose client gives up during the wait is
// neither answered nor recorded.
func (f *Faults) SetDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// Hold makes the sends that follow the next after ones (Twilio's Create
// Message, SendGrid's Mail Send; not the read endpoints) wait until
// Release, so that a test can stop or kill the sender while they are on
// the wire. A held send whose client goes away is still accepted and
// recorded, as a provider that received the whole request does: only
// the answer is lost.
func (f *Faults) Hold(after int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holding, f.holdAfter, f.hold = true, max(after, 0), make(chan struct{})
}

// Release lets the held sends through and stops holding.
func (f *Faults) Release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.holding {
		close(f.hold)
	}
	f.holding = false
}

// Held is how many sends are waiting for Release now.
func (f *Faults) Held() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held
}

// holdSend waits while sends are held (see Hold); r's body must have
// been read.
func (f *Faults) holdSend(r *http.Request) {
	f.mu.Lock()
	if !f.holding {
		f.mu.Unlock()
		return
	}
	if f.holdAfter > 0 {
		f.holdAfter--
		f.mu.Unlock()
		return
	}
	ch := f.hold
	f.held++
	f.mu.Unlock()
	select {
	case <-ch:
	case <-r.Context().Done():
	}
	f.mu.Lock()
	f.held--
	f.mu.Unlock()
}

// Duplicates is how many accepted messages repeated an outbox ID that an
// earlier accepted message already carried.
func (f *Faults) Duplicates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dups
}

// Requests is how many requests reached the fake, failed ones included.
func (f *Faults) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// fault is what Faults decided for one request.
type fault struct {
	delay        time.Duration
	status, code int // status 0: no injected failure
}

// next counts a request and takes one pending failure, if any.
func (f *Faults) next() fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	d := fault{delay: f.delay}
	if f.failLeft > 0 {
		f.failLeft--
		d.status, d.code = f.status, f.code
	}
	return d
}

// wait sleeps for the delay unless the client goes away first, and reports
// whether the request should still be answered.
func (d fault) wait(r *http.Request) bool {
	if d.delay <= 0 {
		return true
	}
	t := time.NewTimer(d.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// remember notes that a message for outbox ID id was accepted, under mu
// held by the caller's record function; "" is not counted.
func (f *Faults) remember(id string) {
	if id == "" {
		return
	}
	if f.seen == nil {
		f.seen = make(map[string]int)
	}
	if f.seen[id]++; f.seen[id] > 1 {
		f.dups++
	}
}

// record runs add under the lock and remembers outbox ID id, so that a
// fake's message list and the duplicate count never disagree.
func (f *Faults) record(id string, add func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	add()
	f.remember(id)
}
