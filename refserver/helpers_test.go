package refserver

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/sqlstore"
)

// testNow is the fixed time of the core's tests.
var testNow = time.Date(2030, 3, 4, 15, 0, 0, 0, time.UTC)

const staff = "staff:desk-1"

// testEnv is a Server with no module (only the core's routes and those a
// test adds) over an Engine on a fresh database, with a fixed clock.
type testEnv struct {
	t      *testing.T
	clock  *clock.Fixed
	engine *carebook.Engine
	srv    *Server
}

func newEnv(t *testing.T, st *sqlstore.Store) *testEnv {
	t.Helper()
	clk := clock.NewFixed(testNow)
	e := carebook.NewWithStore(st, carebook.WithClock(clk))
	return &testEnv{t: t, clock: clk, engine: e, srv: New(e, Options{})}
}

// resp is an answer, read in full.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func httptestRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func newRequest(method, path string) *http.Request { return httptest.NewRequest(method, path, nil) }
