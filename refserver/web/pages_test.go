package web

import (
	"context"
	"fmt"
	"github.com/carebook/carebook/audit"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"golang.org/x/net/html"
)

// Checks over every page: well-formed HTML with lang, a title and one h1,
// headings in order, every input labelled, ids unique; and the
// authorization of every page route, as every role.

// sample is the value of a path wildcard in the demo practice: the
// demo patient's own record, and one of another patient.
type sample struct{ own, other string }

// samples are the values the tests put in the page routes' wildcards, read
// from the demo clinic.
func (a *app) samples() map[string]sample {
	a.t.Helper()
	ctx := context.Background()
	e, p := a.engine, a.demo.PracticeID
	out := map[string]sample{"practice": {a.practice, a.practice}}
	one := func(name string, ids ...string) {
		if len(ids) > 0 {
			other := ids[0]
			if len(ids) > 1 {
				other = ids[1]
			}
			out[name] = sample{ids[0], other}
		}
	}
	locs, _ := e.Tenants.Locations(ctx, p)
	provs, _ := e.Scheduling.Providers(ctx, p, scheduling.ProviderFilter{})
	vts, _ := e.Scheduling.VisitTypes(ctx, p)
	blocks, _ := e.Scheduling.Blocks(ctx, p, scheduling.BlockFilter{})
	res, _ := e.Scheduling.Resources(ctx, p, nil)
	for _, l := range locs {
		one("location", l.ID.String())
	}
	for _, x := range provs {
		one("provider", x.ID.String())
	}
	for _, x := range vts {
		one("visit_type", x.ID.String())
	}
	for _, x := range blocks {
		one("block", x.ID.String())
	}
	for _, x := range res {
		one("resource", x.ID.String())
	}
	me, _ := e.Scheduling.Patients(ctx, p, scheduling.PatientFilter{Email: demo.PatientEmail, Limit: 1})
	all, _ := e.Scheduling.Patients(ctx, p, scheduling.PatientFilter{Limit: 50})
	var others []string
	for _, x := range all {
		if len(me) == 1 && x.ID != me[0].ID {
			others = append(others, x.ID.String())
		}
	}
	if len(me) == 1 && len(others) > 0 {
		out["patient"] = sample{me[0].ID.String(), others[0]}
		entries, _ := e.Scheduling.Calendar(ctx, p, scheduling.CalendarQuery{From: testNow.AddDate(0, 0, -15), To: testNow.AddDate(0, 0, 15)})
		var mine, theirs string
		for _, en := range entries {
			switch {
			case en.Appointment.PatientID == me[0].ID && mine == "":
				mine = en.Appointment.ID.String()
			case en.Appointment.PatientID != me[0].ID && theirs == "":
				theirs = en.Appointment.ID.String()
			}
		}
		if mine != "" && theirs != "" {
			out["appointment"] = sample{mine, theirs}
		}
	}
	maps.Copy(out, a.chartSamples())
	maps.Copy(out, a.rightsSamples(out["patient"]))
	maps.Copy(out, a.paymentSamples(out["patient"]))
	maps.Copy(out, a.invoiceSamples())
	return out
}

var wildcard = regexp.MustCompile(`\{([a-z_]+)(\.\.\.)?\}`)

// fillPath puts values in pattern's wildcards ("{$}" ends a pattern): the
// own or the other sample, and practice instead of the demo practice when
// it is set. A wildcard with no sample gets a random UUID.
func fillPath(pattern string, ss map[string]sample, other bool, practice string) string {
	pattern = strings.TrimSuffix(pattern, "{$}")
	return wildcard.ReplaceAllStringFunc(pattern, func(m string) string {
		name := wildcard.FindStringSubmatch(m)[1]
		if name == "practice" && practice != "" {
			return practice
		}
		s, ok := ss[name]
		switch {
		case !ok:
			return uuid.NewString()
		case other:
			return s.other
		}
		return s.own
	})
}

// pageRoutes are the routes of a that answer pages, but those of email
// links (tested in links_test.go with real tokens) and the assets.
func (a *app) pageRoutes() []refserver.Route {
	var out []refserver.Route
	for _, rt := range a.srv.Routes() {
		if a.srv.IsPage(rt) && !strings.HasPrefix(rt.Pattern, "/l/") && !strings.HasPrefix(rt.Pattern, "/static/") {
			out = append(out, rt)
		}
	}
	return out
}

// verdicts of the page authorization matrix.
const (
	allowed   = 'y' // the page answers (2xx, 3xx but to sign-in, or a form's 4xx)
	forbidden = 'f' // 403, as a page
	notFound  = 'n' // 404, as a page
	toSignIn  = 's' // 303 to the sign-in page
	toOpsIn   = 'o' // the support panel's refusal: 303 to its sign-in page, or 401 for a form
)

// pageMatrix is who may reach each page route, as (in order) the demo
// administrator, front desk and patient of practice A; the patient on
// another patient's records of A; A's administrator on practice B (which
// must read as not found); and a visitor who is signed out.
// Each area of pages keeps its rows in its own map (its test file).
var pageMatrix = mergeRows(coreMatrix, patientMatrix, deskMatrix, adminMatrix, staffMatrix, chartMatrix, glassMatrix, portalMatrix, rightsMatrix, paymentMatrix, portalPaymentMatrix, findMatrix, planMatrix, opsMatrix, policiesMatrix, billingPagesMatrix)

// coreMatrix are the rows of sign-in and the account's pages.
var coreMatrix = map[string]string{
	"GET /{$}":         "yyyyyy",
	"GET /signin":      "yyyyyy",
	"POST /signin":     "yyyyyy",
	"POST /signout":    "yyyyys",
	"GET /lang/{lang}": "yyyyyy",
	"GET /account":     "yyyyys",
}

// mergeRows is the union of the areas' rows; a route in two panics.
func mergeRows(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			if _, dup := out[k]; dup {
				panic("pageMatrix: " + k + " twice")
			}
			out[k] = v
		}
	}
	return out
}

// sessionEnders are the page routes that end the session they are sent
// with: the matrix sends them last, each cell with a fresh session.
var sessionEnders = map[string]bool{"POST /signout": true}

// redirects are the GET page routes that answer only redirects, never a
// page of their own.
var redirects = map[string]bool{"GET /lang/{lang}": true}

// TestPageAuthorization sends every page route as every role of the
// matrix and checks each answer's class: a front desk clerk cannot open
// administrators' pages (403, a page), another practice's pages read as
// not found, and a signed-out visitor is sent to sign in.
func TestPageAuthorization(t *testing.T) {
	a := newSQLiteApp(t)
	ss := a.samples()
	otherPractice := a.otherPractice()
	admin := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
	desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	patient := a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
	anon := a.client()
	anon.get("/signin")
	type cell struct {
		who      *client
		other    bool
		practice string
	}
	cells := []cell{{admin, false, ""}, {desk, false, ""}, {patient, false, ""}, {patient, true, ""}, {admin, false, otherPractice}, {anon, false, ""}}
	seen := map[string]bool{}
	routes := a.pageRoutes()
	slices.SortStableFunc(routes, func(x, y refserver.Route) int {
		return cmpBool(sessionEnders[x.Method+" "+x.Pattern], sessionEnders[y.Method+" "+y.Pattern])
	})
	fresh := map[*client]func() *client{
		admin:   func() *client { return a.signedIn(demo.AdminEmail, a.demo.AdminPassword) },
		desk:    func() *client { return a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword) },
		patient: func() *client { return a.signedIn(demo.PatientEmail, a.demo.PatientPassword) },
	}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		seen[key] = true
		row, ok := pageMatrix[key]
		if !ok || len(row) != len(cells) {
			t.Errorf("%s: no row (or a malformed one) in pageMatrix", key)
			continue
		}
		for i, c := range cells {
			path := fillPath(rt.Pattern, ss, c.other, c.practice)
			if strings.Contains(rt.Pattern, "{lang}") {
				path = "/lang/es"
			}
			who := c.who
			if f := fresh[who]; f != nil && sessionEnders[key] {
				who = f()
			}
			record := strings.Contains(key, "/patients/{patient}")
			before := 0
			if record {
				before = a.denials()
			}
			var res page
			if rt.Method == http.MethodGet {
				res = who.get(path)
			} else {
				res = who.post(path, url.Values{})
			}
			// A refusal over a patient's record writes a denied entry.
			if res.status == http.StatusForbidden && c.practice == "" && record && a.denials() == before {
				t.Errorf("%s as column %d: 403 without a denied entry in the activity log", key, i)
			}
			if !holds(rune(row[i]), res) {
				t.Errorf("%s as column %d (%s): %d %s, want %c\n%.400s", key, i, path, res.status, res.location(), row[i], res.body)
			}
		}
		if rt.Method == http.MethodGet {
			// A page route is HTML even when it fails: never a problem
			// document (a download's success is its file).
			res := desk.get(fillPath(rt.Pattern, ss, false, otherPractice))
			if ct := res.header.Get("Content-Type"); (res.status < 300 && !downloads[key]) || res.status >= 400 {
				if !strings.HasPrefix(ct, "text/html") {
					t.Errorf("%s answers %d as %s, want an HTML page", key, res.status, ct)
				}
			}
		}
	}
	for key := range pageMatrix {
		if !seen[key] {
			t.Errorf("pageMatrix row %s names no page route", key)
		}
	}
}

// denials counts the demo practice's denied entries.
func (a *app) denials() int {
	a.t.Helper()
	got, err := a.engine.Audit.Query(context.Background(), a.demo.PracticeID, audit.Filter{Outcome: audit.Denied, Limit: audit.MaxLimit})
	if err != nil {
		a.t.Fatal(err)
	}
	if len(got) == audit.MaxLimit {
		a.t.Fatal("more denied entries than one page: count them by pages")
	}
	return len(got)
}

// cmpBool orders false before true.
func cmpBool(x, y bool) int {
	switch {
	case x == y:
		return 0
	case x:
		return 1
	}
	return -1
}

// holds reports whether res is of the class v.
func holds(v rune, res page) bool {
	signIn := res.status == http.StatusSeeOther && strings.HasPrefix(res.location(), refserver.SignInPath)
	switch v {
	case forbidden:
		return res.status == http.StatusForbidden
	case notFound:
		return res.status == http.StatusNotFound
	case toSignIn:
		return signIn
	case toOpsIn:
		return res.status == http.StatusUnauthorized ||
			res.status == http.StatusSeeOther && strings.HasPrefix(res.location(), refserver.OperatorSignInPath)
	}
	return res.status < 500 && res.status != http.StatusUnauthorized && res.status != http.StatusForbidden &&
		res.status != http.StatusNotFound && (!signIn || res.location() == refserver.SignInPath)
}

// otherPractice creates practice B, in a group of its own, and returns its
// ID.
func (a *app) otherPractice() string {
	a.t.Helper()
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.System, ID: "test"})
	g, err := a.engine.Tenants.CreateGroup(ctx, "Elsewhere group")
	if err != nil {
		a.t.Fatal(err)
	}
	p, err := a.engine.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Elsewhere clinic"})
	if err != nil {
		a.t.Fatal(err)
	}
	return p.ID.String()
}

// TestPagesAreWellFormed signs in as each demo account (and as nobody),
// visits every page route (with the demo clinic's records in its
// wildcards) and every page those pages link to, and checks each HTML
// page: well-formed, lang on html, a title, exactly one h1, headings in
// order, every input labelled, ids unique. Every GET page route must have
// been checked with a 200.
func TestPagesAreWellFormed(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		ss := a.samples()
		mux := http.NewServeMux()
		var matched string
		for _, rt := range a.pageRoutes() {
			if rt.Method == http.MethodGet {
				pat := rt.Pattern
				mux.HandleFunc("GET "+pat, func(http.ResponseWriter, *http.Request) { matched = pat })
			}
		}
		checked := map[string]bool{}
		clients := []*client{a.client(), a.signedIn(demo.AdminEmail, a.demo.AdminPassword),
			a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword), a.signedIn(demo.PatientEmail, a.demo.PatientPassword),
			a.opsSignedIn(t)}
		for _, c := range clients {
			queue := []string{"/"}
			for _, rt := range a.pageRoutes() {
				if rt.Method == http.MethodGet {
					queue = append(queue, fillPath(rt.Pattern, ss, false, ""))
				}
			}
			visited := map[string]bool{}
			for len(queue) > 0 && len(visited) < 400 {
				p := queue[0]
				queue = queue[1:]
				if visited[p] || strings.HasPrefix(p, "/lang/") || strings.HasPrefix(p, "/l/") || strings.HasPrefix(p, "/static/") {
					continue
				}
				visited[p] = true
				res := c.get(p)
				if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
					continue
				}
				if problems := checkPage(res.body); len(problems) > 0 {
					t.Errorf("%s:\n  %s", p, strings.Join(problems, "\n  "))
				}
				u, _ := url.Parse(p)
				matched = ""
				mux.ServeHTTP(discard{}, &http.Request{Method: "GET", URL: u, Host: "x"})
				if matched != "" {
					checked[matched] = true
				}
				queue = append(queue, links(res.body)...)
			}
		}
		for _, rt := range a.pageRoutes() {
			if rt.Method == http.MethodGet && !checked[rt.Pattern] && !redirects[rt.Method+" "+rt.Pattern] && !downloads[rt.Method+" "+rt.Pattern] {
				t.Errorf("GET %s: no page of this route was checked (no role got a 200)", rt.Pattern)
			}
		}
	})
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// links are the local paths the page's a elements point to.
func links(body string) []string {
	var out []string
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out
		}
		if tt != html.StartTagToken {
			continue
		}
		t := z.Token()
		if t.Data != "a" {
			continue
		}
		for _, at := range t.Attr {
			if at.Key == "href" && strings.HasPrefix(at.Val, "/") && !strings.HasPrefix(at.Val, "//") {
				out = append(out, at.Val)
			}
		}
	}
}

// voids are the HTML elements without an end tag.
var voids = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// checkPage lists what is wrong with a page.
func checkPage(body string) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !strings.HasPrefix(strings.ToLower(body), "<!doctype html>") {
		bad("no <!doctype html>")
	}
	z := html.NewTokenizer(strings.NewReader(body))
	var (
		stack             []string
		titles, h1s, last int
		ids               = map[string]int{}
		labelFor          = map[string]bool{}
		controls          []string // ids of inputs that need a label
		inTitle           bool
		titleText         string
		lang              bool
	)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				bad("tokenizer: %v", z.Err())
			}
			break
		}
		t := z.Token()
		attr := func(k string) (string, bool) {
			for _, a := range t.Attr {
				if a.Key == k {
					return a.Val, true
				}
			}
			return "", false
		}
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			if id, ok := attr("id"); ok {
				ids[id]++
			}
			switch t.Data {
			case "html":
				v, _ := attr("lang")
				lang = v != ""
			case "title":
				if slices.Contains(stack, "svg") {
					break // an SVG's accessible name, not the document's title
				}
				titles++
				inTitle = true
			case "h1", "h2", "h3", "h4", "h5", "h6":
				n := int(t.Data[1] - '0')
				if n == 1 {
					h1s++
				}
				if n > last+1 {
					bad("<%s> after <h%d>: a heading level skipped", t.Data, last)
				}
				last = n
			case "label":
				if f, ok := attr("for"); ok {
					labelFor[f] = true
				}
			case "input", "select", "textarea":
				typ, _ := attr("type")
				if typ == "hidden" || typ == "submit" || typ == "button" || typ == "reset" || typ == "image" {
					break
				}
				if _, ok := attr("aria-label"); ok {
					break
				}
				if _, ok := attr("aria-labelledby"); ok {
					break
				}
				id, _ := attr("id")
				name, _ := attr("name")
				if id == "" {
					bad("<%s name=%q> has no id, so no label can name it", t.Data, name)
					break
				}
				controls = append(controls, id)
			}
			if tt == html.StartTagToken && !voids[t.Data] {
				stack = append(stack, t.Data)
			}
		case html.EndTagToken:
			if voids[t.Data] {
				bad("</%s>: a void element has no end tag", t.Data)
				break
			}
			if len(stack) == 0 || stack[len(stack)-1] != t.Data {
				bad("</%s> closes <%s>", t.Data, strings.Join(stack[max(0, len(stack)-1):], ""))
				if i := slices.Index(stack, t.Data); i >= 0 {
					stack = stack[:i]
				}
				break
			}
			stack = stack[:len(stack)-1]
			if t.Data == "title" {
				inTitle = false
			}
		case html.TextToken:
			if inTitle {
				titleText += t.Data
			}
		}
	}
	if len(stack) > 0 {
		bad("unclosed: %s", strings.Join(stack, " > "))
	}
	if !lang {
		bad("<html> has no lang")
	}
	if titles != 1 || strings.TrimSpace(titleText) == "" {
		bad("%d titles (text %q), want one with text", titles, titleText)
	}
	if h1s != 1 {
		bad("%d h1, want 1", h1s)
	}
	for id, n := range ids {
		if n > 1 {
			bad("id %q used %d times", id, n)
		}
	}
	for _, id := range controls {
		if !labelFor[id] {
			bad("the input %q has no <label for>", id)
		}
	}
	return problems
}
