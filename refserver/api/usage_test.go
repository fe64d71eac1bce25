package api

import (
	"net/url"
	"testing"
	"time"

	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestUsageAPI: the fixture's two bookings of practice A show in its usage
// (per day and in total) for its administrator, once each; the front desk
// is refused, even with a bad range; a missing or reversed range is 400
// naming the field; practice B's usage does not count A's bookings.
func TestUsageAPI(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		m := newMatrixEnvOn(t, st)
		admin, desk, group := bearer(m.token("practice_admin_A")), bearer(m.token("front_desk_A")), bearer(m.token("group_admin"))
		rng := func(from, to time.Time) string {
			return "?from=" + url.QueryEscape(from.Format(time.RFC3339)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339))
		}
		day := rng(testNow.Add(-24*time.Hour), testNow.Add(24*time.Hour))
		usage := func(practice string) string { return "/api/v1/practices/" + practice + "/usage" }

		u := m.ok(m.do("GET", usage(m.a.practice)+day, nil, admin), 200)
		totals := u["totals"].([]any)
		if len(totals) != 1 || totals[0].(map[string]any)["meter"] != "bookings" || totals[0].(map[string]any)["units"] != 2.0 {
			t.Fatalf("totals = %v", u)
		}
		days := u["days"].([]any)
		if len(days) != 1 || days[0].(map[string]any)["day"] != testNow.UTC().Format(time.DateOnly) {
			t.Fatalf("days = %v", days)
		}
		if b := m.ok(m.do("GET", usage(m.b.practice)+day, nil, group), 200); len(b["totals"].([]any)) != 1 || b["totals"].([]any)[0].(map[string]any)["units"] != 1.0 {
			t.Fatalf("practice B's usage = %v", b)
		}

		m.problem(m.do("GET", usage(m.a.practice)+day, nil, desk), 403, "")
		m.problem(m.do("GET", usage(m.a.practice), nil, desk), 403, "")
		m.problem(m.do("GET", usage(m.a.practice), nil, admin), 400, "from")
		m.problem(m.do("GET", usage(m.a.practice)+"?from=2030-01-01T00:00:00Z", nil, admin), 400, "to")
		m.problem(m.do("GET", usage(m.a.practice)+"?from=yesterday&to=2030-01-01T00:00:00Z", nil, admin), 400, "from")
		m.problem(m.do("GET", usage(m.a.practice)+rng(testNow, testNow.Add(-time.Hour)), nil, admin), 400, "to")
		m.problem(m.do("GET", usage(m.a.practice)+rng(testNow, testNow.AddDate(2, 0, 0)), nil, admin), 400, "to")
	})
}
