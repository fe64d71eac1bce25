package api

import (
	"testing"

	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

// TestConsentHistoryOfUnknownPatient answers 404 for the consent history
// of another practice's patient and of a random ID, like every route on a
// patient, on SQLite and PostgreSQL.
func TestConsentHistoryOfUnknownPatient(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		a, b := e.setup("Clinic A"), e.setup("Clinic B")
		e.ok(e.do("PATCH", a.base+"/patients/"+a.patient+"/preferences", map[string]any{"marketing": true}), 200)
		if n := len(e.items(e.do("GET", a.base+"/patients/"+a.patient+"/consent-history", nil))); n != 1 {
			t.Fatalf("A's patient has %d consent changes, want 1", n)
		}
		e.problem(e.do("GET", b.base+"/patients/"+a.patient+"/consent-history", nil), 404, "")
		e.problem(e.do("GET", b.base+"/patients/"+uuid.NewString()+"/consent-history", nil), 404, "")
		e.ok(e.do("GET", b.base+"/patients/"+b.patient+"/consent-history", nil), 200)
	})
}
