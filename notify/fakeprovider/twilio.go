package fakeprovider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
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
	// Created is when the fake accepted it (its date_created and date_sent).
	Created time.Time
}

// Twilio is a fake of Twilio's Programmable Messaging API: it serves
// POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP basic
// authentication, answers with a message resource (status "queued") and a
// unique SID, and records the message. It also serves the list of
// messages, GET on the same path, newest first, filtered by To, From and
// DateSent (with DateSent< and DateSent>, compared by UTC date), in pages
// of PageSize (default 50) linked by next_page_uri, as twilio-go's
// ListMessage reads them. Point twilio.Config.BaseURL at URL.
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
	mux.HandleFunc("GET /2010-04-01/Accounts/{sid}/Messages.json", f.listMessages)
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
	f.holdSend(r)
	if !d.wait(r) || !f.authorized(w, r) {
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
	m.Created = time.Now().UTC()
	f.record(m.MessageID, func() { f.msgs = append(f.msgs, m) })
	writeJSON(w, http.StatusCreated, f.resource(m, "queued"))
}

// authorized checks the basic authentication and the account of r, and
// answers Twilio's error when they are wrong.
func (f *Twilio) authorized(w http.ResponseWriter, r *http.Request) bool {
	if user, pass, ok := r.BasicAuth(); !ok || user != f.accountSID || pass != f.authToken {
		f.fail(w, http.StatusUnauthorized, 20003, "Authenticate")
		return false
	}
	if r.PathValue("sid") != f.accountSID {
		f.fail(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return false
	}
	return true
}

// resource is m as Twilio's message resource with the given status.
func (f *Twilio) resource(m SMS, status string) map[string]any {
	at := m.Created.Format(time.RFC1123Z)
	res := map[string]any{
		"sid": m.SID, "account_sid": f.accountSID, "to": m.To, "from": m.From, "body": m.Body,
		"status": status, "direction": "outbound-api", "num_segments": "1", "api_version": "2010-04-01",
		"date_created": at, "date_updated": at, "date_sent": nil,
		"uri": "/2010-04-01/Accounts/" + f.accountSID + "/Messages/" + m.SID + ".json",
	}
	if status != "queued" {
		res["date_sent"] = at
	}
	return res
}

// listMessages answers Twilio's Read multiple Message resources.
func (f *Twilio) listMessages(w http.ResponseWriter, r *http.Request) {
	d := f.next()
	if !d.wait(r) || !f.authorized(w, r) {
		return
	}
	if d.status != 0 {
		f.fail(w, d.status, d.code, "injected failure")
		return
	}
	q := r.URL.Query()
	var on, before, after string // UTC dates, YYYY-MM-DD
	for _, c := range []struct {
		key string
		dst *string
	}{{"DateSent", &on}, {"DateSent<", &before}, {"DateSent>", &after}} {
		if v := q.Get(c.key); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				if t, err = time.Parse(time.DateOnly, v); err != nil {
					f.fail(w, http.StatusBadRequest, 20001, "Invalid "+c.key)
					return
				}
			}
			*c.dst = t.UTC().Format(time.DateOnly)
		}
	}
	size, err := strconv.Atoi(q.Get("PageSize"))
	if q.Get("PageSize") == "" {
		size, err = 50, nil
	}
	page, perr := strconv.Atoi(q.Get("Page"))
	if q.Get("Page") == "" {
		page, perr = 0, nil
	}
	if err != nil || size < 1 || size > 1000 || perr != nil || page < 0 {
		f.fail(w, http.StatusBadRequest, 20001, "Invalid PageSize or Page")
		return
	}
	var match []SMS
	for _, m := range f.Messages() {
		day := m.Created.Format(time.DateOnly)
		if (q.Get("To") != "" && m.To != q.Get("To")) || (q.Get("From") != "" && m.From != q.Get("From")) ||
			(on != "" && day != on) || (before != "" && day > before) || (after != "" && day < after) {
			continue
		}
		match = append(match, m)
	}
	slices.Reverse(match) // newest first
	start := min(page*size, len(match))
	end := min(start+size, len(match))
	msgs := make([]map[string]any, 0, end-start)
	for _, m := range match[start:end] {
		msgs = append(msgs, f.resource(m, "sent"))
	}
	path := "/2010-04-01/Accounts/" + f.accountSID + "/Messages.json"
	pageURI := func(p int) string {
		v := url.Values{}
		for k := range q {
			if k != "Page" && k != "PageToken" {
				v.Set(k, q.Get(k))
			}
		}
		v.Set("PageSize", strconv.Itoa(size))
		v.Set("Page", strconv.Itoa(p))
		if p > 0 {
			v.Set("PageToken", fmt.Sprintf("PASM%d", p*size))
		}
		return path + "?" + v.Encode()
	}
	var next any
	if end < len(match) {
		next = pageURI(page + 1)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"messages": msgs, "page": page, "page_size": size, "start": start, "end": max(end-1, start),
		"uri": pageURI(page), "first_page_uri": pageURI(0), "next_page_uri": next, "previous_page_uri": nil,
	})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
