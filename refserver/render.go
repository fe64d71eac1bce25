package refserver

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/carebook/carebook/errs"
)

// The one error renderer. Every failure, of a handler or of a middleware,
// is answered here, in the format of the route it happened on:
//
//   - an API route (the default) answers application/problem+json;
//   - a page route answers an HTML page (text/html) on the shared layout;
//   - a route that serves both, and a request that matched no route,
//     answer by the request's Accept: HTML when it prefers text/html to
//     JSON, problem+json otherwise (no Accept, */*, application/json).
//
// The status comes from the error's kind (HTTPStatus, the one table),
// unless the error is a *PageError naming another. A page answers a
// failure of ours with 503 and Retry-After, never 500: a person can try
// again. Bad input is a 4xx in both formats, never a 5xx.

// routeKind is what a route answers: JSON, HTML pages, or either.
type routeKind int

const (
	// apiRoute answers JSON, and its errors as problem+json.
	apiRoute routeKind = iota
	// pageRoute answers HTML pages, and its errors as an HTML page.
	pageRoute
	// bothRoute answers by the request's Accept.
	bothRoute
)

// PageError is an error as a page words it for people: a title and a
// text in place of the status text and the error's message, and, when
// Status is set, a status no errs.Kind names (410 Gone for an expired
// link). Otherwise the kind of Err gives the status. In a problem
// document it reads as Err does, with Status if set.
type PageError struct {
	Status      int
	Title, Text string
	Err         error
}

// Error is the cause's message, or the title when there is no cause.
func (e *PageError) Error() string {
	if e.Err == nil {
		return e.Title
	}
	return e.Err.Error()
}

// Unwrap returns the cause, whose kind and field the answer carries.
func (e *PageError) Unwrap() error { return e.Err }

//go:embed templates/*.html
var templateFS embed.FS

// layout is the shared layout of every page: a page's file defines the
// templates "title" and "main", which the layout's "layout" places.
var layout = template.Must(template.New("layout.html").Funcs(Funcs).ParseFS(templateFS, "templates/layout.html"))

// Pages is a set of HTML pages on the shared layout, by file name. A
// page's file defines the templates "title" and "main", which the layout
// places; the layout is the core's (templates/layout.html), so that every
// module's pages look alike.
type Pages map[string]*template.Template

// ParsePages parses each named file of fsys as one page on the layout.
func ParsePages(fsys fs.FS, names ...string) (Pages, error) {
	return ParsePagesWith(fsys, nil, nil, names...)
}

// ParsePagesWith parses each named file of fsys as one page on the layout,
// with the template functions funcs besides Funcs, and with the files of
// fsys that the patterns shared match (partials every page uses; they may
// define the layout's blocks "lang" and "header") parsed into each page.
func ParsePagesWith(fsys fs.FS, funcs template.FuncMap, shared []string, names ...string) (Pages, error) {
	out := make(Pages, len(names))
	for _, name := range names {
		t := template.Must(layout.Clone()).Funcs(funcs)
		var err error
		for _, pat := range shared {
			if t, err = t.ParseFS(fsys, pat); err != nil {
				return nil, err
			}
		}
		if t, err = t.ParseFS(fsys, name); err != nil {
			return nil, err
		}
		out[name[strings.LastIndexByte(name, '/')+1:]] = t
	}
	return out, nil
}

// corePages are the core's own pages: the error page.
var corePages = func() Pages {
	p, err := ParsePages(templateFS, "templates/error.html")
	if err != nil {
		panic("refserver: the embedded error page does not parse: " + err.Error())
	}
	return p
}()

// RenderPage answers the page name of ps, filled with data, with status.
// The page is rendered before anything is written, so that a failure can
// still be answered (the error is KindInternal).
func RenderPage(w http.ResponseWriter, status int, ps Pages, name string, data any) error {
	t, ok := ps[name]
	if !ok {
		return errs.E(errs.KindInternal, "refserver.renderPage", "no page "+name)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		return errs.Wrap(errs.KindInternal, "refserver.renderPage", "cannot render the page "+name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
	return nil
}

// errorPage is what the error page shows: the title and words for people,
// and the error's own message as a detail.
type errorPage struct {
	Status              int
	Title, Text, Detail string
	RequestID           string
}

// statusWords say, for people, what an error page's status means.
var statusWords = map[int]string{
	http.StatusPaymentRequired: "Everything the practice holds is kept, and can be read and exported; changes wait until its administrator restores the account.",
	http.StatusForbidden:       "Your role here does not include this page or action. A practice administrator can grant it if you need it.",
	http.StatusNotFound:        "There is no such page, or it belongs to a practice you are not part of.",
	http.StatusConflict:        "This changed since the page was shown. Go back, reload the page and try again.",
}

// fail answers err for r, as problem+json or as an HTML page (see above).
// Internal errors are logged with their cause; other kinds are the
// caller's doing and are not.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errs.KindOf(err) == errs.KindInternal {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", RequestID(r.Context())), slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	answerError(w, r, s.kindOf(r), err)
}

// answerError answers err for r on a route of kind k.
func answerError(w http.ResponseWriter, r *http.Request, k routeKind, err error) {
	var pe *PageError
	errors.As(err, &pe)
	answerProblem(w, r, k, problemFor(err), pe)
}

// answerProblem answers p for r on a route of kind k: as a problem
// document, or as the error page, worded by pe when there is one.
func answerProblem(w http.ResponseWriter, r *http.Request, k routeKind, p Problem, pe *PageError) {
	if !wantsHTML(r, k) {
		writeProblem(w, r, p)
		return
	}
	page := errorPage{Status: p.Status, Title: http.StatusText(p.Status), Text: p.Detail, RequestID: RequestID(r.Context())}
	if words, ok := statusWords[p.Status]; ok {
		// The error's own message (a permission's name, say) is for the
		// curious, under the words for people.
		page.Text, page.Detail = words, p.Detail
	}
	if p.Kind == errs.KindReadOnly.String() {
		page.Title = "This practice is read-only"
	}
	if pe != nil && pe.Title != "" {
		page.Title, page.Text, page.Detail = pe.Title, pe.Text, ""
	}
	if p.Status >= 500 {
		page.Status = http.StatusServiceUnavailable
		if pe == nil || pe.Title == "" {
			page.Title, page.Text = "Something went wrong", "Please try again in a minute."
		}
		w.Header().Set("Retry-After", "60")
	}
	retryAfter(w, p)
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+authRealm+`"`)
	}
	if err := RenderPage(w, page.Status, corePages, "error.html", page); err != nil {
		// The embedded page always renders; if it ever does not, say so plainly.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(page.Status)
		io.WriteString(w, page.Title+"\n")
	}
}

// kindOf is the kind of the route r matches; a request that matches none
// answers by Accept.
func (s *Server) kindOf(r *http.Request) routeKind {
	if i := infoFrom(r.Context()); i != nil && i.matched {
		return i.kind
	}
	if ri, ok := s.route(r); ok {
		return ri.kind
	}
	return bothRoute
}

// wantsHTML reports whether an error on a route of kind k is answered as
// an HTML page: always on a page route, never on an API route, and on
// either by Accept.
func wantsHTML(r *http.Request, k routeKind) bool {
	switch k {
	case apiRoute:
		return false
	case pageRoute:
		return true
	}
	return prefersHTML(r.Header.Values("Accept"))
}

// prefersHTML reports whether the Accept header values accept prefer
// text/html to JSON (application/json or application/problem+json): the
// quality each gets from its most specific matching range (RFC 9110
// §12.5.1), HTML only when strictly higher. No Accept, or */*, is JSON.
func prefersHTML(accept []string) bool {
	html, jsn := quality(accept, "text", "html"), max(quality(accept, "application", "json"), quality(accept, "application", "problem+json"))
	return html > jsn
}

// quality is the q of typ/sub in the Accept values: that of the most
// specific range matching it, 0 when none does.
func quality(accept []string, typ, sub string) float64 {
	best, q := -1, 0.0
	for _, v := range accept {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			t, st, _ := strings.Cut(mt, "/")
			spec := -1
			switch {
			case t == typ && st == sub:
				spec = 2
			case t == typ && st == "*":
				spec = 1
			case t == "*" && st == "*":
				spec = 0
			}
			if spec <= best {
				continue
			}
			best, q = spec, 1
			if s, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f <= 1 {
					q = f
				} else {
					q = 0
				}
			}
		}
	}
	return q
}
