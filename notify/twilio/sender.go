// Package twilio sends carebook's SMS through Twilio with the twilio-go SDK,
// and reads what Twilio posts back: inbound messages and status callbacks,
// after checking their X-Twilio-Signature.
//
// A Sender points the SDK at Config.BaseURL when set, so tests run it
// against notify/fakeprovider's fake Twilio.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/internal/outbound"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// Config configures a Sender.
type Config struct {
	AccountSID string
	AuthToken  string
	// DefaultFrom is the sending number (E.164) for messages whose Outgoing
	// has no From.
	DefaultFrom string
	// StatusCallbackURL, when set, is where Twilio reports each message's
	// fate; the Sender adds the outbox ID as the query parameter "m".
	StatusCallbackURL string
	// BaseURL replaces "https://api.twilio.com" (scheme and host), as for a
	// fake Twilio in tests; "" talks to Twilio.
	BaseURL string
	// HTTPClient's Transport makes the requests (its Timeout is not used,
	// see Timeout); nil uses a transport of the Sender's own.
	HTTPClient *http.Client
	// Timeout bounds one Send (default 10s); the caller's ctx may end it
	// sooner.
	Timeout time.Duration
}

// Sender sends SMS through Twilio. It is safe for concurrent use.
type Sender struct {
	creds     *client.Credentials
	sid       string
	from      string
	callback  *url.URL
	base      *url.URL
	transport http.RoundTripper
	timeout   time.Duration
}

var _ notify.Finder = (*Sender)(nil)

// New checks cfg and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if cfg.AccountSID == "" || cfg.AuthToken == "" {
		return nil, errors.New("twilio: AccountSID and AuthToken are required")
	}
	s := &Sender{creds: client.NewCredentials(cfg.AccountSID, cfg.AuthToken), sid: cfg.AccountSID,
		from: cfg.DefaultFrom, timeout: cfg.Timeout, transport: outbound.Transport()}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
	}
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		s.transport = cfg.HTTPClient.Transport
	}
	var err error
	if cfg.StatusCallbackURL != "" {
		if s.callback, err = parseAbs(cfg.StatusCallbackURL); err != nil {
			return nil, fmt.Errorf("twilio: StatusCallbackURL: %w", err)
		}
	}
	if cfg.BaseURL != "" {
		if s.base, err = parseAbs(cfg.BaseURL); err != nil {
			return nil, fmt.Errorf("twilio: BaseURL: %w", err)
		}
	}
	return s, nil
}

// parseAbs parses an absolute http(s) URL.
func parseAbs(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return u, nil
}

// Channel is notify.SMS.
func (s *Sender) Channel() notify.Channel { return notify.SMS }

// Send asks Twilio to send out's message. A Twilio error with a 4xx status
// other than 408 and 429 (an invalid or unsubscribed number, a refused
// sender, bad credentials) is permanent; anything else is temporary. Failed
// sends return the *client.TwilioRestError in the chain when Twilio
// answered with one.
func (s *Sender) Send(ctx context.Context, out notify.Outgoing) (notify.Receipt, error) {
	m := out.Message
	if m == nil || m.To == "" || m.Text == "" {
		return notify.Receipt{}, notify.Permanent(errors.New("twilio: message without recipient or text"))
	}
	from := out.From
	if from == "" {
		from = s.from
	}
	if from == "" {
		return notify.Receipt{}, notify.Permanent(errors.New("twilio: no sending number"))
	}
	params := (&openapi.CreateMessageParams{}).SetTo(m.To).SetFrom(from).SetBody(m.Text)
	if s.callback != nil {
		params.SetStatusCallback(s.callbackFor(m))
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := openapi.NewApiServiceWithClient(s.client(ctx)).CreateMessage(params)
	if err != nil {
		return notify.Receipt{}, classify(ctx, err)
	}
	r := notify.Receipt{}
	if res.Sid != nil {
		r.ProviderID = *res.Sid
	}
	if res.Status != nil {
		r.Status = *res.Status
	}
	if r.ProviderID == "" {
		return r, errors.New("twilio: answer without a message SID")
	}
	return r, nil
}

// findLimit is how many of Twilio's latest messages to a number Find reads.
const findLimit = 200

// findSkew is how far before a message's due time Find still looks, for
// the difference between our clock and Twilio's: no attempt to send a
// message starts before it is due.
const findSkew = 10 * time.Minute

// Find asks Twilio's Messages list whether it has m: the messages to m.To
// (twilio-go's ListMessage, newest first, up to 200), of which one created
// since m became due (less findSkew), outbound, with m's text as its body,
// is m: the same text sent earlier (the day-before reminder of the visit
// that the 2-hour one repeats) is not taken for it. Twilio keeps no outbox ID on a message (only the status
// callback carries it, and a message whose callback came is no longer in
// doubt), so the match is by number, time and text: a second message of
// the same text to the same number in that window would be taken for m
// (never sent twice; at worst not sent). The list is not filtered by
// DateSent: a message still queued at Twilio has no date_sent yet, and
// would be missed. Failures are as for Send: a permanent one means Twilio
// refuses to be asked.
func (s *Sender) Find(ctx context.Context, m *notify.Message) (notify.Receipt, bool, error) {
	if m == nil || m.To == "" {
		return notify.Receipt{}, false, notify.Permanent(errors.New("twilio: message without recipient"))
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	params := (&openapi.ListMessageParams{}).SetTo(m.To).SetPageSize(findLimit).SetLimit(findLimit)
	list, err := openapi.NewApiServiceWithClient(s.client(ctx)).ListMessage(params)
	if err != nil {
		return notify.Receipt{}, false, classify(ctx, err)
	}
	since := m.DueAt.UTC().Add(-findSkew)
	for _, x := range list {
		if x.Sid == nil || x.Body == nil || *x.Body != m.Text || (x.Direction != nil && !strings.HasPrefix(*x.Direction, "outbound")) {
			continue
		}
		if x.DateCreated != nil {
			if at, err := time.Parse(time.RFC1123Z, *x.DateCreated); err == nil && at.Before(since) {
				continue
			}
		}
		r := notify.Receipt{ProviderID: *x.Sid}
		if x.Status != nil {
			r.Status = *x.Status
		}
		return r, true, nil
	}
	return notify.Receipt{}, false, nil
}

// callbackFor is the status callback URL of m: the configured one with the
// outbox ID added as "m".
func (s *Sender) callbackFor(m *notify.Message) string {
	u := *s.callback
	q := u.Query()
	q.Set("m", m.ID.String())
	u.RawQuery = q.Encode()
	return u.String()
}

// classify wraps a failed CreateMessage as permanent or temporary.
func classify(ctx context.Context, err error) error {
	var te *client.TwilioRestError
	if errors.As(err, &te) {
		err = fmt.Errorf("twilio: %d %s (code %d): %w", te.Status, http.StatusText(te.Status), te.Code, te)
		if outbound.PermanentStatus(te.Status) {
			return notify.Permanent(err)
		}
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("twilio: %w (%w)", ctx.Err(), err)
	}
	return fmt.Errorf("twilio: %w", err)
}

// client returns the SDK's HTTP client for one Send: it carries ctx into
// every request it makes (the SDK itself takes no context) and sends them
// to the base URL.
func (s *Sender) client(ctx context.Context) client.BaseClient {
	c := &client.Client{
		Credentials: s.creds,
		HTTPClient: &http.Client{
			Transport:     ctxTransport{ctx: ctx, next: s.transport},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(s.sid)
	if s.base == nil {
		return c
	}
	return rebased{Client: c, base: s.base}
}

// rebased is a twilio-go BaseClient that sends every request to another
// scheme and host, keeping the path and query.
type rebased struct {
	*client.Client
	base *url.URL
}

// SendRequest rewrites rawURL onto the base URL and sends it.
func (c rebased) SendRequest(method, rawURL string, data url.Values, headers map[string]any, body ...byte) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Host = c.base.Scheme, c.base.Host
	return c.Client.SendRequest(method, u.String(), data, headers, body...)
}

// ctxTransport sends each request under ctx.
type ctxTransport struct {
	ctx  context.Context
	next http.RoundTripper
}

// RoundTrip sends r with ctx as its context.
func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(r.WithContext(t.ctx))
}
