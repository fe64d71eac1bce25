package api

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/billingtest"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestReadOnlyAPI walks a trial's end through the real handler stack:
// practice A's trial ran out without a payment method, the trial job
// makes it read-only, and its writes (a booking, a new patient, a
// location, a payment policy) are 402 problem documents of type
// practice_read_only naming the reason and the remedy; reads and the
// patient's own cancellation go on; the administrator attaches a card and
// the next write is 201. Practice B writes throughout.
func TestReadOnlyAPI(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		fake := stripetest.NewFake(clock.System{})
		t.Cleanup(fake.Close)
		sa, err := stripe.New(stripe.Config{SecretKey: "sk_test_ro", WebhookSecret: "whsec_ro", BackendURL: fake.URL(), Clock: clock.System{}, Retries: -1})
		if err != nil {
			t.Fatal(err)
		}
		m := newMatrixEnvOn(t, st, carebook.WithPaymentAdapter("stripe", sa))
		ctx := context.Background()
		admin, desk, self, group := bearer(m.token("practice_admin_A")), bearer(m.token("front_desk_A")), bearer(m.token("patient_P1")), bearer(m.token("group_admin"))
		base, baseB := "/api/v1/practices/"+m.a.practice, "/api/v1/practices/"+m.b.practice
		if err := m.engine.PutPlan(ctx, billingtest.SamplePlan("basic")); err != nil {
			t.Fatal(err)
		}
		// A subscribed 14 days ago: its trial ended an hour ago.
		if err := st.Billing.PutSubscription(ctx, &billing.Subscription{Practice: m.practice, Plan: "basic", Status: billing.SubscriptionTrialing,
			TrialEnd: testNow.Add(-time.Hour), PeriodStart: testNow.AddDate(0, 0, -14), UpdatedAt: testNow.AddDate(0, 0, -14)}); err != nil {
			t.Fatal(err)
		}
		// A visit of the patient's, beyond the cancellation cut-off, booked
		// while A still writes.
		visit := str(m.ok(m.do("POST", base+"/appointments", map[string]any{"patient_id": m.a.patient, "provider_id": m.a.provider,
			"visit_type_id": m.a.visitType, "start": "2030-03-07T09:00:00-05:00"}, desk), 201), "id")
		if n, err := m.engine.EndTrials(ctx); err != nil || n != 1 {
			t.Fatalf("EndTrials = %d, %v, want 1", n, err)
		}

		refused := func(res resp) {
			t.Helper()
			p := m.problem(res, 402, "")
			if p.Type != refserver.ProblemTypePrefix+"practice_read_only" || p.Kind != "practice_read_only" || p.Title != "Payment Required" ||
				!strings.Contains(p.Detail, "trial ended without a payment method") || !strings.Contains(p.Detail, "add a payment method") {
				t.Fatalf("problem = %+v", p)
			}
			var d struct {
				Details billing.ReadOnlyDetails `json:"details"`
			}
			if err := json.Unmarshal(res.body, &d); err != nil || len(d.Details.Reasons) != 1 || d.Details.Reasons[0] != billing.ReadOnlyTrialEnded ||
				!d.Details.Since.Equal(testNow) || d.Details.Restore[0] != "add a payment method" {
				t.Fatalf("details = %+v, %v: %s", d.Details, err, res.body)
			}
		}
		before := sqltest.RowCounts(t, st)
		refused(m.do("POST", base+"/appointments", map[string]any{"patient_id": m.a.patient, "provider_id": m.a.provider,
			"visit_type_id": m.a.visitType, "start": "2030-03-07T10:00:00-05:00"}, desk))
		refused(m.do("POST", base+"/patients", map[string]any{"given_name": "Ada", "family_name": "Byron", "birth_date": "1985-12-10", "phone": "+12025550145"}, desk))
		refused(m.do("POST", base+"/locations", map[string]any{"name": "Second street", "time_zone": "America/New_York",
			"address": map[string]any{"line1": "2 Main St", "city": "New York", "region": "NY", "country": "US"}}, admin))
		refused(m.do("PUT", base+"/payment-policies", map[string]any{"collect": "desk"}, admin))
		refused(m.do("POST", base+"/appointments/"+visit+"/status", map[string]any{"status": "canceled"}, desk))
		if after := sqltest.RowCounts(t, st); !maps.Equal(before, after) {
			t.Fatalf("the refused requests changed row counts: before %v, after %v", before, after)
		}

		// Reads go on, and the patient cancels their own visit.
		m.ok(m.do("GET", base+"/patients", nil, desk), 200)
		m.ok(m.do("GET", base+"/payment-policies", nil, admin), 200)
		ro := m.items(m.do("GET", base+"/billing/read-only", nil, admin))
		if len(ro) != 1 || ro[0].(map[string]any)["reason"] != "trial_ended" || ro[0].(map[string]any)["restore"] != "add a payment method" {
			t.Fatalf("read-only = %v", ro)
		}
		m.ok(m.do("POST", base+"/appointments/"+visit+"/status", map[string]any{"status": "canceled"}, self), 200)
		m.ok(m.do("POST", baseB+"/patients", map[string]any{"given_name": "Ada", "family_name": "Byron", "birth_date": "1985-12-10", "phone": "+12025550145"}, group), 201)

		// The administrator saves a card: the next write goes through.
		if pm := m.ok(m.do("GET", base+"/billing/payment-method", nil, admin), 200); pm["on_file"] != false || len(pm) != 1 {
			t.Fatalf("no payment method = %v", pm)
		}
		m.problem(m.do("PUT", base+"/billing/payment-method", map[string]any{"provider": "stripe"}, admin), 400, "token")
		m.problem(m.do("PUT", base+"/billing/payment-method", map[string]any{"provider": "stripe", "token": "pm_x"}, desk), 403, "")
		setup := m.ok(m.do("POST", base+"/billing/payment-method/setup", map[string]any{"provider": "stripe"}, admin), 201)
		token, err := fake.CompleteSetup(str(setup, "setup_ref"), stripetest.CardVisa)
		if err != nil {
			t.Fatal(err)
		}
		pm := m.ok(m.do("PUT", base+"/billing/payment-method", map[string]any{"provider": "stripe", "setup_ref": str(setup, "setup_ref"),
			"token": token, "label": "Visa ending 4242"}, admin), 200)
		if pm["label"] != "Visa ending 4242" || pm["on_file"] != true || pm["token"] != nil {
			t.Fatalf("payment method = %v", pm)
		}
		if got := m.ok(m.do("GET", base+"/billing/payment-method", nil, admin), 200); got["provider"] != "stripe" || got["label"] != "Visa ending 4242" {
			t.Fatalf("payment method read = %v", got)
		}
		m.ok(m.do("POST", base+"/patients", map[string]any{"given_name": "Ada", "family_name": "Byron", "birth_date": "1985-12-10", "phone": "+12025550145"}, desk), 201)
		if ro := m.items(m.do("GET", base+"/billing/read-only", nil, admin)); len(ro) != 0 {
			t.Fatalf("read-only after the card = %v", ro)
		}
		for _, a := range []string{carebook.ActionReadOnlyEnter, carebook.ActionPaymentMethodSetup, carebook.ActionPaymentMethodAttach, carebook.ActionReadOnlyLeave} {
			if got := m.entriesOf(a, audit.Allowed); len(got) != 1 {
				t.Errorf("%d allowed entries of %s, want 1", len(got), a)
			}
		}
		if got := m.entriesOf(carebook.ActionPaymentMethodAttach, audit.Denied); len(got) != 1 {
			t.Errorf("%d denied attachments, want the front desk's", len(got))
		}
	})
}
