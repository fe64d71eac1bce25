// Package sendgrid sends carebook's email through SendGrid with the
// sendgrid-go SDK, and reads SendGrid's signed event webhook.
//
// Every mail carries the custom arguments carebook_message_id (the outbox
// ID) and carebook_practice_id, which SendGrid copies into its events, so
// ParseEvents can name the outbox message of each. A Sender talks to
// Config.Host when set, so tests run it against notify/fakeprovider's fake
// SendGrid.
package sendgrid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/internal/outbound"
	"github.com/sendgrid/rest"
	sg "github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/mail"
)

// The custom arguments every mail carries.
const (
	ArgMessageID  = "carebook_message_id"
	ArgPracticeID = "carebook_practice_id"
)

// Config configures a Sender.
type Config struct {
	APIKey string
	// DefaultFrom and DefaultFromName are the sender of mails whose Outgoing
	// has no From (the name is used only with DefaultFrom).
	DefaultFrom     string
	DefaultFromName string
	// Host replaces "https://api.sendgrid.com", as for a fake SendGrid in
	// tests or "https://api.eu.sendgrid.com"; "" talks to SendGrid.
	Host string
	// HTTPClient makes the requests; nil uses a client of the Sender's own.
	HTTPClient *http.Client
	// Timeout bounds one Send (default 10s); the caller's ctx may end it
	// sooner.
	Timeout time.Duration
	// ActivityLag is how long after a send the Email Activity may still
	// not show it (default DefaultActivityLag): a mail in doubt that Find
	// does not find is sent again only after it.
	ActivityLag time.Duration
}

// Sender sends email through SendGrid. It is safe for concurrent use.
type Sender struct {
	key, host string
	from      *mail.Email
	client    *rest.Client
	timeout   time.Duration
	lag       time.Duration
}

var _ notify.LaggingFinder = (*Sender)(nil)

// New checks cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("sendgrid: APIKey is required")
	}
	s := &Sender{key: cfg.APIKey, host: strings.TrimSuffix(cfg.Host, "/"), timeout: cfg.Timeout,
		client: &rest.Client{HTTPClient: cfg.HTTPClient}}
	if s.client.HTTPClient == nil {
		s.client.HTTPClient = &http.Client{Transport: outbound.Transport()}
	}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
	}
	if s.lag = cfg.ActivityLag; s.lag <= 0 {
		s.lag = DefaultActivityLag
	}
	if cfg.DefaultFrom != "" {
		s.from = mail.NewEmail(cfg.DefaultFromName, cfg.DefaultFrom)
	}
	return s, nil
}

// Channel is notify.Email.
func (s *Sender) Channel() notify.Channel { return notify.Email }

// Error is SendGrid's refusal of a mail.
type Error struct {
	StatusCode int
	// Message is SendGrid's first error message, or the body's start.
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("sendgrid: %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// Send asks SendGrid to send out's message: plain text, and HTML when the
// message has it. A 2xx answer gives a Receipt whose ProviderID is the
// X-Message-Id; a 4xx other than 408 and 429 (a malformed mail, a bad key,
// a refused sender, a mail too large) is permanent; anything else,
// network failures included, is temporary. Refusals are *Error.
func (s *Sender) Send(ctx context.Context, out notify.Outgoing) (notify.Receipt, error) {
	m := out.Message
	if m == nil || m.To == "" || (m.Text == "" && m.HTML == "") {
		return notify.Receipt{}, notify.Permanent(errors.New("sendgrid: message without recipient or content"))
	}
	from := s.from
	if out.From != "" {
		from = mail.NewEmail(out.FromName, out.From)
	}
	if from == nil {
		return notify.Receipt{}, notify.Permanent(errors.New("sendgrid: no sender address"))
	}
	contents := []*mail.Content{mail.NewContent("text/plain", m.Text)}
	if m.Text == "" {
		contents = nil
	}
	if m.HTML != "" {
		contents = append(contents, mail.NewContent("text/html", m.HTML))
	}
	v3 := mail.NewV3MailInit(from, m.Subject, mail.NewEmail("", m.To), contents...)
	v3.SetCustomArg(ArgMessageID, m.ID.String())
	v3.SetCustomArg(ArgPracticeID, m.PracticeID.String())

	req := sg.GetRequest(s.key, "/v3/mail/send", s.host)
	req.Method = rest.Post
	req.Body = mail.GetRequestBody(v3)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := s.client.SendWithContext(ctx, req)
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("sendgrid: %w", err)
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return notify.Receipt{ProviderID: http.Header(res.Headers).Get("X-Message-Id"), Status: "accepted"}, nil
	}
	e := &Error{StatusCode: res.StatusCode, Message: errorMessage(res.Body)}
	if outbound.PermanentStatus(res.StatusCode) {
		return notify.Receipt{}, notify.Permanent(e)
	}
	return notify.Receipt{}, e
}

// Find asks SendGrid's Email Activity API (GET /v3/messages, which needs
// the account's additional email activity history and an API key allowed
// to read it) for the mail whose custom argument carebook_message_id is
// m's ID: found, its ProviderID is the msg_id up to its first dot (the
// X-Message-Id that Send returned). A refusal (such as 401 or 403 for an
// account or key without Email Activity) is permanent: SendGrid cannot be
// asked; a 429, a 5xx or a network failure is temporary.
//
// The activity feed lags the sends by seconds to a few minutes: the
// Sender is a notify.LaggingFinder, so a mail it does not find is sent
// again only Config.ActivityLag after it was marked sending.
func (s *Sender) Find(ctx context.Context, m *notify.Message) (notify.Receipt, bool, error) {
	if m == nil {
		return notify.Receipt{}, false, notify.Permanent(errors.New("sendgrid: no message"))
	}
	req := sg.GetRequest(s.key, "/v3/messages", s.host)
	req.Method = rest.Get
	req.QueryParams = map[string]string{"limit": "10",
		"query": fmt.Sprintf("unique_args['%s']=%q", ArgMessageID, m.ID.String())}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := s.client.SendWithContext(ctx, req)
	if err != nil {
		return notify.Receipt{}, false, fmt.Errorf("sendgrid: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		e := &Error{StatusCode: res.StatusCode, Message: errorMessage(res.Body)}
		if outbound.PermanentStatus(res.StatusCode) {
			return notify.Receipt{}, false, notify.Permanent(e)
		}
		return notify.Receipt{}, false, e
	}
	var b struct {
		Messages []struct {
			MsgID  string `json:"msg_id"`
			Status string `json:"status"`
		} `json:"messages"`
	}
	if err := json.Unmarshal([]byte(res.Body), &b); err != nil {
		return notify.Receipt{}, false, fmt.Errorf("sendgrid: the Email Activity answer: %w", err)
	}
	if len(b.Messages) == 0 {
		return notify.Receipt{}, false, nil
	}
	id, _, _ := strings.Cut(b.Messages[0].MsgID, ".")
	return notify.Receipt{ProviderID: id, Status: b.Messages[0].Status}, true, nil
}

// DefaultActivityLag is how long after a send SendGrid's Email Activity may
// still not show it, unless Config.ActivityLag says otherwise.
const DefaultActivityLag = 10 * time.Minute

// RecordLag returns the Sender's activity lag (notify.LaggingFinder).
func (s *Sender) RecordLag() time.Duration { return s.lag }

// errorMessage reads the first message of a SendGrid error body, or the
// body's start when it is not one.
func errorMessage(body string) string {
	var b struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal([]byte(body), &b) == nil && len(b.Errors) > 0 {
		return b.Errors[0].Message
	}
	if len(body) > 200 {
		body = body[:200]
	}
	return strings.TrimSpace(body)
}
