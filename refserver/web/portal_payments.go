package web

import (
	"net/http"
	"slices"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The patient's payments in the portal: the payments of their visits
// (what was taken, given back and is still owed) and the printable
// receipt of each, the same receipt the desk prints. The Engine's guarded
// Payments and Receipt decide and write the activity-log entries; a
// payment that is not the caller's own reads as not found. Staff accounts
// get 403 here (they hold no self grant).

// portalPaymentRoutes are the patient's payment pages.
func (s *pages) portalPaymentRoutes() []refserver.Route {
	const p = "/p/{practice}/receipts"
	m := refserver.Member()
	return []refserver.Route{
		route("GET", p, s.showOwnPayments, "The patient's payments for their visits, each with its receipt, and what is owed", m),
		route("GET", p+"/{payment}", s.showOwnReceipt, "The receipt of one of the patient's own payments, to print", m),
		route("POST", p+"/{payment}/pay", s.payOnline, "Pay one's own owed payment on the provider's hosted checkout page (a 303 there)", m),
		route("GET", p+"/{payment}/checkout", s.showCheckoutReturn, "Where the provider's checkout sends the patient back: the payment's state", m),
	}
}

// ownPaymentRow is one of the patient's payments.
type ownPaymentRow struct {
	Created, Purpose, Amount, Status, StatusKey, Net string
	// Visit words the visit it is for ("" for none); VisitHref links it.
	Visit, VisitHref string
	ReceiptHref      string
	Owed             bool
	// PayHref is where the "Pay online" form posts ("" when the practice
	// takes no online payment).
	PayHref string
}

// ownPaymentsPage is the patient's payments.
type ownPaymentsPage struct {
	*view
	Base string
	Rows []ownPaymentRow
}

// showOwnPayments lists the caller's own payments, newest first.
func (s *pages) showOwnPayments(w http.ResponseWriter, r *http.Request) error {
	pc, err := s.patientView(r, "portal.pay.title")
	if err != nil {
		return err
	}
	ctx := r.Context()
	pid, me := pc.practice.ID, pc.patient
	list, err := s.engine.Payments(ctx, pid, billing.PaymentFilter{Patient: &me})
	if err != nil {
		return err
	}
	vs, err := s.engine.PatientVisits(ctx, pid, me)
	if err != nil {
		return err
	}
	visits := map[string]*visitFacts{}
	for _, x := range slices.Concat(vs.Upcoming, vs.Past) {
		f := s.visitFacts(pc.v, x)
		visits[f.ID] = f
	}
	zone := s.practiceZone(ctx, pid)
	pg := &ownPaymentsPage{view: pc.v, Base: pc.base}
	for _, p := range list {
		t, err := p.Totals()
		if err != nil {
			return err
		}
		st, err := p.Status()
		if err != nil {
			return err
		}
		row := ownPaymentRow{Created: pc.v.date(p.CreatedAt.In(zone)), Purpose: pc.v.tf("pay.purpose.", string(p.Purpose)),
			Amount: p.Amount.String(), Status: pc.v.tf("pay.status.", string(st)), StatusKey: string(st), Net: t.Net.String(), Owed: p.Owed()}
		if !p.Owed() {
			row.ReceiptHref = pc.base + "/receipts/" + p.ID.String()
		} else if s.engine.TakesOnlinePayments(ctx, pid) {
			row.PayHref = pc.base + "/receipts/" + p.ID.String() + "/pay"
		}
		if p.Appointment != nil {
			if f, ok := visits[p.Appointment.String()]; ok {
				row.Visit, row.VisitHref = f.Date+", "+f.Time, pc.base+"/visits/"+f.ID
			}
		}
		pg.Rows = append(pg.Rows, row)
	}
	return s.render(w, http.StatusOK, "portal_payments.html", pg)
}

// showOwnReceipt shows the receipt of one of the caller's own payments:
// another's reads as not found (the Engine has logged the refusal).
func (s *pages) showOwnReceipt(w http.ResponseWriter, r *http.Request) error {
	pc, err := s.patientView(r, "pay.receipt_title")
	if err != nil {
		return err
	}
	id, err := refserver.ParseID("payment", r.PathValue("payment"))
	if err != nil {
		return err
	}
	p, err := s.receipt(r, pc.v, pc.practice.ID, id)
	if errs.Is(err, errs.KindForbidden) {
		return errs.NotFound("web.showOwnReceipt", "payment")
	}
	if err != nil {
		return err
	}
	p.Back, p.BackLabel = pc.base+"/receipts", pc.v.T("portal.pay.back")
	return s.render(w, http.StatusOK, "pay_receipt.html", p)
}

// receipt is the page of payment id's receipt in practice pid, as the
// Engine's Receipt gives it to the caller of r (who must be allowed it):
// the desk's and the patient's are one.
func (s *pages) receipt(r *http.Request, v *view, pid tenant.PracticeID, id uuid.UUID) (*receiptPage, error) {
	rc, err := s.engine.Receipt(r.Context(), pid, id)
	if err != nil {
		return nil, err
	}
	v.Title = v.T("pay.receipt_title", rc.Number)
	return &receiptPage{view: v, Text: rc.Text()}, nil
}

// owedLine is a payment still owed on a visit, as "my visits" and the
// visit's page show it; PayHref, on the visit's page, is where its "Pay
// online" form posts ("" when the practice takes no online payment).
type owedLine struct{ Amount, Purpose, PayHref string }

// owedOnVisit reads the caller's own payments of visit appt (the Engine's
// Payments, logged) and words those still owed, each with its "Pay
// online" form when the practice takes online payments.
func (s *pages) owedOnVisit(r *http.Request, pc *patientCtx, appt uuid.UUID) ([]owedLine, error) {
	ctx := r.Context()
	me := pc.patient
	list, err := s.engine.Payments(ctx, pc.practice.ID, billing.PaymentFilter{Patient: &me, Appointment: &appt})
	if err != nil {
		return nil, err
	}
	var out []owedLine
	online := false
	for _, p := range list {
		if !p.Owed() {
			continue
		}
		if len(out) == 0 { // asked once, and only when something is owed
			online = s.engine.TakesOnlinePayments(ctx, pc.practice.ID)
		}
		l := owedLine{Amount: p.Amount.String(), Purpose: pc.v.tf("pay.purpose.", string(p.Purpose))}
		if online {
			l.PayHref = pc.base + "/receipts/" + p.ID.String() + "/pay"
		}
		out = append(out, l)
	}
	return out, nil
}

// owedByVisit reads the caller's own payments (the Engine's Payments,
// logged) and words those still owed, by appointment ID.
func (s *pages) owedByVisit(r *http.Request, pc *patientCtx) (map[string][]owedLine, error) {
	me := pc.patient
	list, err := s.engine.Payments(r.Context(), pc.practice.ID, billing.PaymentFilter{Patient: &me})
	if err != nil {
		return nil, err
	}
	out := map[string][]owedLine{}
	for _, p := range list {
		if p.Owed() && p.Appointment != nil {
			k := p.Appointment.String()
			out[k] = append(out[k], owedLine{Amount: p.Amount.String(), Purpose: pc.v.tf("pay.purpose.", string(p.Purpose))})
		}
	}
	return out, nil
}

// payOnline starts paying one of the caller's own owed payments on the
// provider's hosted page and sends the browser there (toProvider); the
// provider sends it back to showCheckoutReturn.
func (s *pages) payOnline(w http.ResponseWriter, r *http.Request) error {
	pc, err := s.patientView(r, "portal.pay.title")
	if err != nil {
		return err
	}
	id, err := refserver.ParseID("payment", r.PathValue("payment"))
	if err != nil {
		return err
	}
	back := publicBase(r, s.opts) + pc.base + "/receipts/" + id.String() + "/checkout?result="
	cs, err := s.engine.PayOnline(r.Context(), pc.practice.ID, id, carebook.CheckoutURLs{Success: back + "done", Cancel: back + "canceled"})
	if errs.Is(err, errs.KindForbidden) {
		return errs.NotFound("web.payOnline", "payment")
	}
	if err != nil {
		return err
	}
	return s.toProvider(w, r, cs.URL)
}

// checkoutPage is the page the provider's checkout returns to.
type checkoutPage struct {
	*view
	Canceled, Paid    bool
	Amount, Purpose   string
	ReceiptHref, Back string
	PayHref           string
}

// showCheckoutReturn shows where one of the caller's own payments stands
// after the provider's checkout: pending until the provider's webhook
// lands, then paid with its receipt; canceled, with the form to try
// again.
func (s *pages) showCheckoutReturn(w http.ResponseWriter, r *http.Request) error {
	pc, err := s.patientView(r, "portal.checkout.title")
	if err != nil {
		return err
	}
	id, err := refserver.ParseID("payment", r.PathValue("payment"))
	if err != nil {
		return err
	}
	p, err := s.engine.Payment(r.Context(), pc.practice.ID, id)
	if errs.Is(err, errs.KindForbidden) {
		return errs.NotFound("web.showCheckoutReturn", "payment")
	}
	if err != nil {
		return err
	}
	href := pc.base + "/receipts/" + id.String()
	pg := &checkoutPage{view: pc.v, Canceled: r.URL.Query().Get("result") == "canceled", Paid: !p.Owed(),
		Amount: p.Amount.String(), Purpose: pc.v.tf("pay.purpose.", string(p.Purpose)), Back: pc.base + "/receipts"}
	if pg.Paid {
		pg.ReceiptHref = href
	} else if pg.Canceled {
		pg.PayHref = href + "/pay"
	}
	return s.render(w, http.StatusOK, "portal_checkout.html", pg)
}
