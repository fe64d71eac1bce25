package sendgrid

import (
	"cmp"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
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
	errPayloadTooLarge = errs.E(errs.KindInvalid, "sendgrid.VerifyBatch", "event webhook payload too large")
)

// MaxPayload bounds the body VerifyBatch reads.
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

// parseKey reads the base64 of a DER (PKIX) ECDSA public key.
func parseKey(b64 string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("not an ECDSA key but %T", key)
	}
	return ec, nil
}

// Verify checks that signature (the X-Twilio-Email-Event-Webhook-Signature
// header) signs timestamp (X-Twilio-Email-Event-Webhook-Timestamp, Unix
// seconds) followed by payload, and that timestamp is within MaxAge of now.
// Only the one encoding of a signature is taken: canonical base64 of strict
// DER with nothing after it. Both valid forms of an ECDSA signature, (r, s)
// and (r, n−s), verify: SendGrid's signer does not keep to the low s (the
// signature of sendgrid-go's own test vector has a high one), so requiring
// it would refuse real events; a replay is recognised by what was signed
// instead (Batch.Key). It returns ErrNoSignature, ErrBadSignature or
// ErrStaleTimestamp.
func (v *EventVerifier) Verify(payload []byte, signature, timestamp string) error {
	_, err := v.verify(payload, signature, timestamp)
	return err
}

// verify is Verify, returning the digest that signature signs.
func (v *EventVerifier) verify(payload []byte, signature, timestamp string) ([]byte, error) {
	if signature == "" || timestamp == "" {
		return nil, ErrNoSignature
	}
	// Re-encoding must give the header back: the decoder would also take
	// other padding bits and line breaks for the same bytes.
	sig, err := base64.StdEncoding.Strict().DecodeString(signature)
	if err != nil || base64.StdEncoding.EncodeToString(sig) != signature {
		return nil, ErrBadSignature
	}
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(payload)
	digest := h.Sum(nil)
	// VerifyASN1 takes strict DER only, with no byte after the signature.
	if !ecdsa.VerifyASN1(v.key, digest, sig) {
		return nil, ErrBadSignature
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return nil, ErrStaleTimestamp
	}
	if age := v.now().Sub(time.Unix(sec, 0)); age > v.maxAge || age < -v.maxAge {
		return nil, ErrStaleTimestamp
	}
	return digest, nil
}

// Batch is an event webhook request whose signature VerifyBatch checked.
type Batch struct {
	// Payload is the request's body, for ParseEvents.
	Payload []byte
	// Key names what SendGrid signed: "sha256:" and the hex SHA-256 of the
	// timestamp followed by the payload, the digest the signature signs.
	// Every request that signs the same timestamp and payload has the same
	// Key, whichever of an ECDSA signature's two valid forms, (r, s) or
	// (r, n−s), it carries: remember Key to refuse replays
	// (notify.Store.RememberWebhook). A replay older than MaxAge is refused
	// by its timestamp, so Keys need to be kept only that long.
	Key string
}

// VerifyBatch reads r's body (at most MaxPayload bytes) and verifies it
// with r's signature headers, as Verify does.
func (v *EventVerifier) VerifyBatch(r *http.Request) (Batch, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		return Batch{}, errs.Wrap(errs.KindInvalid, "sendgrid.VerifyBatch", "unreadable body", err)
	}
	if len(body) > MaxPayload {
		return Batch{}, errPayloadTooLarge
	}
	digest, err := v.verify(body, r.Header.Get(eventwebhook.VerificationHTTPHeader), r.Header.Get(eventwebhook.TimestampHTTPHeader))
	if err != nil {
		return Batch{}, err
	}
	return Batch{Payload: body, Key: "sha256:" + hex.EncodeToString(digest)}, nil
}

// VerifyRequest is VerifyBatch for a caller that keeps no replay memory: it
// returns the body.
func (v *EventVerifier) VerifyRequest(r *http.Request) ([]byte, error) {
	b, err := v.VerifyBatch(r)
	return b.Payload, err
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
