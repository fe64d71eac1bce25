// Package outbound holds what carebook's provider adapters (notify/twilio,
// notify/sendgrid) share about calling a provider over HTTP.
package outbound

import (
	"net/http"
	"time"
)

// PermanentStatus reports whether an HTTP status from a provider means a
// retry cannot help: any 4xx but 408 (request timeout) and 429 (rate
// limited). 5xx and anything unexpected are worth retrying.
func PermanentStatus(status int) bool {
	return status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests
}

// Transport returns a transport for one provider's host: the default
// transport's settings, with enough idle connections kept for a dispatcher
// sending thousands of messages a second from many goroutines (the default
// keeps two per host and churns through ports).
func Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	t.IdleConnTimeout = 90 * time.Second
	return t
}
