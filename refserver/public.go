package refserver

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Caching and indexing. Every answer is private by default: the security
// headers set PrivateCache and "X-Robots-Tag: noindex" on each one, so a
// page with a session or a patient's data is never kept by a shared cache
// nor indexed. Only the public pages (the directory's, robots.txt, the
// sitemaps) answer through PublicAnswer, which makes them cacheable by
// anyone for a while, with a strong ETag, and indexable.

// PrivateCache is the Cache-Control of every answer that is not public.
const PrivateCache = "private, no-store"

// PublicAnswer answers body, of type contentType, as a public resource:
// "Cache-Control: public, max-age=<maxAge>", a strong ETag of the body,
// no X-Robots-Tag, and 304 Not Modified (no body) when the request's
// If-None-Match names that ETag. It sets no cookie; a handler that set one
// must not call it. Vary names what else the body depends on (the
// language: the cookie and Accept-Language).
func PublicAnswer(w http.ResponseWriter, r *http.Request, contentType string, body []byte, maxAge time.Duration) {
	h := w.Header()
	sum := sha256.Sum256(body)
	tag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAge/time.Second)))
	h.Set("ETag", tag)
	h.Set("Vary", "Accept-Language, Cookie")
	h.Del("X-Robots-Tag")
	if etagMatches(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// etagMatches reports whether the If-None-Match header value list names
// tag, or is "*" (RFC 9110 §13.1.2: the weak comparison, so W/"x" names
// "x" too).
func etagMatches(list, tag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// RenderPublicPage renders the page name of ps filled with data and answers
// it with PublicAnswer: a public page, cacheable for maxAge.
func RenderPublicPage(w http.ResponseWriter, r *http.Request, ps Pages, name string, data any, maxAge time.Duration) error {
	b, err := execPage(ps, name, data)
	if err != nil {
		return err
	}
	PublicAnswer(w, r, "text/html; charset=utf-8", b, maxAge)
	return nil
}
