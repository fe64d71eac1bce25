package api

import (
	"context"
	"strings"
	"testing"

	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

// TestBreakGlassAPI: a clinician of one location is refused the patient's
// $everything; a body that does not decode and a reason too short are 400
// naming the field; break-glass opens it (201), the export is then 200, a
// second opening is 409; the inbox tells the administrator, whose review
// lists the opening with its reason; the front desk is refused both.
func TestBreakGlassAPI(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		m := newMatrixEnvOn(t, st)
		ctx := context.Background()
		tok, _, err := m.engine.Identity.CreateInvitation(ctx, m.practice, "doc@example.com", "staff", uuid.Nil)
		if err != nil {
			t.Fatal(err)
		}
		acct, _, err := m.engine.Identity.AcceptInvitation(ctx, tok, password)
		if err != nil {
			t.Fatal(err)
		}
		m.grant(acct.ID, rbac.ClinicianID, rbac.LocationScope(m.group, m.practice, uuid.MustParse(m.a.location)))
		m.emails["clinician_A"] = "doc@example.com"
		doc, admin, desk := bearer(m.token("clinician_A")), bearer(m.token("practice_admin_A")), bearer(m.token("front_desk_A"))
		base := "/api/v1/practices/" + m.a.practice
		pt := base + "/patients/" + m.a.patient
		m.chartEntry(m.a.practice, m.a.patient)

		m.problem(m.do("GET", pt+"/$everything", nil, doc), 403, "")
		m.problem(m.do("POST", pt+"/break-glass", map[string]any{"reason": 7}, doc), 400, "reason")
		m.problem(m.do("POST", pt+"/break-glass", map[string]any{"reason": "now"}, doc), 400, "reason")
		m.problem(m.do("POST", pt+"/break-glass", map[string]any{"reason": "Collapsed at the front desk."}, desk), 403, "")
		b := m.ok(m.do("POST", pt+"/break-glass", map[string]any{"reason": "Collapsed at the front desk."}, doc), 201)
		if b["reason"] != "Collapsed at the front desk." || b["patient_id"] != m.a.patient {
			t.Fatalf("break-glass = %v", b)
		}
		m.problem(m.do("POST", pt+"/break-glass", map[string]any{"reason": "Collapsed at the front desk."}, doc), 409, "")
		m.problem(m.do("POST", pt+"/break-glass", map[string]any{"reason": "Collapsed at the front desk."}, admin), 409, "")
		m.ok(m.do("GET", pt+"/$everything", nil, doc), 200)

		inbox := m.items(m.do("GET", base+"/inbox", nil, admin))
		told := false
		for _, x := range inbox {
			msg, _ := x.(map[string]any)
			told = told || msg["kind"] == "break_glass" && strings.Contains(msg["text"].(string), m.a.patient)
		}
		if !told {
			t.Errorf("the inbox holds no break-glass notice: %v", inbox)
		}
		review := m.items(m.do("GET", base+"/break-glass", nil, admin))
		if len(review) != 1 || review[0].(map[string]any)["reason"] != "Collapsed at the front desk." {
			t.Errorf("review = %v", review)
		}
		m.problem(m.do("GET", base+"/break-glass", nil, desk), 403, "")
		m.problem(m.do("GET", base+"/break-glass?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z", nil, admin), 400, "to")
		for _, en := range m.entries("chart.export") {
			if en.Outcome == "allowed" && en.Role != "clinician,break_glass" {
				t.Errorf("the export's entry names the role %q, want clinician,break_glass", en.Role)
			}
		}
	})
}
