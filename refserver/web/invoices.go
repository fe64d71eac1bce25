package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
)

// The practice administrator's invoices: the operator's invoice of each
// closed period (its status, total, when it is charged next and how many
// charges were tried), and one invoice with its lines (quantities, unit
// prices: the total is their sum), its charges, and a "Pay now" form that
// charges it to the payment method on file (Engine.PayInvoice): a
// read-only practice whose invoice is paid writes again on the next
// request. The Engine's guarded Invoices, Invoice and PayInvoice decide
// (billing.read) and write the activity-log entries.

// invoiceRoutes are the invoices pages'.
func (s *pages) invoiceRoutes() []refserver.Route {
	const p = "/p/{practice}/billing/invoices"
	read := refserver.Needs(rbac.BillingRead)
	return []refserver.Route{
		route("GET", p, s.showInvoices, "The practice's invoices from the operator: period, status, total, when due, charges tried", read),
		route("GET", p+"/{invoice}", s.showInvoice, "One invoice: its lines with quantities and unit prices, its total, its charges", read),
		// Guarded: the Engine decides (billing.read), and lets it go on
		// while the practice is read-only, which paying restores.
		route("POST", p+"/{invoice}/pay", s.payInvoice, "Charge the invoice now to the payment method on file", refserver.Guarded()),
	}
}

// invoiceRow is one invoice of the list.
type invoiceRow struct {
	Href, Period, Status, StatusKey, Total, Due string
	Attempts                                    int
}

// invoicesPage is the list of the practice's invoices.
type invoicesPage struct {
	*view
	Base  string
	State *billingState
	Rows  []invoiceRow
}

// invoiceLineRow is one line of an invoice, in words.
type invoiceLineRow struct {
	What, Quantity, Unit, Amount string
	Credit                       bool
}

// attemptRow is one charge of an invoice.
type attemptRow struct {
	At, Outcome, Reference string
	Paid                   bool
}

// invoicePage is one invoice.
type invoicePage struct {
	*view
	Base, Back, PayHref string
	State               *billingState
	Row                 invoiceRow
	Plan, Created, Paid string
	Lines               []invoiceLineRow
	Attempts            []attemptRow
	// CanPay: not paid, so "Pay now" is offered.
	CanPay bool
}

// invoiceHref is the page of invoice id of the practice.
func invoiceHref(pid tenant.PracticeID, id billing.InvoiceID) string {
	return "/p/" + pid.String() + "/billing/invoices/" + id.String()
}

func (s *pages) showInvoices(w http.ResponseWriter, r *http.Request) error {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	invs, err := s.engine.Invoices(ctx, pid)
	if err != nil {
		return err
	}
	v := s.newView(r, "inv.title")
	st, err := s.billingState(r, v, pid)
	if err != nil {
		return err
	}
	pg := &invoicesPage{view: v, Base: "/p/" + pid.String() + "/billing", State: st}
	for _, inv := range invs {
		pg.Rows = append(pg.Rows, invoiceRowOf(v, inv))
	}
	return s.render(w, http.StatusOK, "invoices.html", pg)
}

// invoiceRowOf words inv for the list and the invoice's page.
func invoiceRowOf(v *view, inv *billing.Invoice) invoiceRow {
	row := invoiceRow{Href: invoiceHref(inv.Practice, inv.ID), Period: v.T("plan.period_range", v.date(inv.PeriodStart), v.date(inv.PeriodEnd)),
		StatusKey: string(inv.Status), Total: inv.Total.String(), Attempts: len(inv.Attempts)}
	row.Status = v.tf("inv.status.", string(inv.Status))
	switch {
	case inv.Status == billing.InvoicePaid:
		row.Due = v.T("inv.due.paid", v.date(inv.PaidAt))
	case inv.NextAttempt.IsZero():
		row.Status, row.StatusKey = v.T("inv.status.spent"), "spent"
		row.Due = v.T("inv.due.spent")
	default:
		row.Due = v.date(inv.NextAttempt)
	}
	return row
}

// invoiceOf reads the {invoice} of r's {practice}, and returns the
// practice's ID with it: an invoice ID that is no UUID reads as not found,
// as an unknown one does.
func (s *pages) invoiceOf(r *http.Request) (tenant.PracticeID, *billing.Invoice, error) {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return pid, nil, err
	}
	id, err := refserver.ParseID("invoice", r.PathValue("invoice"))
	if err != nil {
		return pid, nil, errs.NotFound("web.invoice", "invoice")
	}
	inv, err := s.engine.Invoice(r.Context(), pid, id)
	return pid, inv, err
}

func (s *pages) showInvoice(w http.ResponseWriter, r *http.Request) error {
	pid, inv, err := s.invoiceOf(r)
	if err != nil {
		return err
	}
	pg, err := s.invoicePage(r, pid, inv)
	if err != nil {
		return err
	}
	switch r.URL.Query().Get("pay") {
	case "paid":
		pg.Notice = pg.T("inv.pay.paid")
	case "declined":
		pg.Notice, pg.Failed = pg.T("inv.pay.declined"), true
	}
	return s.render(w, http.StatusOK, "invoice.html", pg)
}

// invoicePage is the page of inv, read by the caller of r.
func (s *pages) invoicePage(r *http.Request, pid tenant.PracticeID, inv *billing.Invoice) (*invoicePage, error) {
	ctx := r.Context()
	v := s.newView(r, "inv.one_title")
	st, err := s.billingState(r, v, pid)
	if err != nil {
		return nil, err
	}
	plans, err := s.engine.Plans(ctx)
	if err != nil {
		return nil, err
	}
	planName := func(id billing.PlanID) string {
		if i := slices.IndexFunc(plans, func(p *billing.Plan) bool { return p.ID == id }); i >= 0 {
			return plans[i].Name
		}
		return string(id)
	}
	zone := s.practiceZone(ctx, pid)
	row := invoiceRowOf(v, inv)
	v.Title = v.T("inv.one_title", row.Period)
	pg := &invoicePage{view: v, Base: "/p/" + pid.String() + "/billing", State: st, Row: row, Plan: planName(inv.Plan),
		Created: v.when(inv.CreatedAt, zone), CanPay: inv.Status != billing.InvoicePaid}
	pg.Back = pg.Base + "/invoices"
	pg.PayHref = row.Href + "/pay"
	if !inv.PaidAt.IsZero() {
		pg.Paid = v.when(inv.PaidAt, zone)
	}
	cur := inv.Total.Currency
	for _, l := range inv.Lines {
		pg.Lines = append(pg.Lines, lineRow(v, l, cur, planName))
	}
	for _, a := range inv.Attempts {
		ar := attemptRow{At: v.when(a.At, zone), Paid: a.Paid, Reference: a.ProviderTx, Outcome: v.T("inv.attempt.paid")}
		if !a.Paid {
			ar.Outcome = v.T("inv.attempt.failed", a.Error)
		}
		pg.Attempts = append(pg.Attempts, ar)
	}
	return pg, nil
}

// lineKeys are the catalog's words of the fee lines, by kind.
var lineKeys = map[billing.LineKind]string{
	billing.LineBase: "inv.line.base", billing.LineProrationCredit: "inv.line.proration_credit", billing.LineProrationCharge: "inv.line.proration_charge",
}

// lineRow words one line of an invoice in currency cur.
func lineRow(v *view, l billing.InvoiceLine, cur billing.Currency, planName func(billing.PlanID) string) invoiceLineRow {
	money := func(n int64) string { return billing.Money{Amount: n, Currency: cur}.String() }
	out := invoiceLineRow{Amount: money(l.Amount), Credit: l.Amount < 0}
	if l.Kind == billing.LineUsage {
		name := string(l.Meter)
		if slices.Contains(meterKeys, l.Meter) {
			name = v.tf("plan.meter.", string(l.Meter))
		}
		out.What = v.T("inv.line.usage", name)
		out.Quantity = v.T("inv.qty.units", l.Quantity, l.Of)
		out.Unit = v.T("inv.unit.each", money(l.Unit))
		return out
	}
	out.What = v.T(lineKeys[l.Kind], planName(l.Plan))
	out.Quantity = v.T("inv.qty.days", l.Quantity, l.Of)
	out.Unit = v.T("inv.unit.period", money(l.Unit))
	return out
}

// payInvoice charges the invoice of the path now and shows the outcome
// on its page: paid, or declined (a failed charge, counted); a refusal
// (paid already, no payment method's provider here) is shown on the page
// with its status, never a 5xx.
func (s *pages) payInvoice(w http.ResponseWriter, r *http.Request) error {
	pid, inv, err := s.invoiceOf(r)
	if err != nil {
		return err
	}
	paid, err := s.engine.PayInvoice(r.Context(), pid, inv.ID)
	if err != nil {
		status := refserver.HTTPStatus(errs.KindOf(err))
		if status >= 500 || status == http.StatusForbidden || status == http.StatusNotFound || status == http.StatusUnauthorized {
			return err
		}
		if inv, err = s.engine.Invoice(r.Context(), pid, inv.ID); err != nil {
			return err
		}
		pg, perr := s.invoicePage(r, pid, inv)
		if perr != nil {
			return perr
		}
		pg.Notice, pg.Failed = pg.T("inv.pay.refused", errMsg(err)), true
		return s.render(w, status, "invoice.html", pg)
	}
	outcome := "paid"
	if paid.Status != billing.InvoicePaid {
		outcome = "declined"
	}
	http.Redirect(w, r, invoiceHref(pid, inv.ID)+"?pay="+outcome, http.StatusSeeOther)
	return nil
}

// billingState is what the billing pages say of the practice's account
// above their content: read-only since when, why and what restores it;
// the trial's end; the card on file.
type billingState struct {
	// ReadOnly words each reason the practice is read-only; Since, when.
	ReadOnly []string
	Since    string
	// TrialEnd is the day a trial ends ("" when not trialing).
	TrialEnd string
	// NoCard: no payment method is on file.
	NoCard            bool
	MethodHref        string
	InvoicesHref      string
	PaymentFailed     bool
	TrialEndedNoMoney bool
}

// billingState reads the practice's account state for the billing pages.
func (s *pages) billingState(r *http.Request, v *view, pid tenant.PracticeID) (*billingState, error) {
	ctx := r.Context()
	base := "/p/" + pid.String() + "/billing"
	st := &billingState{MethodHref: base + "/payment-method", InvoicesHref: base + "/invoices"}
	ros, err := s.engine.ReadOnlyState(ctx, pid)
	if err != nil {
		return nil, err
	}
	var since time.Time
	for _, ro := range ros {
		st.ReadOnly = append(st.ReadOnly, v.tf("billing.ro.", string(ro.Reason)))
		if since.IsZero() || ro.Since.Before(since) {
			since = ro.Since
		}
		st.PaymentFailed = st.PaymentFailed || ro.Reason == billing.ReadOnlyPaymentFailed
		st.TrialEndedNoMoney = st.TrialEndedNoMoney || ro.Reason == billing.ReadOnlyTrialEnded
	}
	if !since.IsZero() {
		st.Since = v.when(since, s.practiceZone(ctx, pid))
	}
	sub, err := s.engine.Subscription(ctx, pid)
	switch {
	case errs.Is(err, errs.KindNotFound):
	case err != nil:
		return nil, err
	case sub.Status == billing.SubscriptionTrialing && !sub.TrialEnd.IsZero():
		st.TrialEnd = v.date(sub.TrialEnd)
	}
	_, err = s.engine.PracticePaymentMethod(ctx, pid)
	switch {
	case errs.Is(err, errs.KindNotFound):
		st.NoCard = true
	case err != nil:
		return nil, err
	}
	return st, nil
}
