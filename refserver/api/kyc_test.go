package api

import (
	"net/http"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/nppes"
	"github.com/carebook/carebook/nppes/nppestest"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestVerifyPracticeAPI: through the real stack, a practice reads
// unverified, each bad NPI is 400 naming npi, a registry down is 422
// naming npi (not a 5xx), and a good one verifies it, with the registry's
// name.
func TestVerifyPracticeAPI(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		reg := nppestest.New()
		t.Cleanup(reg.Close)
		reg.Add(nppestest.Record{NPI: "1245319599", Type: "NPI-2", Status: "A", Organization: "HARBOR PEDIATRICS"})
		reg.Add(nppestest.Record{NPI: "1234567893", Type: "NPI-1", Status: "A", First: "ADA", Last: "LOVELACE"})
		client, err := nppes.New(nppes.Config{BaseURL: reg.URL()})
		if err != nil {
			t.Fatal(err)
		}
		e := newAuthEnvWith(t, st, testBucket(t), carebook.WithNPIRegistry(client))
		admin := bearer(e.login("admin@example.com", password).token)
		f := struct{ base string }{e.base}

		if got := e.ok(e.do("GET", f.base+"/verification", nil, admin), 200); got["verified"] != false || len(got) != 1 {
			t.Fatalf("unverified: %v", got)
		}
		for _, npi := range []string{"12", "1245319598", "1345678902", "1234567893"} {
			e.problem(e.do("POST", f.base+"/verification", map[string]any{"npi": npi}, admin), 400, "npi")
		}
		e.problem(e.do("POST", f.base+"/verification", map[string]any{"npi": 1245319599}, admin), 400, "npi")
		reg.Fail(http.StatusServiceUnavailable)
		e.problem(e.do("POST", f.base+"/verification", map[string]any{"npi": "1245319599"}, admin), 422, "npi")
		reg.Fail(0)
		got := e.ok(e.do("POST", f.base+"/verification", map[string]any{"npi": "1245319599"}, admin), 200)
		if got["verified"] != true || got["npi"] != "1245319599" || got["registry_name"] != "HARBOR PEDIATRICS" {
			t.Fatalf("verified: %v", got)
		}
		if got := e.ok(e.do("GET", f.base+"/verification", nil, admin), 200); got["registry_name"] != "HARBOR PEDIATRICS" || got["verified_by"] != "staff:"+e.admin.String() {
			t.Fatalf("read back: %v", got)
		}
	})
}
