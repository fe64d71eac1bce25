package refserver

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
)

// The static assets of every page (static/): one stylesheet and one
// script, embedded, served under a path that carries a hash of their
// content, so that browsers may keep them for a year and a new release is
// fetched at once. Pages name them with the template function asset.

//go:embed static
var staticFS embed.FS

// asset is one embedded file, with its content hash.
type asset struct {
	body        []byte
	hash        string
	contentType string
}

// assets are the embedded files by name.
var assets = func() map[string]asset {
	out := map[string]asset{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		out[strings.TrimPrefix(p, "static/")] = asset{body: b, hash: hex.EncodeToString(sum[:6]), contentType: ct}
		return nil
	})
	if err != nil {
		panic("refserver: the embedded assets do not read: " + err.Error())
	}
	return out
}()

// AssetPath is the path an embedded asset is served at ("app.css" is
// "/static/<hash>/app.css"); it panics for a name that is no asset, so
// that a typo fails at the first render in tests.
func AssetPath(name string) string {
	a, ok := assets[name]
	if !ok {
		panic("refserver: no asset " + name)
	}
	return "/static/" + a.hash + "/" + name
}

// Funcs are the template functions every page may use: asset
// (AssetPath) and stylesheets (Stylesheets).
var Funcs = template.FuncMap{"asset": AssetPath, "stylesheets": Stylesheets}

// Stylesheets are the paths of every embedded stylesheet: app.css first,
// then the pages' own (one per area of pages), by name.
func Stylesheets() []string {
	var names []string
	for n := range assets {
		if strings.HasSuffix(n, ".css") && n != "app.css" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := []string{AssetPath("app.css")}
	for _, n := range names {
		out = append(out, AssetPath(n))
	}
	return out
}

// serveAsset answers an embedded asset, cached for a year when the path's
// hash is its current one (an old hash is answered too, but not cached).
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) error {
	a, ok := assets[r.PathValue("file")]
	if !ok {
		return &PageError{Status: http.StatusNotFound, Title: "Not found", Text: "There is no such file."}
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	if r.PathValue("hash") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	w.Write(a.body)
	return nil
}

// AssetBytes is the content of an embedded asset, nil when there is none.
func AssetBytes(name string) []byte { return assets[name].body }
