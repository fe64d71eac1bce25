package outbound

import "testing"

func TestPermanentStatus(t *testing.T) {
	for status, want := range map[int]bool{400: true, 401: true, 403: true, 404: true, 413: true,
		408: false, 429: false, 500: false, 503: false, 302: false, 200: false} {
		if got := PermanentStatus(status); got != want {
			t.Errorf("PermanentStatus(%d) = %v, want %v", status, got, want)
		}
	}
}
