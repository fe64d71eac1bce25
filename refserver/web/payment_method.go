package web

import (
	"net/http"
	"net/url"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
)

// The practice administrator's payment method: the card on file that the
// operator charges the practice's invoices to (its label, provider, when
// and by whom it was saved), and a button that adds or replaces it on the
// provider's own page (billing.SetupCheckout), so that no card number
// touches carebook and the page needs no script. The provider sends the
// browser back to this page with its session's ID, and the page attaches
// the card it saved (Engine.CompletePaymentMethodCheckout); the
// provider's webhook attaches it too, should the browser not come back.

// paymentMethodRoutes are the payment method page's.
func (s *pages) paymentMethodRoutes() []refserver.Route {
	const p = "/p/{practice}/billing/payment-method"
	return []refserver.Route{
		route("GET", p, s.showPaymentMethod, "The practice's card on file for the operator's invoices; the provider's page sends the browser back here",
			refserver.Needs(rbac.BillingRead)),
		// Guarded: the Engine decides (practice.manage), and lets it go on
		// while the practice is read-only, which the card may restore.
		route("POST", p, s.startPaymentMethod, "Add or replace the card on file on the provider's hosted page", refserver.Guarded()),
	}
}

// paymentMethodPage is the payment method page.
type paymentMethodPage struct {
	*view
	Base  string
	State *billingState
	// Label, Provider, SavedAt and SavedBy are the card on file; Label is
	// "" when there is none.
	Label, Provider, SavedAt, SavedBy string
	// CanAdd: a provider of this server hosts the page that saves a card.
	CanAdd bool
}

// Query parameters of the page: where the provider's page sent the
// browser back from.
const (
	setupParam    = "setup"    // "done" or "canceled"
	providerParam = "provider" // the adapter's name
)

func (s *pages) showPaymentMethod(w http.ResponseWriter, r *http.Request) error {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	q := r.URL.Query()
	status, notice, failed := http.StatusOK, "", false
	switch q.Get(setupParam) {
	case "done":
		_, err := s.engine.CompletePaymentMethodCheckout(ctx, pid, q.Get(providerParam), q.Get(billing.SessionParam))
		switch st := refserver.HTTPStatus(errs.KindOf(err)); {
		case err == nil:
			notice = "pm.saved_ok"
		case st >= 500 || st == http.StatusForbidden || st == http.StatusNotFound || st == http.StatusUnauthorized:
			return err
		default:
			status, notice, failed = st, "pm.not_saved", true
		}
	case "canceled":
		notice = "pm.canceled"
	}
	v := s.newView(r, "pm.title")
	st, err := s.billingState(r, v, pid)
	if err != nil {
		return err
	}
	pg := &paymentMethodPage{view: v, Base: "/p/" + pid.String() + "/billing", State: st, CanAdd: s.engine.SetupCheckoutProvider() != ""}
	if notice != "" {
		v.Notice, v.Failed = v.T(notice), failed
	}
	m, err := s.engine.PracticePaymentMethod(ctx, pid)
	switch {
	case errs.Is(err, errs.KindNotFound):
	case err != nil:
		return err
	default:
		pg.Label, pg.Provider, pg.SavedBy = m.Label, m.Provider, m.SavedBy
		pg.SavedAt = v.when(m.SavedAt, s.practiceZone(ctx, pid))
		if pg.Label == "" {
			pg.Label = v.T("pm.card")
		}
	}
	return s.render(w, status, "payment_method.html", pg)
}

// startPaymentMethod starts the provider's page that saves the card and
// sends the browser there.
func (s *pages) startPaymentMethod(w http.ResponseWriter, r *http.Request) error {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	provider := s.engine.SetupCheckoutProvider()
	back := publicBase(r, s.opts) + "/p/" + pid.String() + "/billing/payment-method?"
	done := url.Values{setupParam: {"done"}, providerParam: {provider}}
	cs, err := s.engine.StartPaymentMethodCheckout(r.Context(), pid, provider,
		carebook.CheckoutURLs{Success: back + done.Encode(), Cancel: back + setupParam + "=canceled"})
	if err != nil {
		return err
	}
	return s.toProvider(w, r, cs.URL)
}

// providerPage is the page that takes the browser on to a provider's
// hosted page.
type providerPage struct {
	*view
	URL string
}

// toProvider answers a form that starts a provider's hosted page with a
// page that goes on there at once (a meta refresh, with a link for a
// browser that does not follow it), rather than a redirect: the pages'
// CSP (form-action 'self') forbids a form's redirect to another origin.
func (s *pages) toProvider(w http.ResponseWriter, r *http.Request, to string) error {
	u, err := url.Parse(to)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errs.E(errs.KindInternal, "web.toProvider", "the provider's page has no absolute URL")
	}
	return s.render(w, http.StatusOK, "to_provider.html", &providerPage{view: s.newView(r, "pm.to_provider"), URL: u.String()})
}
