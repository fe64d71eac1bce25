package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// generatedIndex is a keyset-paged index of n providers: entry i's cursor
// is its number, and a page after a cursor starts at the next one.
func generatedIndex(n int) indexPage {
	return func(_ context.Context, after string, limit int) ([]indexEntry, error) {
		start := 0
		if after != "" {
			i, err := strconv.Atoi(after)
			if err != nil {
				return nil, errs.Invalid("test.index", "after", "not a cursor")
			}
			start = i + 1
		}
		var out []indexEntry
		for i := start; i < n && len(out) < limit; i++ {
			out = append(out, indexEntry{Path: fmt.Sprintf("/doctors/%08d", i), Updated: testNow.Add(time.Duration(i) * time.Second),
				Cursor: strconv.Itoa(i)})
		}
		return out, nil
	}
}

// TestSitemapSplitsAt50000 serves the sitemap of 120,000 generated
// providers: an index of the public pages' file and three files of at most
// 50,000 URLs, each valid XML, every URL absolute under the public URL,
// every provider once; robots.txt names the index.
func TestSitemapSplitsAt50000(t *testing.T) {
	const n, origin = 120000, "https://carebook.example"
	e := carebook.NewWithStore(sqltest.SQLite(t))
	srv := refserver.New(e, refserver.Options{PublicURL: origin}, func(rt *refserver.Router) { module(rt, generatedIndex(n)) })
	get := func(path string) *httptest.ResponseRecorder {
		t.Helper()
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Cache-Control"), "public") {
			t.Fatalf("%s: %d, Cache-Control %q\n%.300s", path, w.Code, w.Header().Get("Cache-Control"), w.Body)
		}
		return w
	}
	robots := get("/robots.txt").Body.String()
	if !strings.Contains(robots, "\nSitemap: "+origin+"/sitemap.xml\n") || !strings.Contains(robots, "Disallow: /p/\n") {
		t.Errorf("robots.txt:\n%s", robots)
	}
	files := parseSitemap(t, get("/sitemap.xml").Body.String(), "sitemapindex", origin)
	if len(files) != 4 {
		t.Fatalf("%d files, want the public pages' and 3 of the providers: %v", len(files), files)
	}
	seen := map[string]bool{}
	sizes := []int{}
	for _, f := range files {
		urls := parseSitemap(t, get(strings.TrimPrefix(f, origin)).Body.String(), "urlset", origin)
		sizes = append(sizes, len(urls))
		for _, u := range urls {
			if seen[u] {
				t.Fatalf("%s twice", u)
			}
			seen[u] = true
		}
	}
	if fmt.Sprint(sizes) != "[1 50000 50000 20000]" || len(seen) != n+1 {
		t.Errorf("files of %v URLs (%d in all), want [1 50000 50000 20000]", sizes, len(seen))
	}
	for _, p := range []string{"/sitemaps/nope.xml", "/sitemaps/c!!.xml", "/sitemaps/c" + "OTk5OTk5" + ".xml"} {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != http.StatusNotFound && w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 404", p, w.Code)
		}
	}
}

// TestWriteSitemapRefuses: more than 50,000 URLs, or a URL that is not
// absolute, is refused rather than written.
func TestWriteSitemapRefuses(t *testing.T) {
	var b strings.Builder
	if err := writeSitemap(&b, make([]sitemapURL, maxSitemapURLs+1), false); err == nil {
		t.Error("50,001 URLs written")
	}
	if err := writeSitemap(&b, []sitemapURL{{Loc: "/doctors/x"}}, false); err == nil {
		t.Error("a relative URL written")
	}
}
