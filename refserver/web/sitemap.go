package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
)

// robots.txt and the sitemaps (sitemaps.org protocol 0.9): /sitemap.xml is
// a sitemap index of files of at most maxSitemapURLs URLs each: the public
// pages that are not the directory's (sitemaps/pages.xml), then the
// directory's providers and practices, in the order of the engine's
// keyset-paged index, one file per page of it. A file is named by the
// cursor it starts after, so it is read with one keyset query, never an
// offset.

// maxSitemapURLs is the most URLs of one sitemap file (the protocol's
// limit).
const maxSitemapURLs = 50000

// sitemapAge is how long a shared cache may keep robots.txt and the
// sitemaps.
const sitemapAge = time.Hour

// sitemapURL is one <url> of a sitemap, or one <sitemap> of an index:
// an absolute URL and when it last changed (zero: not said).
type sitemapURL struct {
	Loc     string
	LastMod time.Time
}

// sitemapNS is the namespace of sitemaps and their indexes.
const sitemapNS = "http://www.sitemaps.org/schemas/sitemap/0.9"

// xmlURL is a <url> or <sitemap> element.
type xmlURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// writeSitemap writes urls as a sitemap (<urlset>), or as a sitemap index
// (<sitemapindex>) when index is set; more than maxSitemapURLs is an error,
// as is a URL that is not absolute.
func writeSitemap(w io.Writer, urls []sitemapURL, index bool) error {
	const op = "web.sitemap"
	if len(urls) > maxSitemapURLs {
		return errs.E(errs.KindInternal, op, "more than 50,000 URLs in one sitemap")
	}
	root, item := "urlset", "url"
	if index {
		root, item = "sitemapindex", "sitemap"
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	start := xml.StartElement{Name: xml.Name{Local: root}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: sitemapNS}}}
	if err := enc.EncodeToken(start); err != nil {
		return err
	}
	for _, u := range urls {
		if !strings.HasPrefix(u.Loc, "https://") && !strings.HasPrefix(u.Loc, "http://") {
			return errs.E(errs.KindInternal, op, "the sitemap URL "+u.Loc+" is not absolute")
		}
		x := xmlURL{Loc: u.Loc}
		if !u.LastMod.IsZero() {
			x.LastMod = u.LastMod.UTC().Format(time.RFC3339)
		}
		if err := enc.EncodeElement(x, xml.StartElement{Name: xml.Name{Local: item}}); err != nil {
			return err
		}
	}
	if err := enc.EncodeToken(start.End()); err != nil {
		return err
	}
	return enc.Flush()
}

// indexEntry is one public page of the directory in its index: its path,
// when it last changed, and the cursor the index continues after it.
type indexEntry struct {
	Path    string
	Updated time.Time
	Cursor  string
}

// indexPage reads up to limit entries of the directory's index after the
// cursor after ("" from the start).
type indexPage func(ctx context.Context, after string, limit int) ([]indexEntry, error)

// sitemapRoutes are robots.txt and the sitemaps.
func (s *pages) sitemapRoutes() []refserver.Route {
	p := refserver.Public()
	return []refserver.Route{
		route("GET", "/robots.txt", s.robots, "What crawlers may fetch, and where the sitemap is", p),
		route("GET", "/sitemap.xml", s.sitemapIndex, "The sitemap index: the files of the public pages' URLs", p),
		route("GET", "/sitemaps/{file}", s.sitemapFile, "One file of the sitemap: at most 50,000 public pages' URLs", p),
	}
}

// disallowed are the paths crawlers are asked to keep out of: the pages
// behind a session, the API and the signed links (each also answers
// noindex).
var disallowed = []string{"/p/", "/api/", "/l/", "/signin", "/signout", "/account", "/verify", "/lang/", "/onboarding", "/find?"}

func (s *pages) robots(w http.ResponseWriter, r *http.Request) error {
	var b strings.Builder
	b.WriteString("User-agent: *\n")
	for _, d := range disallowed {
		b.WriteString("Disallow: " + d + "\n")
	}
	b.WriteString("Allow: /\n\nSitemap: " + s.absolute(r, "/sitemap.xml") + "\n")
	refserver.PublicAnswer(w, r, "text/plain; charset=utf-8", []byte(b.String()), sitemapAge)
	return nil
}

// staticPublic are the public pages that are not the directory's.
var staticPublic = []string{"/"}

func (s *pages) sitemapIndex(w http.ResponseWriter, r *http.Request) error {
	files := []sitemapURL{{Loc: s.absolute(r, "/sitemaps/pages.xml")}}
	after := ""
	for {
		es, err := s.index(r.Context(), after, maxSitemapURLs)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			break
		}
		f := sitemapURL{Loc: s.absolute(r, "/sitemaps/"+fileOfCursor(after))}
		for _, e := range es {
			if e.Updated.After(f.LastMod) {
				f.LastMod = e.Updated
			}
		}
		files = append(files, f)
		if len(es) < maxSitemapURLs {
			break
		}
		after = es[len(es)-1].Cursor
	}
	return answerSitemap(w, r, files, true)
}

func (s *pages) sitemapFile(w http.ResponseWriter, r *http.Request) error {
	file := r.PathValue("file")
	if file == "pages.xml" {
		var urls []sitemapURL
		for _, p := range staticPublic {
			urls = append(urls, sitemapURL{Loc: s.absolute(r, p)})
		}
		return answerSitemap(w, r, urls, false)
	}
	after, ok := cursorOfFile(file)
	if !ok {
		return errs.NotFound("web.sitemap", "sitemap file")
	}
	es, err := s.index(r.Context(), after, maxSitemapURLs)
	if err != nil {
		return err
	}
	if len(es) == 0 {
		return errs.NotFound("web.sitemap", "sitemap file")
	}
	urls := make([]sitemapURL, len(es))
	for i, e := range es {
		urls[i] = sitemapURL{Loc: s.absolute(r, e.Path), LastMod: e.Updated}
	}
	return answerSitemap(w, r, urls, false)
}

// answerSitemap writes urls as a sitemap (or an index) and answers it as
// a public resource.
func answerSitemap(w http.ResponseWriter, r *http.Request, urls []sitemapURL, index bool) error {
	var b bytes.Buffer
	if err := writeSitemap(&b, urls, index); err != nil {
		return err
	}
	refserver.PublicAnswer(w, r, "application/xml; charset=utf-8", b.Bytes(), sitemapAge)
	return nil
}

// fileOfCursor names the sitemap file of the index entries after cursor:
// "0.xml" from the start, else "c" and the cursor in unpadded base64url.
func fileOfCursor(cursor string) string {
	if cursor == "" {
		return "0.xml"
	}
	return "c" + base64.RawURLEncoding.EncodeToString([]byte(cursor)) + ".xml"
}

// cursorOfFile is the cursor a sitemap file's name (fileOfCursor's) starts
// after.
func cursorOfFile(file string) (string, bool) {
	name, ok := strings.CutSuffix(file, ".xml")
	switch {
	case !ok:
		return "", false
	case name == "0":
		return "", true
	case !strings.HasPrefix(name, "c"):
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(name[1:])
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}

// absolute is path under the server's public base URL (Options.PublicURL),
// else under the request's own scheme and host (publicBase).
func (s *pages) absolute(r *http.Request, path string) string {
	return publicBase(r, s.opts) + path
}
