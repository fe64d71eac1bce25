package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestEverythingAPI: an admin pages through a patient's $everything two
// resources at a time by the Bundle's next links (application/fhir+json,
// total counted once); the front desk is refused; a bad _count names it.
func TestEverythingAPI(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		m := newMatrixEnvOn(t, st)
		path := "/api/v1/practices/" + m.a.practice + "/patients/" + m.a.patient + "/$everything"
		admin, desk := bearer(m.token("practice_admin_A")), bearer(m.token("front_desk_A"))
		types, pages, total := map[string]int{}, 0, -1
		for next := path + "?_count=2"; next != ""; pages++ {
			res := m.do("GET", next, nil, admin)
			if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/fhir+json" {
				t.Fatalf("page %d: %d %s %s", pages, res.status, res.header.Get("Content-Type"), res.body)
			}
			var b struct {
				ResourceType, Type string
				Total              int
				Link               []struct{ Relation, URL string }
				Entry              []struct {
					FullURL  string `json:"fullUrl"`
					Resource struct{ ResourceType, ID string }
				}
			}
			if err := json.Unmarshal(res.body, &b); err != nil || b.ResourceType != "Bundle" || b.Type != "searchset" || len(b.Entry) > 2 {
				t.Fatalf("page %d: %v %s", pages, err, res.body)
			}
			if total != -1 && b.Total != total {
				t.Fatalf("total changed: %d then %d", total, b.Total)
			}
			total = b.Total
			for _, e := range b.Entry {
				types[e.Resource.ResourceType]++
			}
			next = ""
			for _, l := range b.Link {
				if l.Relation == "next" {
					u, err := url.Parse(l.URL)
					if err != nil {
						t.Fatal(err)
					}
					next = u.RequestURI()
				}
			}
		}
		n := 0
		for _, c := range types {
			n += c
		}
		if n != total || types["Patient"] != 1 || types["Organization"] != 1 || types["Appointment"] == 0 || pages < 2 {
			t.Fatalf("%d pages, %v, total %d", pages, types, total)
		}
		if res := m.do("GET", path, nil, desk); res.status != http.StatusForbidden {
			t.Fatalf("front desk: %d", res.status)
		}
		if res := m.do("GET", path+"?_count=0", nil, admin); res.status != http.StatusBadRequest {
			t.Fatalf("_count=0: %d %s", res.status, res.body)
		}
	})
}
