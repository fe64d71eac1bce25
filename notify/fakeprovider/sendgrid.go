package fakeprovider

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Mail is one email the fake SendGrid accepted.
type Mail struct {
	// MessageID is the X-Message-Id the fake answered with.
	MessageID      string
	To             []string
	From, FromName string
	Subject        string
	Text, HTML     string
	// CustomArgs are the mail's custom_args, those of its first
	// personalization merged over the top-level ones.
	CustomArgs map[string]string
	// Accepted is when the fake accepted it.
	Accepted time.Time
}

// OutboxID is the carebook_message_id custom argument.
func (m Mail) OutboxID() string { return m.CustomArgs["carebook_message_id"] }

// SendGrid is a fake of SendGrid's v3 Mail Send API: it serves
// POST /v3/mail/send with a bearer API key, answers 202 with an
// X-Message-Id header and records the mail. It also serves the Email
// Activity API's GET /v3/messages, newest first, for a query of terms
// joined by AND, each unique_args['name']="value", to_email="address",
// msg_id="id" or subject="text" (the forms SendGrid's query reference
// gives), with limit (default 10, at most 1000); each message's msg_id is
// its X-Message-Id followed by a dot and more, as SendGrid's are. Point
// sendgrid.Config.Host at URL.
type SendGrid struct {
	Faults
	apiKey string
	srv    *httptest.Server
	seq    atomic.Uint64
	mails  []Mail // under Faults.mu
}

// NewSendGrid starts a fake SendGrid that accepts the given API key. Close
// it when done.
func NewSendGrid(apiKey string) *SendGrid {
	f := &SendGrid{apiKey: apiKey}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/mail/send", f.send)
	mux.HandleFunc("GET /v3/messages", f.messages)
	f.srv = httptest.NewServer(mux)
	return f
}

// URL is the fake's base URL, such as "http://127.0.0.1:41235".
func (f *SendGrid) URL() string { return f.srv.URL }

// Client returns an HTTP client for the fake's server.
func (f *SendGrid) Client() *http.Client { return f.srv.Client() }

// Close shuts the server down.
func (f *SendGrid) Close() { f.srv.Close() }

// Mails returns a copy of the accepted mails, in order of acceptance.
func (f *SendGrid) Mails() []Mail {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Mail(nil), f.mails...)
}

// Count is how many mails the fake accepted.
func (f *SendGrid) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.mails)
}

// sgAddress is an address in a Mail Send body.
type sgAddress struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

// sgBody is the part of a Mail Send body the fake reads.
type sgBody struct {
	From             *sgAddress `json:"from"`
	Subject          string     `json:"subject"`
	Personalizations []struct {
		To         []sgAddress       `json:"to"`
		Subject    string            `json:"subject"`
		CustomArgs map[string]string `json:"custom_args"`
	} `json:"personalizations"`
	Content []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"content"`
	CustomArgs map[string]string `json:"custom_args"`
}

func (f *SendGrid) fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]any{{"message": msg, "field": nil, "help": nil}}})
}

// admit applies fault d to a request, after its delay, then checks its API
// key; false if it has been answered (or its client left).
func (f *SendGrid) admit(w http.ResponseWriter, r *http.Request, d fault) bool {
	if !d.wait(r) {
		return false
	}
	if r.Header.Get("Authorization") != "Bearer "+f.apiKey {
		f.fail(w, http.StatusUnauthorized, "The provided authorization grant is invalid, expired, or revoked")
		return false
	}
	if d.status != 0 {
		f.fail(w, d.status, "injected failure")
		return false
	}
	return true
}

func (f *SendGrid) send(w http.ResponseWriter, r *http.Request) {
	d := f.next()
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, 30<<20)) // before the delay, as in Twilio.createMessage
	f.holdSend(r)
	if !f.admit(w, r, d) {
		return
	}
	var b sgBody
	if err := errors.Join(readErr, json.Unmarshal(body, &b)); err != nil {
		f.fail(w, http.StatusBadRequest, "Bad Request: "+err.Error())
		return
	}
	m, msg := b.mail()
	if msg != "" {
		f.fail(w, http.StatusBadRequest, msg)
		return
	}
	m.MessageID = fmt.Sprintf("fake%018x", f.seq.Add(1))
	m.Accepted = time.Now().UTC()
	f.record(m.OutboxID(), func() { f.mails = append(f.mails, m) })
	w.Header().Set("X-Message-Id", m.MessageID)
	w.WriteHeader(http.StatusAccepted)
}

// activityTerm is one term of an Email Activity query.
var activityTerm = regexp.MustCompile(`^\s*(unique_args\['([^']+)'\]|to_email|msg_id|subject)\s*=\s*"([^"]*)"\s*$`)

// messages answers the Email Activity API's Filter all messages.
func (f *SendGrid) messages(w http.ResponseWriter, r *http.Request) {
	if !f.admit(w, r, f.next()) {
		return
	}
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			f.fail(w, http.StatusBadRequest, "limit must be an integer from 1 to 1000")
			return
		}
		limit = n
	}
	var terms [][]string
	if v := q.Get("query"); v != "" {
		for _, t := range strings.Split(v, " AND ") {
			m := activityTerm.FindStringSubmatch(t)
			if m == nil {
				f.fail(w, http.StatusBadRequest, "invalid query term: "+t)
				return
			}
			terms = append(terms, m[1:])
		}
	}
	out := []map[string]any{}
	mails := f.Mails()
	for i := len(mails) - 1; i >= 0 && len(out) < limit; i-- {
		m := mails[i]
		msgID := m.MessageID + ".filterfake-1.0"
		ok := true
		for _, t := range terms {
			switch {
			case t[1] != "":
				ok = ok && m.CustomArgs[t[1]] == t[2]
			case t[0] == "to_email":
				ok = ok && slices.Contains(m.To, t[2])
			case t[0] == "msg_id":
				ok = ok && msgID == t[2]
			default:
				ok = ok && m.Subject == t[2]
			}
		}
		if ok {
			to := ""
			if len(m.To) > 0 {
				to = m.To[0]
			}
			out = append(out, map[string]any{"from_email": m.From, "msg_id": msgID, "subject": m.Subject, "to_email": to,
				"status": "delivered", "opens_count": 0, "clicks_count": 0, "last_event_time": m.Accepted.Format(time.RFC3339)})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out})
}

// mail checks a body as SendGrid does (in part) and flattens it into a Mail;
// msg says what is wrong with it.
func (b *sgBody) mail() (m Mail, msg string) {
	if b.From == nil || b.From.Email == "" {
		return m, "The from object must be provided for every email send."
	}
	if len(b.Personalizations) == 0 || len(b.Personalizations[0].To) == 0 {
		return m, "The to array is required for all personalization objects."
	}
	p := b.Personalizations[0]
	m = Mail{From: b.From.Email, FromName: b.From.Name, Subject: b.Subject, CustomArgs: map[string]string{}}
	if p.Subject != "" {
		m.Subject = p.Subject
	}
	if m.Subject == "" {
		return m, "The subject is required."
	}
	for _, to := range p.To {
		m.To = append(m.To, to.Email)
	}
	for _, c := range b.Content {
		switch c.Type {
		case "text/plain":
			m.Text = c.Value
		case "text/html":
			m.HTML = c.Value
		}
	}
	if m.Text == "" && m.HTML == "" {
		return m, "Unless a valid template_id is provided, the content parameter is required."
	}
	for k, v := range b.CustomArgs {
		m.CustomArgs[k] = v
	}
	for k, v := range p.CustomArgs {
		m.CustomArgs[k] = v
	}
	return m, ""
}
