package api

import (
	"testing"

	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

// TestInvoicesAPI: practice A's administrator lists its one invoice, with
// its lines and total, and reads it by ID; the front desk is refused; an
// unknown invoice, or practice B's under A, is 404; B's group administrator
// reads B's.
func TestInvoicesAPI(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		m := newMatrixEnvOn(t, st)
		admin, desk, group := bearer(m.token("practice_admin_A")), bearer(m.token("front_desk_A")), bearer(m.token("group_admin"))
		base := func(practice string) string { return "/api/v1/practices/" + practice + "/invoices" }

		list := m.ok(m.do("GET", base(m.a.practice), nil, admin), 200)
		items := list["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("invoices = %v", list)
		}
		inv := items[0].(map[string]any)
		total := inv["total"].(map[string]any)
		if inv["id"] != m.a.invoice || inv["status"] != "open" || total["amount"] != 4900.0 || total["currency"] != "USD" ||
			len(inv["lines"].([]any)) != 1 || inv["paid_at"] != nil {
			t.Fatalf("invoice = %v", inv)
		}
		one := m.ok(m.do("GET", base(m.a.practice)+"/"+m.a.invoice, nil, admin), 200)
		if one["id"] != m.a.invoice || one["lines"].([]any)[0].(map[string]any)["kind"] != "base" {
			t.Fatalf("GET one = %v", one)
		}
		if b := m.ok(m.do("GET", base(m.b.practice)+"/"+m.b.invoice, nil, group), 200); b["id"] != m.b.invoice {
			t.Fatalf("practice B's invoice = %v", b)
		}

		m.problem(m.do("GET", base(m.a.practice), nil, desk), 403, "")
		m.problem(m.do("GET", base(m.a.practice)+"/"+m.a.invoice, nil, desk), 403, "")
		m.problem(m.do("GET", base(m.a.practice)+"/"+uuid.NewString(), nil, admin), 404, "")
		m.problem(m.do("GET", base(m.a.practice)+"/"+m.b.invoice, nil, admin), 404, "")
	})
}
