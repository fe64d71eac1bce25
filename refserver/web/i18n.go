package web

import (
	"io/fs"
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// catalog is the strings of one language by key.
type catalog map[string]string

// catalogs are the languages of the pages: English, the default, and
// Spanish (strings_en.go, strings_es.go), each whole (a test checks that
// they have the same keys and that every key a page uses exists).
var catalogs = map[string]catalog{"en": english, "es": spanish}

// langCookie keeps the language a visitor chose.
const langCookie = "carebook_lang"

// langMatcher picks the pages' language from Accept-Language.
var langMatcher = language.NewMatcher([]language.Tag{language.English, language.Spanish})

// langOf is the language of r's pages: the visitor's choice, else the
// best match of the browser's Accept-Language, else English.
func langOf(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil {
		if _, ok := catalogs[c.Value]; ok {
			return c.Value
		}
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return "en"
	}
	_, i, _ := langMatcher.Match(tags...)
	if i == 1 {
		return "es"
	}
	return "en"
}

// fsGlob lists the embedded pages matching pattern: not the shell nor the
// partials, which are parsed into every page.
func fsGlob(pattern string) ([]string, error) {
	names, err := fs.Glob(templateFS, pattern)
	out := names[:0]
	for _, n := range names {
		if base := n[strings.LastIndexByte(n, '/')+1:]; base != "shell.html" && !strings.HasPrefix(base, "partial_") {
			out = append(out, n)
		}
	}
	return out, err
}
