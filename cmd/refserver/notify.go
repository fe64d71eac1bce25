package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/sendgrid"
	"github.com/carebook/carebook/notify/twilio"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
)

// NotifyConfig is how serve sends messages and takes the providers'
// webhooks. Without credentials a channel's messages are logged, not sent.
type NotifyConfig struct {
	// PublicURL (CAREBOOK_PUBLIC_URL) is the server's address as patients
	// and providers reach it: the base of email links, and the URL Twilio
	// signs. "" uses the address served.
	PublicURL string
	// Twilio (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM) sends SMS
	// when the SID and token are set; the token also checks Twilio's webhooks.
	TwilioAccountSID, TwilioAuthToken, TwilioFrom string
	// TwilioBaseURL (TWILIO_BASE_URL) replaces https://api.twilio.com, as
	// for a regional edge or a test double; "" talks to Twilio.
	TwilioBaseURL string
	// SendGrid (SENDGRID_API_KEY, SENDGRID_FROM) sends email when the key is
	// set; SendGridEventKey (SENDGRID_EVENT_PUBLIC_KEY) verifies its signed
	// event webhook.
	SendGridAPIKey, SendGridFrom, SendGridEventKey string
	// SendGridBaseURL (SENDGRID_BASE_URL) replaces https://api.sendgrid.com,
	// as for https://api.eu.sendgrid.com or a test double.
	SendGridBaseURL string
	// LinkKey (CAREBOOK_LINK_KEY, base64 of 32 bytes or more) signs email
	// links. Unset, the key is derived from the master key (the same in
	// every replica and after restarts).
	LinkKey string
	// DispatchEvery (CAREBOOK_DISPATCH_EVERY) is how often serve sends the
	// messages due.
	DispatchEvery time.Duration
	// DispatchLease (CAREBOOK_DISPATCH_LEASE) is how long a dispatcher may
	// hold the messages it claimed or is sending before another replica
	// takes them over, settling those in doubt with the provider: a
	// replica killed mid-send delays its messages this long.
	DispatchLease time.Duration
	// SendGridActivityLag (SENDGRID_ACTIVITY_LAG) is how long SendGrid's
	// Email Activity may lag a send: an email in doubt that it does not
	// show is sent again only after this long.
	SendGridActivityLag time.Duration
}

// check validates a parsed NotifyConfig.
func (c NotifyConfig) check() error {
	if c.DispatchEvery <= 0 {
		return fmt.Errorf("-dispatch-every / CAREBOOK_DISPATCH_EVERY = %v; want a positive duration", c.DispatchEvery)
	}
	if c.DispatchLease <= 0 {
		return fmt.Errorf("-dispatch-lease / CAREBOOK_DISPATCH_LEASE = %v; want a positive duration", c.DispatchLease)
	}
	if c.SendGridActivityLag <= 0 {
		return fmt.Errorf("-sendgrid-activity-lag / SENDGRID_ACTIVITY_LAG = %v; want a positive duration", c.SendGridActivityLag)
	}
	for _, u := range []struct{ name, v string }{{"-twilio-base-url / TWILIO_BASE_URL", c.TwilioBaseURL},
		{"-sendgrid-base-url / SENDGRID_BASE_URL", c.SendGridBaseURL}} {
		if p, err := url.Parse(u.v); u.v != "" && (err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "") {
			return fmt.Errorf("%s = %q; want http(s)://host", u.name, u.v)
		}
	}
	if c.LinkKey != "" {
		if _, err := decodeLinkKey(c.LinkKey); err != nil {
			return err
		}
	}
	if c.TwilioAccountSID != "" && c.TwilioAuthToken == "" {
		return errors.New("-twilio-account-sid needs -twilio-auth-token (TWILIO_AUTH_TOKEN)")
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "https://") && !strings.HasPrefix(c.PublicURL, "http://") {
		return fmt.Errorf("-public-url / CAREBOOK_PUBLIC_URL = %q; want http(s)://host", c.PublicURL)
	}
	return nil
}

func decodeLinkKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) < 32 {
		return nil, errors.New("the link key (-link-key, CAREBOOK_LINK_KEY) must be base64 of at least 32 bytes")
	}
	return k, nil
}

// linkKey returns the key that signs email links: the configured one, or
// nil to derive it from the master key (carebook.WithLinks).
func (m *Main) linkKey() ([]byte, error) {
	if m.Config.Notify.LinkKey != "" {
		return decodeLinkKey(m.Config.Notify.LinkKey)
	}
	return nil, nil
}

// senders are the dispatcher's senders: Twilio and SendGrid when
// configured, else LogSenders that log each message.
func (m *Main) senders() ([]notify.Sender, error) {
	c := m.Config.Notify
	var out []notify.Sender
	if c.TwilioAccountSID != "" {
		s, err := newPracticeTwilio(twilio.Config{AccountSID: c.TwilioAccountSID, AuthToken: c.TwilioAuthToken, DefaultFrom: c.TwilioFrom,
			BaseURL: c.TwilioBaseURL}, c.PublicURL)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	} else {
		m.logger.Warn("SMS are logged, not sent: set -twilio-account-sid and -twilio-auth-token to send them")
		out = append(out, refserver.NewLogSender(m.logger, notify.SMS))
	}
	if c.SendGridAPIKey != "" {
		s, err := sendgrid.New(sendgrid.Config{APIKey: c.SendGridAPIKey, DefaultFrom: c.SendGridFrom, Host: c.SendGridBaseURL,
			ActivityLag: c.SendGridActivityLag})
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	} else {
		m.logger.Warn("emails are logged, not sent: set -sendgrid-api-key to send them")
		out = append(out, refserver.NewLogSender(m.logger, notify.Email))
	}
	return out, nil
}

// practiceTwilio sends SMS through Twilio, asking for status callbacks at
// the practice's webhook (/webhooks/twilio/{practice}/status under the
// public URL) when one is configured: a twilio.Sender has one callback URL,
// so there is one Sender per practice, made on first use.
type practiceTwilio struct {
	cfg       twilio.Config
	publicURL string

	mu sync.Mutex
	by map[tenant.PracticeID]*twilio.Sender
}

// newPracticeTwilio checks cfg and returns a practiceTwilio; publicURL ""
// asks for no status callbacks.
func newPracticeTwilio(cfg twilio.Config, publicURL string) (*practiceTwilio, error) {
	if _, err := twilio.New(cfg); err != nil {
		return nil, err
	}
	return &practiceTwilio{cfg: cfg, publicURL: strings.TrimRight(publicURL, "/"), by: map[tenant.PracticeID]*twilio.Sender{}}, nil
}

var _ notify.Finder = (*practiceTwilio)(nil)

// Channel is notify.SMS.
func (p *practiceTwilio) Channel() notify.Channel { return notify.SMS }

// Find asks Twilio whether it has m, through the Sender of m's practice.
func (p *practiceTwilio) Find(ctx context.Context, m *notify.Message) (notify.Receipt, bool, error) {
	s, err := p.sender(m.PracticeID)
	if err != nil {
		return notify.Receipt{}, false, notify.Permanent(err)
	}
	return s.Find(ctx, m)
}

// Send sends out through the Sender of out's practice.
func (p *practiceTwilio) Send(ctx context.Context, out notify.Outgoing) (notify.Receipt, error) {
	s, err := p.sender(out.Message.PracticeID)
	if err != nil {
		return notify.Receipt{}, notify.Permanent(err)
	}
	return s.Send(ctx, out)
}

func (p *practiceTwilio) sender(practice tenant.PracticeID) (*twilio.Sender, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.by[practice]; ok {
		return s, nil
	}
	cfg := p.cfg
	if p.publicURL != "" {
		cfg.StatusCallbackURL = p.publicURL + "/webhooks/twilio/" + practice.String() + "/status"
	}
	s, err := twilio.New(cfg)
	if err != nil {
		return nil, err
	}
	p.by[practice] = s
	return s, nil
}

// webhookOptions sets the server's options for the providers' webhooks.
func (m *Main) webhookOptions(opts *refserver.Options, publicURL string) error {
	c := m.Config.Notify
	opts.PublicURL, opts.TwilioAuthToken = publicURL, c.TwilioAuthToken
	if c.SendGridEventKey != "" {
		v, err := sendgrid.NewEventVerifier(sendgrid.VerifierConfig{PublicKey: c.SendGridEventKey})
		if err != nil {
			return fmt.Errorf("-sendgrid-event-key: %w", err)
		}
		opts.SendGridEvents = v
	}
	return nil
}
