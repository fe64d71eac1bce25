package refserver

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestKindTable checks that every kind has its own status.
func TestKindTable(t *testing.T) {
	want := map[errs.Kind]int{
		errs.KindInvalid: 400, errs.KindUnauthenticated: 401, errs.KindForbidden: 403, errs.KindNotFound: 404,
		errs.KindConflict: 409, errs.KindTooLarge: 413, errs.KindUnsupportedMedia: 415, errs.KindPreconditionFailed: 422,
		errs.KindRateLimited: 429, errs.KindReadOnly: 402, errs.KindInternal: 500,
	}
	for k, st := range want {
		if got := HTTPStatus(k); got != st {
			t.Errorf("HTTPStatus(%v) = %d, want %d", k, got, st)
		}
	}
	if got := HTTPStatus(errs.Kind(200)); got != http.StatusInternalServerError {
		t.Errorf("HTTPStatus(unknown) = %d, want 500", got)
	}
	var kinds []string
	for k := range statusOf {
		kinds = append(kinds, k.String())
	}
	sort.Strings(kinds)
	if len(kinds) != len(want) {
		t.Errorf("statusOf has %v", kinds)
	}
}

// TestPanicIsProblem checks the recovery middleware through the real chain.
func TestPanicIsProblem(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t))
	e.srv.mux.Handle("GET /boom", e.srv.instrument(Route{Method: "GET", Pattern: "/boom"},
		e.srv.api(func(http.ResponseWriter, *http.Request) error { panic("secret cause") })))
	w := httptestRecorder()
	e.srv.ServeHTTP(w, newRequest("GET", "/boom"))
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"kind":"internal"`) || strings.Contains(w.Body.String(), "secret") {
		t.Fatalf("panic answered %d %s", w.Code, w.Body)
	}
}
