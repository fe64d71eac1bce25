package api

import (
	"context"
	"io"
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

// Visit payments. The routes are refserver.Guarded: each handler calls one
// guarded Engine operation (TakeDeskPayment, RefundPayment, Payments, …),
// which decides under payment.offline, payment.read, payment.refund or
// policy.manage and writes the activity-log entry. The providers' webhooks
// are Signed: the adapter verifies the signature over the body's bytes.

// moneyJSON is an amount in integer minor units with its ISO 4217
// currency.
type moneyJSON struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func moneyOf(m billing.Money) moneyJSON {
	return moneyJSON{Amount: m.Amount, Currency: string(m.Currency)}
}

func (m moneyJSON) money() billing.Money {
	return billing.Money{Amount: m.Amount, Currency: billing.Currency(m.Currency)}
}

// methodJSON is how a payment is taken.
type methodJSON struct {
	Kind      string `json:"kind"`
	Reference string `json:"reference,omitempty"`
}

// entryJSON is one ledger entry.
type entryJSON struct {
	Seq      int       `json:"seq"`
	Kind     string    `json:"kind"`
	Amount   moneyJSON `json:"amount"`
	At       time.Time `json:"at"`
	By       string    `json:"by"`
	Reverses int       `json:"reverses,omitempty"`
	Reason   string    `json:"reason,omitempty"`
}

// paymentJSON is a payment with its ledger and totals.
type paymentJSON struct {
	ID            uuid.UUID   `json:"id"`
	Provider      string      `json:"provider"`
	Purpose       string      `json:"purpose"`
	PatientID     *uuid.UUID  `json:"patient_id,omitempty"`
	AppointmentID *uuid.UUID  `json:"appointment_id,omitempty"`
	Amount        moneyJSON   `json:"amount"`
	Method        methodJSON  `json:"method"`
	Status        string      `json:"status"`
	Paid          moneyJSON   `json:"paid"`
	Refunded      moneyJSON   `json:"refunded"`
	Net           moneyJSON   `json:"net"`
	Held          moneyJSON   `json:"held"`
	CreatedAt     time.Time   `json:"created_at"`
	Ledger        []entryJSON `json:"ledger"`
}

func paymentOf(p *billing.Payment) (paymentJSON, error) {
	t, err := p.Totals()
	if err != nil {
		return paymentJSON{}, err
	}
	st, err := p.Status()
	if err != nil {
		return paymentJSON{}, err
	}
	out := paymentJSON{ID: p.ID, Provider: p.Provider, Purpose: string(p.Purpose), PatientID: p.Patient, AppointmentID: p.Appointment,
		Amount: moneyOf(p.Amount), Method: methodJSON{Kind: string(p.Method.Kind), Reference: p.Method.Reference}, Status: string(st),
		Paid: moneyOf(t.Paid), Refunded: moneyOf(t.Refunded), Net: moneyOf(t.Net), Held: moneyOf(t.Held), CreatedAt: p.CreatedAt,
		Ledger: make([]entryJSON, len(p.Ledger))}
	for i, e := range p.Ledger {
		out.Ledger[i] = entryJSON{Seq: e.Seq, Kind: string(e.Kind), Amount: moneyOf(e.Amount), At: e.At, By: e.By.String(), Reverses: e.Reverses, Reason: e.Reason}
	}
	return out, nil
}

// replyPayment answers p, or err.
func replyPayment(w http.ResponseWriter, status int, p *billing.Payment, err error) error {
	if err != nil {
		return err
	}
	v, err := paymentOf(p)
	if err != nil {
		return err
	}
	return refserver.Reply(w, status, v)
}

// deskPaymentRequest is a payment taken at the desk.
type deskPaymentRequest struct {
	PatientID     string     `json:"patient_id"`
	AppointmentID string     `json:"appointment_id"`
	Amount        moneyJSON  `json:"amount"`
	Method        methodJSON `json:"method"`
	Purpose       string     `json:"purpose"`
}

func (s *server) takeDeskPayment(w http.ResponseWriter, r *http.Request) error {
	var in deskPaymentRequest
	req := s.srv.Request(w, r)
	pid := req.Practice()
	req.Body(&in)
	patient := req.BodyID("patient_id", in.PatientID)
	appt := req.BodyOptID("appointment_id", in.AppointmentID)
	if req.Err != nil {
		if pid == uuid.Nil {
			return req.Err
		}
		a := carebook.Access{Permission: rbac.PaymentOffline, PracticeID: pid, Action: "payment.take", ResourceType: "payment"}
		if patient != uuid.Nil {
			a.PatientID = &patient
		}
		return s.engine.Refuse(r.Context(), a, req.Err)
	}
	p, err := s.engine.TakeDeskPayment(r.Context(), pid, carebook.DeskPayment{Patient: patient, Appointment: appt, Amount: in.Amount.money(),
		Method: billing.Method{Kind: billing.MethodKind(in.Method.Kind), Reference: in.Method.Reference}, Purpose: billing.Purpose(in.Purpose)})
	if err != nil {
		return err
	}
	v, err := paymentOf(p)
	if err != nil {
		return err
	}
	return refserver.Created(w, r.URL.Path+"/"+p.ID.String(), v)
}

func (s *server) listPayments(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	f := billing.PaymentFilter{Patient: req.ID("patient"), Appointment: req.ID("appointment"), From: req.Time("from"), To: req.Time("to"),
		Limit: req.Int("limit", 50, 1, 200)}
	if req.Err != nil {
		return req.Err
	}
	list, err := s.engine.Payments(r.Context(), pid, f)
	if err != nil {
		return err
	}
	out := make([]paymentJSON, len(list))
	for i, p := range list {
		if out[i], err = paymentOf(p); err != nil {
			return err
		}
	}
	return refserver.Reply(w, http.StatusOK, listOf(out))
}

func (s *server) getPayment(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("payment")
	if req.Err != nil {
		return req.Err
	}
	p, err := s.engine.Payment(r.Context(), pid, id)
	return replyPayment(w, http.StatusOK, p, err)
}

// paymentReceipt answers the receipt as plain text, the same bytes each
// time it is printed.
func (s *server) paymentReceipt(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("payment")
	if req.Err != nil {
		return req.Err
	}
	rc, err := s.engine.Receipt(r.Context(), pid, id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	_, err = io.WriteString(w, rc.Text())
	return err
}

// followUp decodes into in the body of a step on the payment of r's path
// and runs do: bad input is told only to a caller who holds perm over the
// payment (RefusePayment); the answer is the payment after the step.
func (s *server) followUp(w http.ResponseWriter, r *http.Request, in any, perm rbac.Permission,
	do func(ctx context.Context, pid tenant.PracticeID, id billing.PaymentID) (*billing.Payment, error)) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("payment")
	if req.Err != nil {
		return req.Err
	}
	if req.Body(in); req.Err != nil {
		return s.engine.RefusePayment(r.Context(), pid, id, perm, req.Err)
	}
	p, err := do(r.Context(), pid, id)
	return replyPayment(w, http.StatusOK, p, err)
}

// refundRequest gives money back.
type refundRequest struct {
	Amount moneyJSON `json:"amount"`
	Reason string    `json:"reason"`
}

func (s *server) refundPayment(w http.ResponseWriter, r *http.Request) error {
	var in refundRequest
	return s.followUp(w, r, &in, rbac.PaymentRefund, func(ctx context.Context, pid tenant.PracticeID, id billing.PaymentID) (*billing.Payment, error) {
		return s.engine.RefundPayment(ctx, pid, id, in.Amount.money(), in.Reason)
	})
}

// reversalRequest undoes a ledger entry recorded by mistake.
type reversalRequest struct {
	Seq    int    `json:"seq"`
	Reason string `json:"reason"`
}

func (s *server) reversePayment(w http.ResponseWriter, r *http.Request) error {
	var in reversalRequest
	return s.followUp(w, r, &in, rbac.PaymentRefund, func(ctx context.Context, pid tenant.PracticeID, id billing.PaymentID) (*billing.Payment, error) {
		return s.engine.ReversePayment(ctx, pid, id, in.Seq, in.Reason)
	})
}

// payOwedRequest takes an owed fee at the desk.
type payOwedRequest struct {
	Method methodJSON `json:"method"`
}

func (s *server) payOwed(w http.ResponseWriter, r *http.Request) error {
	var in payOwedRequest
	return s.followUp(w, r, &in, rbac.PaymentOffline, func(ctx context.Context, pid tenant.PracticeID, id billing.PaymentID) (*billing.Payment, error) {
		return s.engine.PayOwed(ctx, pid, id, billing.Method{Kind: billing.MethodKind(in.Method.Kind), Reference: in.Method.Reference})
	})
}

// feeJSON is a fee: a fixed amount or a percentage of the price.
type feeJSON struct {
	Fixed   *moneyJSON `json:"fixed,omitempty"`
	Percent int        `json:"percent,omitempty"`
}

func (f feeJSON) fee() billing.Fee {
	out := billing.Fee{Percent: f.Percent}
	if f.Fixed != nil {
		out.Fixed = f.Fixed.money()
	}
	return out
}

func feeOf(f billing.Fee) feeJSON {
	out := feeJSON{Percent: f.Percent}
	if f.Fixed.Amount > 0 {
		m := moneyOf(f.Fixed)
		out.Fixed = &m
	}
	return out
}

// paymentPolicyJSON is a payment policy.
type paymentPolicyJSON struct {
	VisitTypeID *uuid.UUID `json:"visit_type_id,omitempty"`
	Collect     string     `json:"collect"`
	FirstVisit  string     `json:"first_visit,omitempty"`
	Price       *moneyJSON `json:"price,omitempty"`
	Deposit     *moneyJSON `json:"deposit,omitempty"`
	NoShow      feeJSON    `json:"no_show"`
	LateCancel  feeJSON    `json:"late_cancel"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

func optMoney(m billing.Money) *moneyJSON {
	if m.Amount == 0 {
		return nil
	}
	j := moneyOf(m)
	return &j
}

func paymentPolicyOf(p *billing.Policy) paymentPolicyJSON {
	return paymentPolicyJSON{VisitTypeID: p.VisitType, Collect: string(p.Collect), FirstVisit: string(p.FirstVisit), Price: optMoney(p.Price),
		Deposit: optMoney(p.Deposit), NoShow: feeOf(p.NoShow), LateCancel: feeOf(p.LateCancel), UpdatedAt: p.UpdatedAt}
}

// paymentPolicyRequest writes a payment policy.
type paymentPolicyRequest struct {
	VisitTypeID string     `json:"visit_type_id"`
	Collect     string     `json:"collect"`
	FirstVisit  string     `json:"first_visit"`
	Price       *moneyJSON `json:"price"`
	Deposit     *moneyJSON `json:"deposit"`
	NoShow      feeJSON    `json:"no_show"`
	LateCancel  feeJSON    `json:"late_cancel"`
}

func (s *server) listPaymentPolicies(w http.ResponseWriter, r *http.Request) error {
	return practiceList(s, w, r, s.engine.PaymentPolicies, paymentPolicyOf)
}

func (s *server) putPaymentPolicy(w http.ResponseWriter, r *http.Request) error {
	var in paymentPolicyRequest
	req := s.srv.Request(w, r)
	pid := req.Practice()
	req.Body(&in)
	vt := req.BodyOptID("visit_type_id", in.VisitTypeID)
	if req.Err != nil {
		if pid == uuid.Nil {
			return req.Err
		}
		return s.engine.Refuse(r.Context(), carebook.Access{Permission: rbac.PolicyManage, PracticeID: pid}, req.Err)
	}
	p := &billing.Policy{Practice: pid, VisitType: vt, Collect: billing.Collect(in.Collect), FirstVisit: billing.Collect(in.FirstVisit),
		NoShow: in.NoShow.fee(), LateCancel: in.LateCancel.fee()}
	if in.Price != nil {
		p.Price = in.Price.money()
	}
	if in.Deposit != nil {
		p.Deposit = in.Deposit.money()
	}
	out, err := s.engine.PutPaymentPolicy(r.Context(), p)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, paymentPolicyOf(out))
}

// maxWebhookBody bounds a provider's webhook body.
const maxWebhookBody = 256 << 10

// paymentWebhook applies a payment provider's webhook: 200 once applied
// (or seen before), 401 for a bad signature, 404 for a provider this
// server does not take payments with.
func (s *server) paymentWebhook(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		return errs.E(errs.KindTooLarge, "api.paymentWebhook", "the webhook body is larger than 256 KiB")
	}
	applied, err := s.engine.PaymentWebhook(r.Context(), r.PathValue("provider"), body, r.Header)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, map[string]bool{"applied": applied})
}
