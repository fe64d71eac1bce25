package refserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// browserAccept is what a browser sends for a page.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// serve sends r through e's whole stack, without the document check (the
// routes tests add are in no document).
func (e *testEnv) serve(r *http.Request) resp {
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	return resp{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// isPage fails t unless res is an HTML page with status saying each of says.
func isPage(t *testing.T, res resp, status int, says ...string) {
	t.Helper()
	if res.status != status || res.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("answer = %d %q, want %d text/html: %s", res.status, res.header.Get("Content-Type"), status, res.body)
	}
	for _, s := range says {
		if !strings.Contains(string(res.body), s) {
			t.Errorf("page lacks %q: %s", s, res.body)
		}
	}
}

// isProblem fails t unless res is a problem document with status.
func isProblem(t *testing.T, res resp, status int) Problem {
	t.Helper()
	if res.status != status || res.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("answer = %d %q, want %d problem+json: %s", res.status, res.header.Get("Content-Type"), status, res.body)
	}
	var p Problem
	if err := json.Unmarshal(res.body, &p); err != nil || p.Status != status {
		t.Fatalf("problem = %+v (%v): %s", p, err, res.body)
	}
	return p
}

// TestErrorPage: a page route answers its errors as an HTML page on the
// shared layout, with the status of the error's kind, the message escaped,
// and a failure of ours as a 503 that shows no cause.
func TestErrorPage(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t))
	fails := map[string]error{
		"missing":  errs.E(errs.KindNotFound, "test", `no visit <script>alert("x")</script> & co`),
		"bad":      errs.Invalid("test", "when", "must be <a time>"),
		"ours":     errs.E(errs.KindInternal, "test", "secret cause"),
		"denied":   errs.E(errs.KindForbidden, "test", "missing permission staff.manage"),
		"worded":   &PageError{Title: "Gone <away>", Text: "It is not here.", Status: http.StatusGone, Err: errs.E(errs.KindPreconditionFailed, "test", "expired")},
		"withdraw": &PageError{Title: "Busy", Text: "Try later.", Err: errs.E(errs.KindInternal, "test", "secret cause")},
	}
	e.srv.handle(Route{Method: "GET", Pattern: "/test-page/{what}", Summary: "a test page", Access: Public(),
		Handle: func(w http.ResponseWriter, r *http.Request) error { return fails[r.PathValue("what")] }}, pageRoute)

	for _, accept := range []string{"", "application/json", browserAccept} {
		r := httptest.NewRequest("GET", "/test-page/missing", nil)
		r.Header.Set("Accept", accept)
		res := e.serve(r)
		isPage(t, res, 404, "<title>Not Found · carebook</title>", "<h1>Not Found</h1>", statusWords[http.StatusNotFound],
			`<a href="/">Go to your start page</a>`, "no visit &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co", "Request "+res.header.Get(RequestIDHeader))
		if strings.Contains(string(res.body), "<script>") {
			t.Errorf("the message is not escaped: %s", res.body)
		}
	}
	isPage(t, e.serve(httptest.NewRequest("GET", "/test-page/bad", nil)), 400, "when: must be &lt;a time&gt;")
	isPage(t, e.serve(httptest.NewRequest("GET", "/test-page/denied", nil)), 403, "<h1>Forbidden</h1>",
		"A practice administrator can grant it", `<p class="hint">missing permission staff.manage</p>`)
	res := e.serve(httptest.NewRequest("GET", "/test-page/ours", nil))
	isPage(t, res, 503, "Something went wrong", "Please try again in a minute.")
	if strings.Contains(string(res.body), "secret") || res.header.Get("Retry-After") != "60" {
		t.Errorf("a failure of ours = %v %s", res.header, res.body)
	}
	isPage(t, e.serve(httptest.NewRequest("GET", "/test-page/worded", nil)), 410, "<h1>Gone &lt;away&gt;</h1>", "It is not here.")
	res = e.serve(httptest.NewRequest("GET", "/test-page/withdraw", nil))
	isPage(t, res, 503, "<h1>Busy</h1>", "Try later.")
	if strings.Contains(string(res.body), "secret") {
		t.Errorf("a worded failure of ours shows its cause: %s", res.body)
	}

	// A middleware's refusal on a page route is a page too.
	r := httptest.NewRequest("GET", "/test-page/missing", nil)
	r.Header.Set(ActorHeader, "nobody")
	isPage(t, e.serve(r), 400, ActorHeader+": must be staff:&lt;id&gt; or patient:&lt;id&gt;")
}

// TestAcceptNegotiation: an API route answers problem+json whatever the
// Accept; a route that serves both, and a request that matches no route,
// answer an HTML page only to a client that prefers text/html to JSON.
func TestAcceptNegotiation(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t))
	e.srv.handle(Route{Method: "GET", Pattern: "/test-both", Summary: "a test route of both kinds", Access: Public(),
		Handle: func(w http.ResponseWriter, r *http.Request) error {
			return errs.E(errs.KindConflict, "test", "taken")
		}}, bothRoute)
	e.srv.handle(Route{Method: "GET", Pattern: "/test-api/{practice}", Summary: "a test API route", Access: Public(),
		Handle: func(w http.ResponseWriter, r *http.Request) error {
			req := e.srv.Request(w, r)
			req.Practice()
			return req.Err
		}}, apiRoute)
	for _, c := range []struct {
		accept string
		html   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"application/problem+json, text/html;q=0.9", false},
		{"text/html;q=0.5, application/*", false},
		{"text/html, application/json", false}, // a tie is JSON
		{browserAccept, true},
		{"text/html", true},
		{"text/*", true},
		{"application/json;q=0.5, text/html", true},
		{"application/*;q=0.1, */*", true},
		{"application/json;q=0, */*", false}, // problem+json still matches */*
		{"text/html;q=bogus, application/json;q=0.1", false},
	} {
		for _, path := range []string{"/test-both", "/no/such/route"} {
			r := httptest.NewRequest("GET", path, nil)
			if c.accept != "" {
				r.Header.Set("Accept", c.accept)
			}
			res := e.serve(r)
			status := 409
			if path != "/test-both" {
				status = 404
			}
			if c.html {
				isPage(t, res, status)
			} else {
				isProblem(t, res, status)
			}
		}
	}
	// The 405 of a known path follows Accept too, and keeps its Allow.
	r := httptest.NewRequest("DELETE", "/healthz", nil)
	r.Header.Set("Accept", browserAccept)
	res := e.serve(r)
	isPage(t, res, 405, "the route does not allow DELETE")
	if res.header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}

	// An API route never answers HTML.
	r = httptest.NewRequest("GET", "/test-api/not-a-uuid", nil)
	r.Header.Set("Accept", browserAccept)
	r.Header.Set(ActorHeader, staff)
	if p := isProblem(t, e.serve(r), 400); p.Field != "practice" {
		t.Errorf("problem = %+v", p)
	}
}
