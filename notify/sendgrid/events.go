package sendgrid

import (
	"cmp"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/google/uuid"
	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
)

// The errors of EventVerifier; all are of errs.KindUnauthenticated.
var (
	ErrNoSignature     = errs.E(errs.KindUnauthenticated, "sendgrid.Verify", "missing event webhook signature or timestamp")
	ErrBadSignature    = errs.E(errs.KindUnauthenticated, "sendgrid.Verify", "wrong event webhook signature")
	ErrStaleTimestamp  = errs.E(errs.KindUnauthenticated, "sendgrid.Verify", "event webhook timestamp too old or in the future")
	errPayloadTooLarge = errs.E(errs.KindInvalid, "sendgrid.VerifyRequest", "event webhook payload too large")
)

// MaxPayload bounds the body VerifyRequest reads.
const MaxPayload = 8 << 20

// VerifierConfig configures an EventVerifier.
type VerifierConfig struct {
	// PublicKey is the verification key of the signed event webhook, as
	// SendGrid shows it: base64 of the DER (PKIX) ECDSA P-256 public key.
	PublicKey string
	// MaxAge is how old (or how far in the future) a timestamp may be;
	// default 10 minutes.
	MaxAge time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// EventVerifier checks SendGrid's signed event webhook. It is safe for
// concurrent use.
type EventVerifier struct {
	key    *ecdsa.PublicKey
	maxAge time.Duration
	now    func() time.Time
}

// NewEventVerifier parses cfg's public key and returns a verifier.
func NewEventVerifier(cfg VerifierConfig) (*EventVerifier, error) {
	key, err := parseKey(cfg.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("sendgrid: event webhook public key: %w", err)
	}
	v := &EventVerifier{key: key, maxAge: cfg.MaxAge, now: cfg.Now}
	if v.maxAge <= 0 {
		v.maxAge = 10 * time.Minute
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// parseKey converts the key with the SDK's helper, which panics on a key
// that is not ECDSA.
func parseKey(b64 string) (key *ecdsa.PublicKey, err error) {
	defer func() {
		if recover() != nil {
			key, err = nil, fmt.Errorf("not an ECDSA key")
		}
	}()
	return eventwebhook.ConvertPublicKeyBase64ToECDSA(b64)
}

// Verify checks that signature (the X-Twilio-Email-Event-Webhook-Signature
// header) signs timestamp (X-Twilio-Email-Event-Webhook-Timestamp, Unix
// seconds) followed by payload, and that timestamp is within MaxAge of now.
// It returns ErrNoSignature, ErrBadSignature or ErrStaleTimestamp.
func (v *EventVerifier) Verify(payload []byte, signature, timestamp string) error {
	if signature == "" || timestamp == "" {
		return ErrNoSignature
	}
	ok, err := eventwebhook.VerifySignature(v.key, payload, signature, timestamp)
	if err != nil || !ok {
		return ErrBadSignature
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStaleTimestamp
	}
	if age := v.now().Sub(time.Unix(sec, 0)); age > v.maxAge || age < -v.maxAge {
		return ErrStaleTimestamp
	}
	return nil
}

// VerifyRequest reads r's body (at most MaxPayload bytes) and verifies it
// with r's signature headers, returning the body for ParseEvents.
func (v *EventVerifier) VerifyRequest(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		return nil, errs.Wrap(errs.KindInvalid, "sendgrid.VerifyRequest", "unreadable body", err)
	}
	if len(body) > MaxPayload {
		return nil, errPayloadTooLarge
	}
	err = v.Verify(body, r.Header.Get(eventwebhook.VerificationHTTPHeader), r.Header.Get(eventwebhook.TimestampHTTPHeader))
	if err != nil {
		return nil, err
	}
	return body, nil
}

// event is the part of a SendGrid event that ParseEvents reads.
type event struct {
	Event       string `json:"event"`
	Timestamp   int64  `json:"timestamp"`
	SGMessageID string `json:"sg_message_id"`
	Reason      string `json:"reason"`
	Response    string `json:"response"`
	Status      string `json:"status"`
	OutboxID    string `json:"carebook_message_id"`
}

// ParseEvents reads an event webhook payload (a JSON array of events) into
// deliveries: delivered becomes notify.StatusDelivered; bounce and dropped
// notify.StatusUndelivered with the reason in Error; processed and deferred
// notify.StatusSent (a deferral's response in Error). Other events (opens,
// clicks, unsubscribes) are left out. MessageID is the carebook_message_id
// custom argument (uuid.Nil when absent or malformed), ProviderID the
// X-Message-Id (sg_message_id up to its first '.'), At the event's time. A
// payload that is not an array of events is an error of errs.KindInvalid.
// Verify the payload first.
func ParseEvents(body []byte) ([]notify.Delivery, error) {
	var events []event
	if err := json.Unmarshal(body, &events); err != nil {
		return nil, errs.Wrap(errs.KindInvalid, "sendgrid.ParseEvents", "not an array of events", err)
	}
	out := make([]notify.Delivery, 0, len(events))
	for _, e := range events {
		d := notify.Delivery{Channel: notify.Email, At: time.Unix(e.Timestamp, 0).UTC()}
		switch e.Event {
		case "delivered":
			d.Status = notify.StatusDelivered
		case "bounce", "dropped":
			d.Status = notify.StatusUndelivered
			d.Error = e.Event + ": " + cmp.Or(e.Reason, e.Response, e.Status, "no reason given")
		case "processed":
			d.Status = notify.StatusSent
		case "deferred":
			d.Status = notify.StatusSent
			if r := cmp.Or(e.Response, e.Reason); r != "" {
				d.Error = "deferred: " + r
			}
		default:
			continue
		}
		d.ProviderID, _, _ = strings.Cut(e.SGMessageID, ".")
		if id, err := uuid.Parse(e.OutboxID); err == nil {
			d.MessageID = id
		}
		out = append(out, d)
	}
	return out, nil
}
