package api

import (
	"context"
	"net/http"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// paymentMethodOut is the practice's payment method on file: what the
// practice sees of it, never its token; OnFile alone when it has none.
type paymentMethodOut struct {
	OnFile   bool       `json:"on_file"`
	Provider string     `json:"provider,omitempty"`
	Label    string     `json:"label,omitempty"`
	SavedAt  *time.Time `json:"saved_at,omitempty"`
	SavedBy  string     `json:"saved_by,omitempty"`
}

// paymentMethodIn is PUT …/billing/payment-method's body: the card the
// provider's hosted fields saved.
type paymentMethodIn struct {
	Provider string `json:"provider"`
	SetupRef string `json:"setup_ref"`
	Token    string `json:"token"`
	Label    string `json:"label"`
}

// setupIn is POST …/billing/payment-method/setup's body.
type setupIn struct {
	Provider string `json:"provider"`
}

// setupOut is the provider's setup, for the browser to complete.
type setupOut struct {
	SetupRef     string `json:"setup_ref"`
	ClientSecret string `json:"client_secret"`
}

// readOnlyOut is one reason the practice is read-only.
type readOnlyOut struct {
	Reason  string    `json:"reason"`
	Since   time.Time `json:"since"`
	Restore string    `json:"restore"`
}

func paymentMethodOf(m *billing.PaymentMethod) paymentMethodOut {
	at := m.SavedAt.UTC()
	return paymentMethodOut{OnFile: true, Provider: m.Provider, Label: m.Label, SavedAt: &at, SavedBy: m.SavedBy}
}

// billingBody decodes r's body into dst; bad input is told only to a
// caller holding practice.manage.
func (s *server) billingBody(w http.ResponseWriter, r *http.Request, dst any) (uuid.UUID, error) {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	req.Body(dst)
	if req.Err != nil && pid != uuid.Nil {
		return pid, s.engine.Refuse(r.Context(), carebook.Access{Permission: rbac.PracticeManage, PracticeID: pid}, req.Err)
	}
	return pid, req.Err
}

// getPaymentMethod is the practice's payment method (billing.read), or
// on_file false.
func (s *server) getPaymentMethod(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	if req.Err != nil {
		return req.Err
	}
	m, err := s.engine.PracticePaymentMethod(r.Context(), pid)
	if errs.Is(err, errs.KindNotFound) && errs.FieldOf(err) == "payment_method" {
		return refserver.Reply(w, http.StatusOK, paymentMethodOut{})
	}
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, paymentMethodOf(m))
}

// setupPaymentMethod starts saving a card at a provider
// (practice.manage), allowed while the practice is read-only.
func (s *server) setupPaymentMethod(w http.ResponseWriter, r *http.Request) error {
	var in setupIn
	pid, err := s.billingBody(w, r, &in)
	if err != nil {
		return err
	}
	sc, err := s.engine.SetupPaymentMethod(r.Context(), pid, in.Provider)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusCreated, setupOut{SetupRef: sc.ID, ClientSecret: sc.ClientSecret})
}

// putPaymentMethod attaches the saved card (practice.manage), lifting a
// trial's end.
func (s *server) putPaymentMethod(w http.ResponseWriter, r *http.Request) error {
	var in paymentMethodIn
	pid, err := s.billingBody(w, r, &in)
	if err != nil {
		return err
	}
	m, err := s.engine.AttachPaymentMethod(r.Context(), pid, carebook.PaymentMethodInput{Provider: in.Provider, SetupRef: in.SetupRef, Token: in.Token, Label: in.Label})
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, paymentMethodOf(m))
}

// getReadOnly lists why the practice is read-only (billing.read); an
// empty list when it writes.
func (s *server) getReadOnly(w http.ResponseWriter, r *http.Request) error {
	return practiceList(s, w, r, s.engine.ReadOnlyState, func(ro billing.ReadOnly) readOnlyOut {
		return readOnlyOut{Reason: string(ro.Reason), Since: ro.Since.UTC(), Restore: ro.Reason.Restore()}
	})
}

// practiceList answers the list read returns of the path's practice, each
// item as conv makes it.
func practiceList[T, U any](s *server, w http.ResponseWriter, r *http.Request, read func(context.Context, tenant.PracticeID) ([]T, error), conv func(T) U) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	if req.Err != nil {
		return req.Err
	}
	list, err := read(r.Context(), pid)
	if err != nil {
		return err
	}
	out := make([]U, len(list))
	for i, v := range list {
		out[i] = conv(v)
	}
	return refserver.Reply(w, http.StatusOK, listOf(out))
}
