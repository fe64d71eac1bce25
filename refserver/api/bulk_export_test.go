package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// mustFHIRSchema compiles the vendored official R4 JSON schema.
func mustFHIRSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile("../../ehr/fhir/testdata/fhir.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("fhir.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("fhir.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// kickOff starts a bulk export of practice as who and returns the path of
// its status URL.
func (m *matrixEnv) kickOff(practice, query string, who reqOpt) string {
	m.t.Helper()
	res := m.do("GET", "/api/v1/practices/"+practice+"/$export"+query, nil, who, withHeader("Prefer", "respond-async"))
	if res.status != http.StatusAccepted {
		m.t.Fatalf("kick-off: %d %s", res.status, res.body)
	}
	u, err := url.Parse(res.header.Get("Content-Location"))
	if err != nil || !u.IsAbs() {
		m.t.Fatalf("Content-Location %q: %v", res.header.Get("Content-Location"), err)
	}
	return u.Path
}

// manifest is the manifest an export's status answers once complete.
type manifest struct {
	TransactionTime     string `json:"transactionTime"`
	Request             string `json:"request"`
	RequiresAccessToken bool   `json:"requiresAccessToken"`
	Output              []struct {
		Type, URL string
		Count     int
	} `json:"output"`
	Error     []any `json:"error"`
	Extension struct {
		ExpiresAt string `json:"expiresAt"`
		Expired   bool   `json:"expired"`
	} `json:"extension"`
}

// TestBulkExportAPI: through the whole handler stack with real sessions,
// an administrator kicks a bulk export off (202, Content-Location), polls
// it (202, X-Progress), and once the runner has run it reads the manifest
// and downloads each NDJSON file, every line valid R4; bad input names its
// parameter; the front desk is refused; another administrator does not
// see the export; a cancel is 202, then 404 and 409; a day later the
// manifest says the files expired and they are gone.
func TestBulkExportAPI(t *testing.T) {
	schema := mustFHIRSchema(t)
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		m := newMatrixEnvOn(t, st)
		base := "/api/v1/practices/" + m.a.practice
		admin, desk := bearer(m.token("practice_admin_A")), bearer(m.token("front_desk_A"))
		async := withHeader("Prefer", "respond-async")

		m.problem(m.do("GET", base+"/$export", nil, admin), 400, "Prefer")
		for q, field := range map[string]string{"?_outputFormat=text/csv": "_outputFormat", "?_since=yesterday": "_since",
			"?_type=Patient,Claim": "_type", "?_typeFilter=Patient%3Factive%3Dtrue": "_typeFilter"} {
			m.problem(m.do("GET", base+"/$export"+q, nil, admin, async), 400, field)
		}
		m.problem(m.do("GET", base+"/$export", nil, desk, async), 403, "")

		status := m.kickOff(m.a.practice, "?_outputFormat=application/fhir%2Bndjson", admin)
		res := m.do("GET", status, nil, admin)
		if res.status != http.StatusAccepted || res.header.Get("X-Progress") != "accepted" {
			t.Fatalf("status before the run: %d %v", res.status, res.header)
		}
		m.problem(m.do("GET", status, nil, bearer(m.token("group_admin"))), 404, "")
		m.problem(m.do("GET", status, nil, desk), 403, "")

		if n, err := m.engine.RunExports(context.Background()); err != nil || n != 1 {
			t.Fatalf("RunExports = %d, %v", n, err)
		}
		res = m.do("GET", status, nil, admin)
		var man manifest
		if res.status != http.StatusOK || json.Unmarshal(res.body, &man) != nil {
			t.Fatalf("status after the run: %d %s", res.status, res.body)
		}
		if !man.RequiresAccessToken || man.TransactionTime == "" || len(man.Error) != 0 || man.Extension.Expired ||
			man.Request != "http://example.com"+base+"/$export?_outputFormat=application/fhir%2Bndjson" || res.header.Get("Expires") == "" {
			t.Fatalf("manifest: %s %v", res.body, res.header)
		}
		types := map[string]int{}
		var first string
		for _, o := range man.Output {
			u, err := url.Parse(o.URL)
			if err != nil {
				t.Fatal(err)
			}
			if first == "" {
				first = u.Path
			}
			res := m.do("GET", u.Path, nil, admin)
			if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/fhir+ndjson" {
				t.Fatalf("%s: %d %s", o.URL, res.status, res.header.Get("Content-Type"))
			}
			sc := bufio.NewScanner(bytes.NewReader(res.body))
			sc.Buffer(nil, 1<<20)
			lines := 0
			for sc.Scan() {
				lines++
				v, err := jsonschema.UnmarshalJSON(bytes.NewReader(sc.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				if err := schema.Validate(v); err != nil {
					t.Fatalf("%s line %d: %v", o.Type, lines, err)
				}
				var r struct{ ResourceType string }
				if json.Unmarshal(sc.Bytes(), &r); r.ResourceType != o.Type {
					t.Fatalf("%s line %d is a %s", o.Type, lines, r.ResourceType)
				}
			}
			if lines != o.Count {
				t.Fatalf("%s: %d lines, manifest says %d", o.Type, lines, o.Count)
			}
			types[o.Type] += o.Count
			m.problem(m.do("GET", u.Path, nil, bearer(m.token("group_admin"))), 404, "")
		}
		if types["Patient"] != 2 || types["Organization"] != 1 || types["Appointment"] != 2 || types["Practitioner"] != 1 {
			t.Fatalf("exported %v", types)
		}

		// A cancel before the run: 202, then the status is gone and a
		// second cancel conflicts.
		other := m.kickOff(m.a.practice, "?_type=Patient&_since=2030-01-01T00:00:00Z", admin)
		if res := m.do("DELETE", other, nil, admin); res.status != http.StatusAccepted {
			t.Fatalf("cancel: %d %s", res.status, res.body)
		}
		m.problem(m.do("GET", other, nil, admin), 404, "")
		m.problem(m.do("DELETE", other, nil, admin), 409, "")

		// A day later the files are gone, and the manifest says so.
		m.clock.Advance(carebook.DefaultExportTTL + time.Minute)
		delete(m.sessions, "practice_admin_A")
		admin = bearer(m.token("practice_admin_A"))
		res = m.do("GET", status, nil, admin)
		man = manifest{}
		if res.status != http.StatusOK || json.Unmarshal(res.body, &man) != nil || !man.Extension.Expired || len(man.Output) != 0 {
			t.Fatalf("expired manifest: %d %s", res.status, res.body)
		}
		m.problem(m.do("GET", first, nil, admin), 404, "")
		if n, err := m.engine.RunExports(context.Background()); err != nil || n != 0 {
			t.Fatalf("RunExports = %d, %v", n, err)
		}
		m.problem(m.do("GET", first, nil, admin), 404, "")
	})
}
