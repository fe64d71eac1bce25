package api

import (
	"net/http"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/refserver"
)

// The practice's invoices from the operator, one per billing period
// (billing.read, the practice's administrators): Guarded, as the engine's
// Invoices and Invoice decide and log.

// invoiceLineJSON is one line of an invoice; amount is signed (a
// proration credit is negative).
type invoiceLineJSON struct {
	Kind     string `json:"kind"`
	Plan     string `json:"plan,omitempty"`
	Meter    string `json:"meter,omitempty"`
	Quantity int64  `json:"quantity"`
	Of       int64  `json:"of,omitempty"`
	Unit     int64  `json:"unit"`
	Amount   int64  `json:"amount"`
}

// invoiceAttemptJSON is one charge of an invoice.
type invoiceAttemptJSON struct {
	At    time.Time `json:"at"`
	Paid  bool      `json:"paid"`
	Error string    `json:"error,omitempty"`
}

// invoiceJSON is an invoice.
type invoiceJSON struct {
	ID          string               `json:"id"`
	Plan        string               `json:"plan"`
	PeriodStart time.Time            `json:"period_start"`
	PeriodEnd   time.Time            `json:"period_end"`
	Status      string               `json:"status"`
	Total       moneyJSON            `json:"total"`
	Lines       []invoiceLineJSON    `json:"lines"`
	Attempts    []invoiceAttemptJSON `json:"attempts"`
	NextAttempt *time.Time           `json:"next_attempt"`
	PaidAt      *time.Time           `json:"paid_at"`
	CreatedAt   time.Time            `json:"created_at"`
}

// nonZero is t in UTC, or nil when it is zero.
func nonZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func invoiceOf(inv *billing.Invoice) invoiceJSON {
	out := invoiceJSON{ID: inv.ID.String(), Plan: string(inv.Plan), PeriodStart: inv.PeriodStart.UTC(), PeriodEnd: inv.PeriodEnd.UTC(),
		Status: string(inv.Status), Total: moneyOf(inv.Total), Lines: make([]invoiceLineJSON, len(inv.Lines)),
		Attempts: make([]invoiceAttemptJSON, len(inv.Attempts)), NextAttempt: nonZero(inv.NextAttempt), PaidAt: nonZero(inv.PaidAt),
		CreatedAt: inv.CreatedAt.UTC()}
	for i, l := range inv.Lines {
		out.Lines[i] = invoiceLineJSON{Kind: string(l.Kind), Plan: string(l.Plan), Meter: string(l.Meter), Quantity: l.Quantity, Of: l.Of,
			Unit: l.Unit, Amount: l.Amount}
	}
	for i, a := range inv.Attempts {
		out.Attempts[i] = invoiceAttemptJSON{At: a.At.UTC(), Paid: a.Paid, Error: a.Error}
	}
	return out
}

// listInvoices lists the practice's invoices, the latest period first.
func (s *server) listInvoices(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	if req.Err != nil {
		return req.Err
	}
	invs, err := s.engine.Invoices(r.Context(), pid)
	if err != nil {
		return err
	}
	out := make([]invoiceJSON, len(invs))
	for i, inv := range invs {
		out[i] = invoiceOf(inv)
	}
	return refserver.Reply(w, http.StatusOK, listOf(out))
}

// getInvoice is one invoice of the practice.
func (s *server) getInvoice(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("invoice")
	if req.Err != nil {
		return req.Err
	}
	inv, err := s.engine.Invoice(r.Context(), pid, id)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, invoiceOf(inv))
}
