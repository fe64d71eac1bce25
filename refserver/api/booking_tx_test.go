package api

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/carebook/carebook/audit"
	"github.com/uptrace/bun"
)

// statements records what a database runs: how many transactions begin,
// and how many statements run outside any.
type statements struct {
	mu      sync.Mutex
	inTx    bool
	begins  int
	outside []string
}

func (s *statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (s *statements) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := strings.TrimSpace(e.Query)
	switch {
	case strings.HasPrefix(q, "BEGIN"):
		s.inTx, s.begins = true, s.begins+1
	case q == "COMMIT" || q == "ROLLBACK":
		s.inTx = false
	case !s.inTx:
		s.outside = append(s.outside, q)
	}
}

func (s *statements) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.begins, s.outside = 0, nil
}

// TestBookingRequestIsOneTransaction: a booking over HTTP runs its
// authorization's reads, the booking, its messages and its activity-log
// entry in one transaction, with only the session's lookup before it; a
// booking the caller may not make is refused, and its denial is still on
// the log after the transaction rolled back.
func TestBookingRequestIsOneTransaction(t *testing.T) {
	m := newMatrixEnv(t)
	base := "/api/v1/practices/" + m.a.practice
	desk := bearer(m.token("front_desk_A"))
	patient := bearer(m.token("patient_P1"))
	hook := &statements{}
	//lint:ignore SA1019 the store's own *bun.DB must run the hook; WithQueryHook hooks only a copy
	m.st.DB().AddQueryHook(hook)

	hook.reset()
	m.ok(m.do("POST", base+"/appointments", map[string]any{"patient_id": m.a.patient, "provider_id": m.a.provider,
		"visit_type_id": m.a.visitType, "start": "2030-03-07T10:00:00-05:00"}, desk), 201)
	if hook.begins != 1 || len(hook.outside) != 1 {
		t.Errorf("a booking ran %d transactions and %d statements outside them (%q); want 1 and 1 (the session's lookup)",
			hook.begins, len(hook.outside), hook.outside)
	}

	denied := len(m.entriesOf("appointment.book", audit.Denied))
	// The patient's self grant covers their own record, not another's.
	m.problem(m.do("POST", base+"/appointments", map[string]any{"patient_id": m.a.otherPatient, "provider_id": m.a.provider,
		"visit_type_id": m.a.visitType, "start": "2030-03-07T11:00:00-05:00"}, patient), 403, "")
	if got := len(m.entriesOf("appointment.book", audit.Denied)); got != denied+1 {
		t.Errorf("%d denied bookings on the log, want %d", got, denied+1)
	}
}

// entriesOf returns the practice's entries of action with outcome out.
func (m *matrixEnv) entriesOf(action string, out audit.Outcome) []*audit.Entry {
	var got []*audit.Entry
	for _, e := range m.entries(action) {
		if e.Outcome == out {
			got = append(got, e)
		}
	}
	return got
}
