package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/google/uuid"
)

// The practice administrator's payment policies: how each visit is paid
// (at the desk, a deposit, prepaid online, or a card on file), what it
// costs, and the no-show and late-cancellation fees, for the practice as
// a whole and for each visit type that differs. One page lists them, and
// its form writes one (Engine.PutPaymentPolicy); choosing a row's Edit
// fills the form with it.

// paymentPolicyRoutes are the payment policies page's.
func (s *pages) paymentPolicyRoutes() []refserver.Route {
	p := "/p/{practice}/setup/payments"
	return []refserver.Route{
		route("GET", p, s.showPaymentPolicies, "The practice's payment policies, and a form to write one", refserver.Needs(rbac.PolicyManage)),
		route("POST", p, s.savePaymentPolicy, "Write the practice's default or a visit type's payment policy", refserver.Needs(rbac.PolicyManage)),
	}
}

// policiesPage is the payment policies page.
type policiesPage struct {
	*view
	Rows []policyRow
	// VisitTypes are the form's choices of what a policy applies to (the
	// default first), Collects its ways of paying.
	VisitTypes, Collects, FirstVisits []option
}

// policyRow is one policy, in words.
type policyRow struct {
	For, Collect, FirstVisit, Price, Deposit, NoShow, LateCancel string
	Edit                                                         string // the link filling the form with it
}

// collects are the ways of paying the form offers, with their words.
var collects = []struct {
	collect billing.Collect
	key     string
}{
	{billing.CollectAtDesk, "pay.collect.desk"}, {billing.CollectDeposit, "pay.collect.deposit"},
	{billing.CollectPrepay, "pay.collect.prepay"}, {billing.CollectCardOnFile, "pay.collect.card_on_file"},
}

// defaultPolicy is the form's value of "the practice's default".
const defaultPolicy = "default"

// policiesOf reads the page of r's practice: its policies and the form's
// choices.
func (s *pages) policiesOf(r *http.Request, v *view) (*policiesPage, []*billing.Policy, error) {
	if v.Practice == nil {
		return nil, nil, errs.NotFound("web.policies", "practice")
	}
	ctx, pid := r.Context(), v.Practice.ID
	pols, err := s.engine.PaymentPolicies(ctx, pid)
	if err != nil {
		return nil, nil, err
	}
	vts, err := s.engine.Scheduling.VisitTypes(ctx, pid)
	if err != nil {
		return nil, nil, err
	}
	p := &policiesPage{view: v, VisitTypes: []option{{Value: defaultPolicy, Label: v.T("pay.policy.default")}}}
	for _, vt := range vts {
		p.VisitTypes = append(p.VisitTypes, option{Value: vt.ID.String(), Label: vt.Name})
	}
	for _, c := range collects {
		p.Collects = append(p.Collects, option{Value: string(c.collect), Label: v.T(c.key)})
	}
	p.FirstVisits = append([]option{{Value: "", Label: v.T("pay.policy.first_same")}}, p.Collects...)
	base := practicePath(pid) + "/setup/payments"
	for _, pol := range pols {
		row := policyRow{For: v.T("pay.policy.default"), Collect: nameOf(p.Collects, string(pol.Collect)),
			FirstVisit: nameOf(p.FirstVisits, string(pol.FirstVisit)), Price: moneyOrDash(pol.Price), Deposit: moneyOrDash(pol.Deposit),
			NoShow: feeWords(v, pol.NoShow), LateCancel: feeWords(v, pol.LateCancel), Edit: base + "?for=" + defaultPolicy}
		if pol.VisitType != nil {
			row.For = nameOf(p.VisitTypes, pol.VisitType.String())
			row.Edit = base + "?for=" + pol.VisitType.String()
		}
		p.Rows = append(p.Rows, row)
	}
	return p, pols, nil
}

// moneyOrDash is m in words, "—" when there is none.
func moneyOrDash(m billing.Money) string {
	if m.Amount == 0 {
		return "—"
	}
	return m.String()
}

// feeWords is f in words: a fixed amount, a percentage of the price, or
// none.
func feeWords(v *view, f billing.Fee) string {
	switch {
	case f.Fixed.Amount > 0:
		return f.Fixed.String()
	case f.Percent > 0:
		return v.T("pay.policy.percent", f.Percent)
	}
	return v.T("pay.policy.no_fee")
}

func (s *pages) showPaymentPolicies(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "pay.policy.title")
	if r.URL.Query().Get("saved") == "1" {
		v.Notice = v.T("pay.policy.saved")
	}
	p, pols, err := s.policiesOf(r, v)
	if err != nil {
		return err
	}
	// The form starts as the policy chosen for editing, else the default.
	chosen := r.URL.Query().Get("for")
	if chosen == "" {
		chosen = defaultPolicy
	}
	v.Form = url.Values{"for": {chosen}, "currency": {string(s.practiceCurrency(r.Context(), v.Practice.ID))}}
	for _, pol := range pols {
		if (pol.VisitType == nil && chosen == defaultPolicy) || (pol.VisitType != nil && pol.VisitType.String() == chosen) {
			v.Form = policyForm(chosen, pol)
		}
	}
	return s.render(w, http.StatusOK, "admin_payments.html", p)
}

// policyForm is pol as the form's fields, applying to chosen.
func policyForm(chosen string, pol *billing.Policy) url.Values {
	cur := pol.Price.Currency
	if cur == "" {
		cur = pol.Deposit.Currency
	}
	f := url.Values{"for": {chosen}, "collect": {string(pol.Collect)}, "first_visit": {string(pol.FirstVisit)}, "currency": {string(cur)}}
	amount := func(name string, m billing.Money) {
		if m.Amount > 0 {
			s := m.String()
			f.Set(name, strings.TrimSuffix(s, " "+string(m.Currency)))
			if cur == "" {
				f.Set("currency", string(m.Currency))
			}
		}
	}
	amount("price", pol.Price)
	amount("deposit", pol.Deposit)
	for _, fee := range []struct {
		name string
		fee  billing.Fee
	}{{"no_show", pol.NoShow}, {"late_cancel", pol.LateCancel}} {
		amount(fee.name+".fixed", fee.fee.Fixed)
		if fee.fee.Percent > 0 {
			f.Set(fee.name+".percent", strconv.Itoa(fee.fee.Percent))
		}
	}
	return f
}

func (s *pages) savePaymentPolicy(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "pay.policy.title")
	p, _, err := s.policiesOf(r, v)
	if err != nil {
		return err
	}
	pol, err := policyFromForm(r, v.Practice.ID)
	if err == nil {
		_, err = s.engine.PutPaymentPolicy(r.Context(), pol)
	}
	if err != nil {
		return s.invalid(w, r, v, "admin_payments.html", p, formField(err))
	}
	return see(w, r, practicePath(v.Practice.ID)+"/setup/payments?saved=1")
}

// policyFromForm reads the policy r's form writes for practice, its
// amounts in the form's currency. Bad input is KindInvalid naming the
// form's field.
func policyFromForm(r *http.Request, practice uuid.UUID) (*billing.Policy, error) {
	const op = "web.savePaymentPolicy"
	pol := &billing.Policy{Practice: practice, Collect: billing.Collect(r.PostFormValue("collect")),
		FirstVisit: billing.Collect(r.PostFormValue("first_visit"))}
	if chosen := r.PostFormValue("for"); chosen != defaultPolicy {
		id, err := refserver.ParseID("for", chosen)
		if err != nil {
			return nil, err
		}
		pol.VisitType = &id
	}
	cur := billing.Currency(strings.ToUpper(strings.TrimSpace(r.PostFormValue("currency"))))
	if _, ok := cur.MinorUnits(); !ok {
		return nil, errs.Invalid(op, "currency", "write a currency code such as USD")
	}
	for _, a := range []struct {
		name string
		to   *billing.Money
	}{{"price", &pol.Price}, {"deposit", &pol.Deposit}, {"no_show.fixed", &pol.NoShow.Fixed}, {"late_cancel.fixed", &pol.LateCancel.Fixed}} {
		if strings.TrimSpace(r.PostFormValue(a.name)) == "" {
			// None, in the form's currency: a price the policy needs
			// is then refused as missing, by its field.
			*a.to = billing.Money{Currency: cur}
			continue
		}
		m, err := billing.ParseMoney(r.PostFormValue(a.name), cur, a.name)
		if err != nil {
			return nil, err
		}
		*a.to = m
	}
	for _, pc := range []struct {
		name string
		to   *int
	}{{"no_show.percent", &pol.NoShow.Percent}, {"late_cancel.percent", &pol.LateCancel.Percent}} {
		n, err := formInt(r, pc.name, false)
		if err != nil {
			return nil, err
		}
		if n < 0 || n > billing.MaxPercent {
			return nil, errs.Invalid(op, pc.name, "must be 0 to "+strconv.Itoa(billing.MaxPercent))
		}
		*pc.to = int(n)
	}
	return pol, nil
}

// formField is err naming the form's field where the domain names another:
// a currency of any amount is the form's one currency field, and the
// visit type is the form's "for".
func formField(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.KindInvalid {
		return err
	}
	switch {
	case strings.HasSuffix(e.Field, ".currency") || e.Field == "currency":
		return errs.Invalid(e.Op, "currency", e.Msg)
	case e.Field == "visit_type_id":
		return errs.Invalid(e.Op, "for", e.Msg)
	case e.Field == "no_show" || e.Field == "late_cancel":
		return errs.Invalid(e.Op, e.Field+".fixed", e.Msg)
	}
	return err
}
