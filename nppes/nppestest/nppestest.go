// Package nppestest serves a fake NPPES NPI Registry API (version 2.1) over
// httptest, answering from the records a test registers, in the registry's
// JSON shape, so that package nppes and what uses it are tested without the
// network.
package nppestest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// Record is an NPI the fake registry knows.
type Record struct {
	NPI string
	// Type is "NPI-1" (a person) or "NPI-2" (an organisation).
	Type string
	// Status is "A" for active; anything else is not.
	Status string
	// Organization is an NPI-2's organization_name.
	Organization string
	// First and Last are an NPI-1's first_name and last_name.
	First, Last string
	// Taxonomy is the primary taxonomy code, if any.
	Taxonomy string
}

// Server is a fake registry. It is safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	records  map[string]Record
	status   int // when not 0, every request answers this HTTP status
	requests int
}

// New starts a fake registry; Close stops it.
func New() *Server {
	s := &Server{records: map[string]Record{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL to give nppes.Config.BaseURL.
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Add registers r (replacing a record of the same NPI).
func (s *Server) Add(r Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[r.NPI] = r
}

// Fail makes every request answer HTTP status code (such as 503); 0
// answers from the records again.
func (s *Server) Fail(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = code
}

// Requests is how many requests the server has had.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	status := s.status
	rec, ok := s.records[r.URL.Query().Get("number")]
	s.mu.Unlock()
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	if r.URL.Path != "/api/" || q.Get("version") != "2.1" {
		_ = json.NewEncoder(w).Encode(map[string]any{"Errors": []map[string]string{{"description": "unsupported version or path", "field": "version"}}})
		return
	}
	if n := q.Get("number"); len(n) != 10 || strings.Trim(n, "0123456789") != "" {
		_ = json.NewEncoder(w).Encode(map[string]any{"Errors": []map[string]string{{"description": "Field number requires number to be 10 digits", "field": "number", "number": "04"}}})
		return
	}
	results := []any{}
	if ok {
		results = append(results, record(rec))
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"result_count": len(results), "results": results})
}

// record is r in the registry's shape; the number is a JSON number, as
// the real registry sends it.
func record(r Record) map[string]any {
	num, _ := strconv.ParseInt(r.NPI, 10, 64)
	basic := map[string]any{"status": r.Status, "enumeration_date": "2007-07-06", "last_updated": "2020-01-02"}
	if r.Type == "NPI-2" {
		basic["organization_name"] = r.Organization
		basic["organizational_subpart"] = "NO"
	} else {
		basic["first_name"], basic["last_name"] = r.First, r.Last
		basic["sole_proprietor"] = "NO"
	}
	tax := []any{}
	if r.Taxonomy != "" {
		tax = append(tax, map[string]any{"code": r.Taxonomy, "desc": "", "primary": true, "state": "NY", "license": "1"})
	}
	return map[string]any{
		"number": num, "enumeration_type": r.Type, "created_epoch": 1183680000, "last_updated_epoch": 1269302400,
		"basic": basic, "taxonomies": tax, "identifiers": []any{}, "other_names": []any{}, "endpoints": []any{},
		"addresses": []any{map[string]any{"address_1": "1 MAIN ST", "address_purpose": "LOCATION", "address_type": "DOM",
			"city": "MONTICELLO", "state": "NY", "postal_code": "127013027", "country_code": "US", "country_name": "United States"}},
	}
}
