package web

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/astappiev/microdata"
	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/directory/directorytest"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/refserver"
	"github.com/google/uuid"
	"golang.org/x/net/html"
)

// The directory's public pages: their microdata parsed by a real parser,
// their titles, descriptions and canonical URLs, their cache headers, and
// that nothing a practice did not publish is shown.

// findMatrix are the rows of the public pages: anyone may see them; a
// practice that is not published (practice B) is not found, nor is a
// sitemap file of a made-up cursor.
var findMatrix = map[string]string{
	"GET /find":                 "yyyyyy",
	"GET /doctors/{provider}":   "yyyyyy",
	"GET /practices/{practice}": "yyyyny",
	"GET /robots.txt":           "yyyyyy",
	"GET /sitemap.xml":          "yyyyyy",
	"GET /sitemaps/{file}":      "nnnnnn",
}

// publicSearches are the results pages the checks visit besides the
// sitemap's pages: by concern and ZIP, by specialty, by place alone.
var publicSearches = []string{"/find?q=back+pain&zip=11201", "/find?q=pediatrics&zip=11201&radius=10",
	"/find?q=heart&zip=10024&sort=soonest", "/find?zip=11201&radius=50&new=1", "/find?q=rash"}

// sitemapPaths reads the sitemap index and each of its files, checking
// that every URL is absolute under origin, and returns the paths.
func (c *client) sitemapPaths(origin string) []string {
	c.t.Helper()
	idx := c.get("/sitemap.xml").want(c.t, http.StatusOK)
	var out []string
	for _, f := range parseSitemap(c.t, idx.body, "sitemapindex", origin) {
		res := c.get(strings.TrimPrefix(f, origin)).want(c.t, http.StatusOK)
		for _, u := range parseSitemap(c.t, res.body, "urlset", origin) {
			out = append(out, strings.TrimPrefix(u, origin))
		}
	}
	return out
}

// xmlSitemap is a sitemap or a sitemap index, as XML.
type xmlSitemap struct {
	XMLName xml.Name
	URLs    []xmlURL `xml:"url"`
	Maps    []xmlURL `xml:"sitemap"`
}

// parseSitemap parses body, a sitemap document whose root is root in the
// sitemaps namespace, and returns its locations, failing unless each is
// an absolute URL under origin and the document has at most 50,000.
func parseSitemap(t testing.TB, body, root, origin string) []string {
	t.Helper()
	var m xmlSitemap
	if err := xml.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("the sitemap is not XML: %v\n%.300s", err, body)
	}
	if m.XMLName.Local != root || m.XMLName.Space != sitemapNS {
		t.Fatalf("root %v, want %s in %s", m.XMLName, root, sitemapNS)
	}
	items := append(m.URLs, m.Maps...)
	if len(items) > maxSitemapURLs {
		t.Fatalf("%d URLs in one sitemap", len(items))
	}
	out := make([]string, len(items))
	for i, u := range items {
		p, err := url.Parse(u.Loc)
		if err != nil || !p.IsAbs() || !strings.HasPrefix(u.Loc, origin+"/") {
			t.Fatalf("sitemap URL %q is not absolute under %s", u.Loc, origin)
		}
		out[i] = u.Loc
	}
	return out
}

// head is what a page's head says of it.
type head struct {
	title, description, canonical, robots string
}

// readHead reads the title, description, canonical link and robots of a
// page.
func readHead(t *testing.T, body string) head {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var h head
	var walk func(n *html.Node)
	attr := func(n *html.Node, k string) string {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val
			}
		}
		return ""
	}
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "title" && n.FirstChild != nil:
				h.title = n.FirstChild.Data
			case n.Data == "meta" && attr(n, "name") == "description":
				h.description = attr(n, "content")
			case n.Data == "meta" && attr(n, "name") == "robots":
				h.robots = attr(n, "content")
			case n.Data == "link" && attr(n, "rel") == "canonical":
				h.canonical = attr(n, "href")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return h
}

// checkPublicPage checks one public page's answer: cacheable by anyone
// with a strong ETag (304 when asked again with it), no cookie, indexable,
// a title of 30 to 60 and a description of 120 to 160 characters, an
// absolute canonical URL under origin, and its microdata.
func checkPublicPage(t *testing.T, c *client, path, origin string) head {
	t.Helper()
	res := c.get(path).want(t, http.StatusOK)
	cc, tag := res.header.Get("Cache-Control"), res.header.Get("ETag")
	if !strings.HasPrefix(cc, "public, max-age=") || !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(tag) {
		t.Errorf("%s: Cache-Control %q, ETag %q; want public with a strong ETag", path, cc, tag)
	}
	if res.header.Get("Set-Cookie") != "" || res.header.Get("X-Robots-Tag") != "" {
		t.Errorf("%s: Set-Cookie %q, X-Robots-Tag %q on a public page", path, res.header.Get("Set-Cookie"), res.header.Get("X-Robots-Tag"))
	}
	r, _ := http.NewRequest("GET", c.a.http.URL+path, nil)
	r.Header.Set("If-None-Match", tag)
	if again, err := c.c.Do(r); err != nil || again.StatusCode != http.StatusNotModified {
		t.Errorf("%s asked again with its ETag: %v %v, want 304", path, again.StatusCode, err)
	} else {
		again.Body.Close()
	}
	h := readHead(t, res.body)
	if n := utf8.RuneCountInString(h.title); n < 30 || n > 60 {
		t.Errorf("%s: title %q has %d characters, want 30 to 60", path, h.title, n)
	}
	if n := utf8.RuneCountInString(h.description); n < 120 || n > 160 {
		t.Errorf("%s: description %q has %d characters, want 120 to 160", path, h.description, n)
	}
	if u, err := url.Parse(h.canonical); err != nil || !u.IsAbs() || !strings.HasPrefix(h.canonical, origin+"/") {
		t.Errorf("%s: canonical %q is not absolute under %s", path, h.canonical, origin)
	}
	if !strings.Contains(h.robots, "follow") || (strings.Contains(h.robots, "noindex") != strings.HasPrefix(path, "/find")) {
		t.Errorf("%s: robots %q", path, h.robots)
	}
	checkMicrodata(t, path, res.body, c.a.http.URL+path)
	return h
}

// checkMicrodata parses the page's microdata and checks it: a
// BreadcrumbList with positions 1..n and an item on all but the last; on
// a provider's page and the results, each Physician's name, usNPI,
// medicalSpecialty, isAcceptingNewPatients, availableService, address
// (PostalAddress), geo (GeoCoordinates) and ReserveAction with a target;
// on a practice's page, its MedicalClinic's name, url, address and geo.
func checkMicrodata(t *testing.T, path, body, pageURL string) {
	t.Helper()
	md, err := microdata.ParseHTML(strings.NewReader(body), "text/html", pageURL)
	if err != nil {
		t.Fatalf("%s: microdata: %v", path, err)
	}
	bad := func(format string, args ...any) { t.Errorf("%s: "+format, append([]any{path}, args...)...) }
	crumbs := md.GetFirstOfSchemaType("BreadcrumbList")
	if crumbs == nil {
		bad("no BreadcrumbList")
	} else {
		els, _ := crumbs.GetNested("itemListElement")
		for i, el := range els.Items {
			pos, _ := el.GetProperty("position")
			name, _ := el.GetProperty("name")
			item, hasItem := el.GetProperty("item")
			if pos != strconv.Itoa(i+1) || name == "" || hasItem != (i < len(els.Items)-1) {
				bad("breadcrumb %d: position %v, name %q, item %v", i, pos, name, item)
			}
			if s, _ := item.(string); hasItem && !strings.HasPrefix(s, "http") {
				bad("breadcrumb %d: item %v is not absolute", i, item)
			}
		}
		if len(els.Items) == 0 {
			bad("an empty BreadcrumbList")
		}
	}
	var physicians, clinics int
	for _, it := range md.Items {
		switch {
		case it.IsOfSchemaType("Physician"):
			physicians++
			for _, p := range []string{"name", "usNPI", "medicalSpecialty", "isAcceptingNewPatients", "url"} {
				if v, ok := it.GetProperty(p); !ok || v == "" {
					bad("Physician without %s", p)
				}
			}
			if v, _ := it.GetProperty("isAcceptingNewPatients"); v != "true" && v != "false" {
				bad("isAcceptingNewPatients %v", v)
			}
			if npi, _ := it.GetProperty("usNPI"); !regexp.MustCompile(`^\d{10}$`).MatchString(fmt.Sprint(npi)) {
				bad("usNPI %v", npi)
			}
			checkPlace(t, path, it)
			if svc, ok := it.GetNestedItem("availableService"); !ok || !svc.IsOfSchemaType("MedicalProcedure") {
				bad("Physician without an availableService")
			}
			act, ok := it.GetNestedItem("potentialAction")
			target, _ := act.GetProperty("target")
			if !ok || !act.IsOfSchemaType("ReserveAction") || !strings.HasPrefix(fmt.Sprint(target), "http") {
				bad("Physician without a ReserveAction with an absolute target (%v)", target)
			}
		case it.IsOfSchemaType("MedicalClinic"):
			clinics++
			for _, p := range []string{"name", "url"} {
				if v, ok := it.GetProperty(p); !ok || v == "" {
					bad("MedicalClinic without %s", p)
				}
			}
			checkPlace(t, path, it)
			members, _ := it.GetNested("member")
			if len(members.Items) == 0 {
				bad("MedicalClinic without members")
			}
		}
	}
	switch {
	case strings.HasPrefix(path, "/doctors/") && physicians != 1:
		bad("%d Physicians, want 1", physicians)
	case strings.HasPrefix(path, "/practices/") && clinics != 1:
		bad("%d MedicalClinics, want 1", clinics)
	}
}

// checkPlace checks it has an address (PostalAddress with a street,
// locality, postal code and country) and a geo point (GeoCoordinates).
func checkPlace(t *testing.T, path string, it *microdata.Item) {
	t.Helper()
	addr, ok := it.GetNestedItem("address")
	if !ok || !addr.IsOfSchemaType("PostalAddress") {
		t.Errorf("%s: %v without a PostalAddress", path, it.Types)
		return
	}
	for _, p := range []string{"streetAddress", "addressLocality", "postalCode", "addressCountry"} {
		if v, ok := addr.GetProperty(p); !ok || v == "" {
			t.Errorf("%s: address without %s", path, p)
		}
	}
	geo, ok := it.GetNestedItem("geo")
	if !ok || !geo.IsOfSchemaType("GeoCoordinates") {
		t.Errorf("%s: %v without GeoCoordinates", path, it.Types)
		return
	}
	for _, p := range []string{"latitude", "longitude"} {
		v, _ := geo.GetProperty(p)
		if _, err := strconv.ParseFloat(fmt.Sprint(v), 64); err != nil {
			t.Errorf("%s: geo %s %v", path, p, v)
		}
	}
}

// checkPublicPages checks every page of the sitemap, the root and the
// searches, and that titles and descriptions are unique across pages.
// It returns the paths checked.
func checkPublicPages(t *testing.T, a *app) []string {
	c := a.client()
	origin := a.http.URL
	paths := append(a.client().sitemapPaths(origin), publicSearches...)
	if paths[0] != "/" {
		t.Errorf("the sitemap starts with %s, want the root", paths[0])
	}
	titles, descs := map[string]string{}, map[string]string{}
	for _, p := range paths {
		h := checkPublicPage(t, c, p, origin)
		if o, dup := titles[h.title]; dup {
			t.Errorf("%s and %s share the title %q", o, p, h.title)
		}
		if o, dup := descs[h.description]; dup {
			t.Errorf("%s and %s share the description %q", o, p, h.description)
		}
		titles[h.title], descs[h.description] = p, p
	}
	return paths
}

// TestPublicPagesOfTheDemo checks the demo's public pages (the root, the
// sitemap's, searches), in English and in Spanish.
func TestPublicPagesOfTheDemo(t *testing.T) {
	a := newSQLiteApp(t)
	paths := checkPublicPages(t, a)
	var doctors, practices int
	for _, p := range paths {
		doctors += strings.Count(p, "/doctors/")
		practices += strings.Count(p, "/practices/")
	}
	if doctors != 3 || practices != 1 {
		t.Errorf("the sitemap lists %d providers and %d practices, want the demo's 3 and 1: %v", doctors, practices, paths)
	}
	// Spanish: the same checks, by the language cookie.
	c := a.client()
	c.get("/lang/es")
	for _, p := range []string{"/", publicSearches[0], paths[len(paths)-len(publicSearches)-1]} {
		h := checkPublicPage(t, c, p, a.http.URL)
		if !strings.Contains(c.get(p).body, `lang="es"`) {
			t.Errorf("%s is not in Spanish: %q", p, h.title)
		}
	}
}

// TestPublicPagesOfAGeneratedDirectory checks the pages of 400 generated
// providers in 8 practices beside the demo: titles and descriptions
// bounded and unique across all of them.
func TestPublicPagesOfAGeneratedDirectory(t *testing.T) {
	a := newSQLiteApp(t)
	ctx := context.Background()
	for _, l := range directorytest.Generate(400, 14) {
		if err := a.engine.Store().Directory.PutListing(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(checkPublicPages(t, a)); n < 400+8+4 {
		t.Errorf("%d pages checked, want the demo's and the generated ones'", n)
	}
}

// TestOnlyPublishedIsPublic hides a provider and then unpublishes the
// demo practice: neither appears in a search, the sitemap or a page of
// the directory after, and their pages are not found (a private answer).
func TestOnlyPublishedIsPublic(t *testing.T) {
	a := newSQLiteApp(t)
	ctx := context.Background()
	c := a.client()
	provs, err := a.engine.DirectoryPractice(ctx, a.demo.PracticeID)
	if err != nil {
		t.Fatal(err)
	}
	chen := provs.Providers[0]
	chenPage := "/doctors/" + chen.ID.String()
	c.get(chenPage).want(t, http.StatusOK, chen.FamilyName)
	profiles, err := a.engine.DirectoryProfiles(a.adminCtx(), a.demo.PracticeID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range profiles {
		if p.ProviderID == chen.ID {
			p.Hidden = true
			if err := a.engine.PutDirectoryProfile(a.adminCtx(), a.demo.PracticeID, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	gone := func(paths []string, name string, id string) {
		t.Helper()
		for _, p := range paths {
			res := c.get(p)
			if strings.Contains(p, id) || strings.Contains(res.body, id) || strings.Contains(res.body, name) {
				t.Errorf("%s still shows %s", p, name)
			}
		}
	}
	shown := append(append([]string{"/"}, publicSearches...), c.sitemapPaths(a.http.URL)...)
	gone(shown, chen.GivenName+" "+chen.FamilyName, chen.ID.String())
	res := c.get(chenPage).want(t, http.StatusNotFound)
	if cc := res.header.Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("a hidden provider's page answers Cache-Control %q", cc)
	}
	if err := a.engine.PublishDirectory(a.adminCtx(), a.demo.PracticeID, false); err != nil {
		t.Fatal(err)
	}
	gone(append(append([]string{"/"}, publicSearches...), c.sitemapPaths(a.http.URL)...), "Riverside", a.practice)
	c.get("/practices/"+a.practice).want(t, http.StatusNotFound)
	for _, p := range provs.Providers {
		c.get("/doctors/"+p.ID.String()).want(t, http.StatusNotFound)
	}
}

// TestCacheHeadersOfEveryRoute sends every GET route, as a signed-in
// patient and as a visitor: the public pages answer public with an ETag
// and no cookie; every other answer is private, no-store and noindex.
func TestCacheHeadersOfEveryRoute(t *testing.T) {
	a := newSQLiteApp(t)
	ss := a.samples()
	if d, err := a.engine.DirectoryPractice(context.Background(), a.demo.PracticeID); err == nil && len(d.Providers) > 0 {
		ss["provider"] = sample{d.Providers[0].ID.String(), d.Providers[0].ID.String()}
	}
	public := map[string]bool{"GET /{$}": true, "GET /find": true, "GET /doctors/{provider}": true, "GET /practices/{practice}": true,
		"GET /robots.txt": true, "GET /sitemap.xml": true, "GET /sitemaps/{file}": true,
		"GET /static/{hash}/{file}": true, "GET /api/openapi.json": true}
	patient := a.signedIn(demo.PatientEmail, a.demo.PatientPassword)
	for _, who := range []*client{a.client(), patient} {
		for _, rt := range a.srv.Routes() {
			key := rt.Method + " " + rt.Pattern
			if rt.Method != http.MethodGet {
				continue
			}
			path := fillPath(rt.Pattern, ss, false, "")
			switch key {
			case "GET /sitemaps/{file}":
				path = "/sitemaps/0.xml"
			case "GET /static/{hash}/{file}":
				path = refserver.AssetPath("app.js")
			case "GET /find":
				path = publicSearches[0]
			}
			res := who.get(path)
			cc := res.header.Get("Cache-Control")
			signedIn := who == patient && key == "GET /{$}"
			if public[key] && res.status == http.StatusOK && !signedIn {
				if !strings.HasPrefix(cc, "public") || res.header.Get("ETag") == "" && !strings.Contains(cc, "immutable") && key != "GET /api/openapi.json" {
					t.Errorf("%s (%s): Cache-Control %q, ETag %q; want public", key, path, cc, res.header.Get("ETag"))
				}
				if res.header.Get("Set-Cookie") != "" {
					t.Errorf("%s (%s): a public answer sets a cookie", key, path)
				}
				continue
			}
			if cc != "private, no-store" && cc != "no-store" || !strings.HasPrefix(res.header.Get("X-Robots-Tag"), "noindex") {
				t.Errorf("%s (%s) %d: Cache-Control %q, X-Robots-Tag %q; want private, no-store and noindex", key, path, res.status, cc, res.header.Get("X-Robots-Tag"))
			}
			if res.status == http.StatusOK && strings.HasPrefix(res.header.Get("Content-Type"), "text/html") && !strings.Contains(res.body, `<meta name="robots" content="noindex">`) {
				t.Errorf("%s (%s): a private page without meta robots noindex", key, path)
			}
		}
	}
}

// TestResultsShowTheListedZone checks that the results show a next open
// time in the time zone its listed location carries, which no practice of
// the tenants' has here: the page reads it from the listing alone.
func TestResultsShowTheListedZone(t *testing.T) {
	a := newSQLiteApp(t)
	ctx := context.Background()
	loc := directorytest.Location("Coast office", directorytest.Brooklyn)
	loc.TimeZone = "America/Los_Angeles"
	at := time.Date(testNow.Year(), testNow.Month(), testNow.Day()+2, 17, 30, 0, 0, time.UTC)
	loc.NextOpen, loc.NextOpenVisitType = &at, loc.VisitTypes[0].ID
	if err := a.engine.Store().Directory.PutListing(ctx, directorytest.Listing("Coastal", directorytest.Provider(7, "Zonewright", []string{"207Q00000X"}, loc))); err != nil {
		t.Fatal(err)
	}
	res := a.client().get("/find?q=zonewright&zip=11201").want(t, http.StatusOK, "Zonewright")
	if want := at.In(loc.Zone()).Format("15:04"); !strings.Contains(res.body, want) || !strings.Contains(res.body, "Los Angeles") {
		t.Errorf("the results do not show %s in Los Angeles' time:\n%s", want, res.body)
	}
}

// TestFindPagesShowTheKindsTime checks that a search by visit kind shows
// that kind's next open time, and that "within N days" counts it (a
// follow-up tomorrow is no new-patient time within a week); and that a
// provider's page asked for a kind shows the times of its visit type.
func TestFindPagesShowTheKindsTime(t *testing.T) {
	a := newSQLiteApp(t)
	ctx := context.Background()
	loc := directorytest.Location("Kind office", directorytest.Brooklyn)
	np := loc.VisitTypes[0]
	fu := directory.VisitType{ID: uuid.Must(uuid.NewV7()), Name: "Follow-up", Kind: directory.VisitFollowUp, Minutes: 15}
	loc.VisitTypes = []directory.VisitType{fu, np}
	day := func(d, h, m int) time.Time {
		return time.Date(testNow.Year(), testNow.Month(), testNow.Day()+d, h, m, 0, 0, time.UTC)
	}
	soon, late := day(1, 17, 10), day(20, 18, 50)
	loc.NextOpen, loc.NextOpenVisitType = &soon, fu.ID
	loc.KindOpens = []directory.KindOpen{{Kind: directory.VisitFollowUp, At: soon, VisitTypeID: fu.ID},
		{Kind: directory.VisitNewPatient, At: late, VisitTypeID: np.ID}}
	p := directorytest.Provider(7, "Kindwright", []string{"207Q00000X"}, loc)
	if err := a.engine.Store().Directory.PutListing(ctx, directorytest.Listing("Kinds", p)); err != nil {
		t.Fatal(err)
	}
	hhmm := func(at time.Time) string { return at.In(loc.Zone()).Format("15:04") }
	c := a.client()
	for _, tc := range []struct {
		path       string
		show, hide string
	}{
		{"/find?q=kindwright&zip=11201&within=7", hhmm(soon), hhmm(late)},
		{"/find?q=kindwright&zip=11201&visit=new-patient", hhmm(late), hhmm(soon)},
		{"/find?q=kindwright&zip=11201&visit=new-patient&within=30&sort=soonest", hhmm(late), hhmm(soon)},
		// A provider's page shows the week of the kind's visit type.
		{"/doctors/" + p.ID.String() + "?visit=new-patient", `value="` + np.ID.String() + `" selected`, `value="` + fu.ID.String() + `" selected`},
		{"/doctors/" + p.ID.String(), `value="` + fu.ID.String() + `" selected`, `value="` + np.ID.String() + `" selected`},
	} {
		res := c.get(tc.path).want(t, http.StatusOK, "Kindwright")
		if !strings.Contains(res.body, tc.show) || strings.Contains(res.body, tc.hide) {
			t.Errorf("%s: want %s shown and not %s:\n%s", tc.path, tc.show, tc.hide, res.body)
		}
	}
	if res := c.get("/find?q=kindwright&zip=11201&visit=new-patient&within=7").want(t, http.StatusOK); strings.Contains(res.body, "Kindwright") {
		t.Errorf("a follow-up tomorrow passes new-patient within 7 days:\n%s", res.body)
	}
}
