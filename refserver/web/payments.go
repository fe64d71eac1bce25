package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
)

// Payments at the front desk: an appointment's page lists its payments
// (what was taken, refunded and is owed, each with its receipt) and takes
// a payment at the desk; a paid payment is refunded from there, an owed
// fee taken. The routes are refserver.Guarded: the Engine's operations
// decide (payment.offline, payment.read, payment.refund) and log.

// paymentRoutes are the desk's payment pages.
func (s *pages) paymentRoutes() []refserver.Route {
	const p = "/p/{practice}"
	g := refserver.Guarded()
	return []refserver.Route{
		route("POST", p+"/appointments/{appointment}/payments", s.takePayment, "Record a payment taken at the desk for an appointment", g),
		route("GET", p+"/payments/{payment}/receipt", s.showReceipt, "A payment's receipt, to print: the same each time", g),
		route("POST", p+"/payments/{payment}/refund", s.refundPayment, "Give all or part of a payment back, with a reason", g),
		route("POST", p+"/payments/{payment}/desk", s.payOwed, "Take an owed fee at the desk", g),
	}
}

// deskMethods are the methods the desk takes, in the order offered.
var deskMethods = []billing.MethodKind{billing.MethodCash, billing.MethodCardTerminal, billing.MethodCheque, billing.MethodInsuranceCopay}

// paymentRow is one payment on an appointment's page.
type paymentRow struct {
	Purpose, Amount, Method, Reference, Status, StatusKey string
	Net, Refunded                                         string
	ReceiptHref, RefundAction, DeskAction                 string
	// N numbers the rows, for the ids of each row's form.
	N int
}

// paymentSection is what an appointment's page shows of its payments.
type paymentSection struct {
	Show       bool // the caller may read payments
	CanTake    bool // the caller may take one at the desk
	CanRefund  bool
	Rows       []paymentRow
	TakeAction string
	Methods    []option
	Currency   string
	// Balance words where the visit's money stands (billing.Balance):
	// each amount paid or held and how and when, then what is owed or to
	// refund; none when nothing was paid and the visit has no price.
	Balance []string
}

// holds reports whether r's caller holds perm over practice (asking
// writes nothing).
func (s *pages) holds(r *http.Request, practice *tenant.Practice, perm rbac.Permission) bool {
	c := refserver.CredentialsFrom(r.Context())
	if c == nil || practice == nil {
		return false
	}
	pr, err := s.srv.Principal(r, c)
	return err == nil && pr.Can(perm, rbac.Target{GroupID: practice.GroupID, PracticeID: practice.ID})
}

// practiceCurrency is the currency the practice's default payment policy
// prices in, else USD.
func (s *pages) practiceCurrency(ctx context.Context, pid tenant.PracticeID) billing.Currency {
	if pol, err := s.engine.Billing.Policy(ctx, pid, nil); err == nil && pol.Price.Currency != "" {
		return pol.Price.Currency
	}
	return "USD"
}

// payments fills the payment section of appointment a's page for r's
// caller, its times in zone: nothing for one who may not read payments.
func (s *pages) payments(r *http.Request, v *view, a *scheduling.Appointment, zone *time.Location) (paymentSection, error) {
	var sec paymentSection
	if !s.holds(r, v.Practice, rbac.PaymentRead) {
		return sec, nil
	}
	ctx := r.Context()
	pid := a.PracticeID
	list, err := s.engine.Payments(ctx, pid, billing.PaymentFilter{Appointment: &a.ID})
	if err != nil {
		return sec, err
	}
	base := practicePath(pid)
	sec = paymentSection{Show: true, CanTake: s.holds(r, v.Practice, rbac.PaymentOffline), CanRefund: s.holds(r, v.Practice, rbac.PaymentRefund),
		TakeAction: base + "/appointments/" + a.ID.String() + "/payments", Currency: string(s.practiceCurrency(ctx, pid))}
	for _, m := range deskMethods {
		sec.Methods = append(sec.Methods, option{Value: string(m), Label: v.tf("pay.method.", string(m))})
	}
	for i, p := range list {
		t, err := p.Totals()
		if err != nil {
			return sec, err
		}
		st, err := p.Status()
		if err != nil {
			return sec, err
		}
		href := base + "/payments/" + p.ID.String()
		row := paymentRow{N: i + 1, Purpose: v.tf("pay.purpose.", string(p.Purpose)), Amount: p.Amount.String(),
			Method: v.tf("pay.method.", string(p.Method.Kind)), Reference: p.Method.Reference, Status: v.tf("pay.status.", string(st)),
			StatusKey: string(st), Net: t.Net.String(), Refunded: t.Refunded.String()}
		if len(p.Ledger) > 0 {
			row.ReceiptHref = href + "/receipt"
		}
		if sec.CanRefund && t.Net.Amount > 0 {
			row.RefundAction = href + "/refund"
		}
		if sec.CanTake && st == billing.StatusPending && p.Purpose.Fee() {
			row.DeskAction = href + "/desk"
		}
		sec.Rows = append(sec.Rows, row)
	}
	vt := a.VisitTypeID
	pol, err := s.engine.Billing.Policy(ctx, pid, &vt)
	if err != nil {
		return sec, err
	}
	b, err := billing.BalanceOf(pol.Price, list)
	if err != nil {
		return sec, err
	}
	sec.Balance = balanceLines(v, b, zone)
	return sec, nil
}

// balanceLines words b for the desk: "Paid online 25.00 USD on Monday 2
// March 2026", then what is owed of the price, and what is to refund.
func balanceLines(v *view, b billing.Balance, zone *time.Location) []string {
	var out []string
	for _, p := range b.Parts {
		key := "pay.balance.paid"
		switch {
		case p.Purpose == billing.PurposeOverpaid:
			key = "pay.balance.twice"
		case p.Held:
			key = "pay.balance.held"
		}
		where := v.T("pay.balance.at_desk")
		if p.Online() {
			where = v.T("pay.balance.online")
		}
		out = append(out, v.T(key, where, p.Amount.String(), v.tf("pay.method.", string(p.Method)), v.date(p.At.In(zone))))
	}
	if b.Known() {
		out = append(out, v.T("pay.balance.owed", b.Owed.String(), b.Due.String()))
	}
	if !b.Overpaid.IsZero() {
		out = append(out, v.T("pay.balance.refund", b.Overpaid.String()))
	}
	return out
}

// takePayment records a payment taken at the desk for the appointment of
// the path (form fields amount, method, reference).
func (s *pages) takePayment(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	id, err := refserver.ParseID("appointment", r.PathValue("appointment"))
	if err != nil {
		return err
	}
	a, err := s.engine.Scheduling.Appointment(ctx, pid, id)
	if err != nil {
		return err
	}
	amount, err := billing.ParseMoney(r.PostFormValue("amount"), s.practiceCurrency(ctx, pid), "amount")
	if err == nil {
		_, err = s.engine.TakeDeskPayment(ctx, pid, carebook.DeskPayment{Patient: a.PatientID, Appointment: &id, Amount: amount,
			Method: billing.Method{Kind: billing.MethodKind(r.PostFormValue("method")), Reference: strings.TrimSpace(r.PostFormValue("reference"))}})
	} else {
		pt := a.PatientID
		err = s.engine.Refuse(ctx, carebook.Access{Permission: rbac.PaymentOffline, PracticeID: pid, PatientID: &pt,
			Action: "payment.take", ResourceType: "payment"}, err)
	}
	if err == nil {
		return see(w, r, practicePath(pid)+"/appointments/"+id.String()+"?done=paid")
	}
	return s.paymentRefused(w, r, err, "method.kind", "method")
}

// paymentRefused shows the appointment's page again with the refusal:
// next to its field (rename maps the Engine's field names onto the form's)
// for bad input, as the page's notice for a rule of the ledger.
func (s *pages) paymentRefused(w http.ResponseWriter, r *http.Request, err error, rename ...string) error {
	if !refused(err) {
		return err
	}
	p, perr := s.appointmentPage(r)
	if perr != nil {
		return perr
	}
	if errs.KindOf(err) == errs.KindInvalid {
		f := errs.FieldOf(err)
		for i := 0; i+1 < len(rename); i += 2 {
			if f == rename[i] {
				err = errs.WithField(err, rename[i+1])
			}
		}
		if f == "currency" {
			err = errs.WithField(err, "amount")
		}
		return s.invalid(w, r, p.view, "desk_appointment.html", p, err)
	}
	return s.refuse(w, p.view, "desk_appointment.html", p, err, message(err))
}

// paymentOfPath reads the payment of r's path through the Engine (a
// guarded read, logged) for the page that acts on it.
func (s *pages) paymentOfPath(r *http.Request) (tenant.PracticeID, *billing.Payment, error) {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return pid, nil, err
	}
	id, err := refserver.ParseID("payment", r.PathValue("payment"))
	if err != nil {
		return pid, nil, err
	}
	p, err := s.engine.Payment(r.Context(), pid, id)
	return pid, p, err
}

// backTo is the page to return to after acting on p: its appointment's,
// else its receipt.
func backTo(pid tenant.PracticeID, p *billing.Payment, done string) string {
	if p.Appointment != nil {
		return practicePath(pid) + "/appointments/" + p.Appointment.String() + "?done=" + url.QueryEscape(done)
	}
	return practicePath(pid) + "/payments/" + p.ID.String() + "/receipt"
}

// withAppointment points r's path at p's appointment, so that a refusal
// shows that appointment's page.
func withAppointment(r *http.Request, p *billing.Payment) (*http.Request, bool) {
	if p.Appointment == nil {
		return r, false
	}
	r2 := r.Clone(r.Context())
	r2.SetPathValue("appointment", p.Appointment.String())
	return r2, true
}

// refundPayment gives back the form's amount of the payment of the path,
// for its reason.
func (s *pages) refundPayment(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	pid, p, err := s.paymentOfPath(r)
	if err != nil {
		return err
	}
	amount, err := billing.ParseMoney(r.PostFormValue("amount"), p.Amount.Currency, "amount")
	if err == nil {
		_, err = s.engine.RefundPayment(ctx, pid, p.ID, amount, strings.TrimSpace(r.PostFormValue("reason")))
	} else {
		err = s.engine.RefusePayment(ctx, pid, p.ID, rbac.PaymentRefund, err)
	}
	if err == nil {
		return see(w, r, backTo(pid, p, "refunded"))
	}
	r2, ok := withAppointment(r, p)
	if !ok || !refused(err) {
		return err
	}
	// Each row has its own refund form: the refusal is the page's notice.
	pg, perr := s.appointmentPage(r2)
	if perr != nil {
		return perr
	}
	return s.refuse(w, pg.view, "desk_appointment.html", pg, err, message(err))
}

// payOwed takes the owed fee of the path at the desk (form fields method,
// reference).
func (s *pages) payOwed(w http.ResponseWriter, r *http.Request) error {
	pid, p, err := s.paymentOfPath(r)
	if err != nil {
		return err
	}
	_, err = s.engine.PayOwed(r.Context(), pid, p.ID, billing.Method{Kind: billing.MethodKind(r.PostFormValue("method")),
		Reference: strings.TrimSpace(r.PostFormValue("reference"))})
	if err == nil {
		return see(w, r, backTo(pid, p, "paid"))
	}
	r2, ok := withAppointment(r, p)
	if !ok || !refused(err) {
		return err
	}
	pg, perr := s.appointmentPage(r2)
	if perr != nil {
		return perr
	}
	return s.refuse(w, pg.view, "desk_appointment.html", pg, err, message(err))
}

// receiptPage is a payment's receipt, with a link back (Back, worded
// BackLabel).
type receiptPage struct {
	*view
	Text, Back, BackLabel string
}

// showReceipt shows the receipt of the payment of the path, to print.
func (s *pages) showReceipt(w http.ResponseWriter, r *http.Request) error {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	id, err := refserver.ParseID("payment", r.PathValue("payment"))
	if err != nil {
		return err
	}
	v := s.newView(r, "pay.receipt_title")
	p, err := s.receipt(r, v, pid, id)
	if err != nil {
		return err
	}
	p.BackLabel = v.T("pay.back")
	if pay, err := s.engine.Billing.Store().Payment(r.Context(), pid, id); err == nil && pay.Appointment != nil && s.holds(r, v.Practice, rbac.CalendarRead) {
		p.Back = practicePath(pid) + "/appointments/" + pay.Appointment.String()
	}
	return s.render(w, http.StatusOK, "pay_receipt.html", p)
}
