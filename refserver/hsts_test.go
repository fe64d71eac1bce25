package refserver

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHSTSOnlyOverTLS(t *testing.T) {
	h := securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, overTLS := range []bool{false, true} {
		r := httptest.NewRequest("GET", "/healthz", nil)
		if overTLS {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		got, want := w.Header().Get("Strict-Transport-Security"), ""
		if overTLS {
			want = "max-age=31536000; includeSubDomains"
		}
		if got != want {
			t.Errorf("over TLS %v: Strict-Transport-Security = %q, want %q", overTLS, got, want)
		}
	}
}
