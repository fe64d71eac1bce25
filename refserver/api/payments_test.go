package api

import (
	"strings"
	"testing"

	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestPaymentsAPI: the front desk takes cash for a visit (201) and the
// patient reads it; bad input is 400 naming the field and writes nothing;
// the receipt is the same text twice; a refund beyond what is left is 409;
// a patient may not refund; an owed-fee payment taken twice is 409; a
// payment policy with an unknown way of collecting is 400; a provider this
// server has none of is 404 on its webhook.
func TestPaymentsAPI(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		m := newMatrixEnvOn(t, st)
		desk, admin, self := bearer(m.token("front_desk_A")), bearer(m.token("practice_admin_A")), bearer(m.token("patient_P1"))
		base := "/api/v1/practices/" + m.a.practice
		cash := map[string]any{"kind": "cash"}
		usd := func(n int) map[string]any { return map[string]any{"amount": n, "currency": "USD"} }

		before := len(m.items(m.do("GET", base+"/payments", nil, desk)))
		m.problem(m.do("POST", base+"/payments", map[string]any{"patient_id": m.a.patient, "amount": usd(100), "method": map[string]any{"kind": "bitcoin"}}, desk), 400, "method.kind")
		m.problem(m.do("POST", base+"/payments", map[string]any{"patient_id": m.a.patient, "amount": usd(0), "method": cash}, desk), 400, "amount")
		m.problem(m.do("POST", base+"/payments", map[string]any{"patient_id": "nope", "amount": usd(100), "method": cash}, desk), 400, "patient_id")
		m.problem(m.do("POST", base+"/payments", map[string]any{"patient_id": m.a.patient, "amount": usd(100), "method": cash, "extra": 1}, self), 403, "")
		if n := len(m.items(m.do("GET", base+"/payments", nil, desk))); n != before {
			t.Fatalf("refused payments wrote %d", n-before)
		}
		p := m.ok(m.do("POST", base+"/payments", map[string]any{"patient_id": m.a.patient, "appointment_id": m.a.appointment,
			"amount": usd(4500), "method": map[string]any{"kind": "card_terminal", "reference": "slip 17"}}, desk), 201)
		if p["status"] != "paid" || p["method"].(map[string]any)["reference"] != "slip 17" {
			t.Fatalf("payment = %v", p)
		}
		id := str(p, "id")
		pay := base + "/payments/" + id
		m.ok(m.do("GET", pay, nil, self), 200)
		r1, r2 := m.do("GET", pay+"/receipt", nil, desk), m.do("GET", pay+"/receipt", nil, self)
		if r1.status != 200 || string(r1.body) != string(r2.body) || !strings.Contains(string(r1.body), "45.00 USD") {
			t.Fatalf("receipts %d %q / %q", r1.status, r1.body, r2.body)
		}
		m.problem(m.do("POST", pay+"/refunds", map[string]any{"amount": usd(500), "reason": "mine"}, self), 403, "")
		m.problem(m.do("POST", pay+"/refunds", map[string]any{"amount": usd(500)}, desk), 400, "reason")
		got := m.ok(m.do("POST", pay+"/refunds", map[string]any{"amount": usd(500), "reason": "overcharged"}, desk), 200)
		if got["status"] != "partially_refunded" || got["net"].(map[string]any)["amount"] != float64(4000) {
			t.Fatalf("after the refund: %v", got)
		}
		m.problem(m.do("POST", pay+"/refunds", map[string]any{"amount": usd(4001), "reason": "too much"}, desk), 409, "")
		m.problem(m.do("POST", pay+"/desk", map[string]any{"method": cash}, desk), 409, "")
		m.problem(m.do("POST", pay+"/reversals", map[string]any{"seq": 9, "reason": "typo"}, desk), 400, "seq")

		m.problem(m.do("PUT", base+"/payment-policies", map[string]any{"collect": "later"}, admin), 400, "collect")
		pol := m.ok(m.do("PUT", base+"/payment-policies", map[string]any{"collect": "desk", "price": usd(9000),
			"no_show": map[string]any{"fixed": usd(2000)}, "late_cancel": map[string]any{"percent": 50}}, admin), 200)
		if pol["no_show"].(map[string]any)["fixed"].(map[string]any)["amount"] != float64(2000) {
			t.Fatalf("policy = %v", pol)
		}
		if n := len(m.items(m.do("GET", base+"/payment-policies", nil, admin))); n != 1 {
			t.Fatalf("%d policies, want 1", n)
		}
		m.problem(m.do("POST", "/webhooks/payments/stripe", map[string]any{"id": "evt_1"}, as("")), 404, "")
	})
}
