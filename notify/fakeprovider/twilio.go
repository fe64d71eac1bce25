package fakeprovider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"time"
)

// SMS is one message the fake Twilio accepted.
type SMS struct {
	SID            string
	To, From, Body string
	StatusCallback string
	// MessageID is the StatusCallback URL's "m" parameter: the outbox ID.
	MessageID string
}

// Twilio is a fake of Twilio's Programmable Messaging API: it serves
// POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP basic
// authentication, answers with a message resource (status "queued") and a
// unique SID, and records the message. Point twilio.Config.BaseURL at URL.
type Twilio struct {
	Faults
	accountSID, authToken string
	srv                   *httptest.Server
	seq                   atomic.Uint64
	msgs                  []SMS // under Faults.mu
}

// NewTwilio starts a fake Twilio that accepts the given credentials. Close
// it when done (t.Cleanup(f.Close)).
func NewTwilio(accountSID, authToken string) *Twilio {
	f := &Twilio{accountSID: accountSID, authToken: authToken}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Messages.json", f.createMessage)
	f.srv = httptest.NewServer(mux)
	return f
}

// URL is the fake's base URL, such as "http://127.0.0.1:41234".
func (f *Twilio) URL() string { return f.srv.URL }

// Client returns an HTTP client for the fake's server.
func (f *Twilio) Client() *http.Client { return f.srv.Client() }

// Close shuts the server down.
func (f *Twilio) Close() { f.srv.Close() }

// Messages returns a copy of the accepted messages, in order of acceptance.
func (f *Twilio) Messages() []SMS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SMS(nil), f.msgs...)
}

// Count is how many messages the fake accepted.
func (f *Twilio) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.msgs)
}

// twilioError is the body of a Twilio API error.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func (f *Twilio) fail(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, twilioError{Code: code, Message: msg, Status: status,
		MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)})
}

func (f *Twilio) createMessage(w http.ResponseWriter, r *http.Request) {
	d := f.next()
	// Read the body first: only then does the server notice a client that
	// gives up during the delay.
	formErr := r.ParseForm()
	if !d.wait(r) {
		return
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != f.accountSID || pass != f.authToken {
		f.fail(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if r.PathValue("sid") != f.accountSID {
		f.fail(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	if d.status != 0 {
		f.fail(w, d.status, d.code, "injected failure")
		return
	}
	if formErr != nil {
		f.fail(w, http.StatusBadRequest, 21100, "Bad request: "+formErr.Error())
		return
	}
	m := SMS{To: r.PostForm.Get("To"), From: r.PostForm.Get("From"), Body: r.PostForm.Get("Body"),
		StatusCallback: r.PostForm.Get("StatusCallback")}
	switch {
	case m.To == "":
		f.fail(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case m.From == "":
		f.fail(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case m.Body == "":
		f.fail(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	}
	if u, err := url.Parse(m.StatusCallback); err == nil {
		m.MessageID = u.Query().Get("m")
	}
	m.SID = fmt.Sprintf("SM%032x", f.seq.Add(1))
	f.record(m.MessageID, func() { f.msgs = append(f.msgs, m) })
	now := time.Now().UTC().Format(time.RFC1123Z)
	writeJSON(w, http.StatusCreated, map[string]any{
		"sid": m.SID, "account_sid": f.accountSID, "to": m.To, "from": m.From, "body": m.Body,
		"status": "queued", "direction": "outbound-api", "num_segments": "1", "api_version": "2010-04-01",
		"date_created": now, "date_updated": now,
		"uri": "/2010-04-01/Accounts/" + f.accountSID + "/Messages/" + m.SID + ".json",
	})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
