package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/refserver"
)

// TestDocumentMatchesRouteTable checks that the OpenAPI document describes
// exactly the routes of the table: same methods, same paths, same summaries.
func TestDocumentMatchesRouteTable(t *testing.T) {
	var d struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument(), &d); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", d.OpenAPI)
	}
	inDoc := map[string]string{} // "METHOD path" => summary
	for path, item := range d.Paths {
		for key, raw := range item {
			switch key {
			case "parameters", "summary", "description", "servers", "$ref":
				continue
			}
			var op struct {
				Summary string `json:"summary"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			inDoc[strings.ToUpper(key)+" "+path] = op.Summary
		}
	}
	s := newServer(&carebook.Engine{}, refserver.Options{})
	inTable := map[string]string{}
	for _, rt := range documented(s) {
		k := rt.Method + " " + rt.Pattern
		if _, dup := inTable[k]; dup {
			t.Errorf("route table: %s twice", k)
		}
		inTable[k] = rt.Summary
	}
	for k, sum := range inTable {
		docSum, ok := inDoc[k]
		switch {
		case !ok:
			t.Errorf("route %s is not in the OpenAPI document", k)
		case docSum != sum:
			t.Errorf("%s: summary %q in the document, %q in the table", k, docSum, sum)
		}
	}
	for k := range inDoc {
		if _, ok := inTable[k]; !ok {
			t.Errorf("the OpenAPI document has %s, which the route table lacks", k)
		}
	}
	if _, err := loadDocument(); err != nil {
		t.Fatalf("kin-openapi refuses the document: %v", err)
	}
}

// TestValidatorCatchesDrift makes sure the answer validation the HTTP tests
// rely on does refuse what the document does not describe.
func TestValidatorCatchesDrift(t *testing.T) {
	const path = "/api/v1/practices/0190f0c2-8e3a-7c4d-9b1e-2f3a4b5c6d7e"
	good := `{"id":"0190f0c2-8e3a-7c4d-9b1e-2f3a4b5c6d7e","group_id":"0190f0c2-8e3a-7c4d-9b1e-2f3a4b5c6d7e","name":"P",` +
		`"policy":{"auto_confirm":false,"min_notice_minutes":1,"max_advance_minutes":2,"cancel_cutoff_minutes":3},"created_at":"2030-03-04T15:00:00Z"}`
	h := http.Header{"Content-Type": {"application/json"}}
	for _, c := range []struct {
		name   string
		status int
		body   string
		ok     bool
	}{
		{"good", 200, good, true},
		{"undocumented key", 200, strings.Replace(good, `"name":"P"`, `"name":"P","secret":1`, 1), false},
		{"missing key", 200, strings.Replace(good, `"name":"P",`, ``, 1), false},
		{"wrong type", 200, strings.Replace(good, `"min_notice_minutes":1`, `"min_notice_minutes":"1"`, 1), false},
		{"duration in nanoseconds", 200, strings.Replace(good, `"min_notice_minutes"`, `"min_notice"`, 1), false},
		{"problem", 404, `{"type":"urn:carebook:problem:not_found","title":"Not Found","status":404,"kind":"not_found"}`, true},
	} {
		hh := h
		if c.status >= 400 {
			hh = http.Header{"Content-Type": {"application/problem+json"}}
		}
		err := validateAnswer(newRequest("GET", path), resp{status: c.status, header: hh, body: []byte(c.body)})
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

// TestDocumentHasNoDuplicateKeys: no object of the document names a key
// twice (a decoder keeps the last, so a second schema of the same name
// silently replaces the first).
func TestDocumentHasNoDuplicateKeys(t *testing.T) {
	dec := json.NewDecoder(bytes.NewReader(openAPIDocument()))
	var walk func(path string)
	walk = func(path string) {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					t.Fatal(err)
				}
				key := k.(string)
				if seen[key] {
					t.Errorf("%s names %q twice", path, key)
				}
				seen[key] = true
				walk(path + "/" + key)
			}
			dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				walk(path + "/" + strconv.Itoa(i))
			}
			dec.Token()
		}
	}
	walk("#")
}
