package twilio

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/google/uuid"
	"github.com/twilio/twilio-go/client"
)

// SignatureHeader is the header in which Twilio signs its webhook requests.
const SignatureHeader = "X-Twilio-Signature"

// The errors of Validate; both are of errs.KindUnauthenticated.
var (
	ErrNoSignature  = errs.E(errs.KindUnauthenticated, "twilio.Validate", "missing "+SignatureHeader)
	ErrBadSignature = errs.E(errs.KindUnauthenticated, "twilio.Validate", "wrong "+SignatureHeader)
)

// Validator checks that webhook requests come from Twilio. It is safe for
// concurrent use.
type Validator struct {
	rv client.RequestValidator
}

// NewValidator returns a Validator for the account's auth token.
func NewValidator(authToken string) Validator {
	return Validator{rv: client.NewRequestValidator(authToken)}
}

// Validate checks r's X-Twilio-Signature. fullURL is the URL Twilio called,
// exactly as configured there, query included (behind a proxy r.URL does not
// know the public scheme and host). The signature covers fullURL and, for a
// POST, the form parameters; Validate parses the form, so handlers read it
// from r.PostForm afterwards. It returns ErrNoSignature or ErrBadSignature.
func (v Validator) Validate(r *http.Request, fullURL string) error {
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		return ErrNoSignature
	}
	if err := r.ParseForm(); err != nil {
		return errs.Wrap(errs.KindInvalid, "twilio.Validate", "unreadable form", err)
	}
	params := make(map[string]string, len(r.PostForm))
	for k, vs := range r.PostForm {
		params[k] = vs[0]
	}
	if !v.rv.Validate(fullURL, params, sig) {
		return ErrBadSignature
	}
	return nil
}

// Inbound is an SMS a patient sent to a practice's number.
type Inbound struct {
	From, To   string
	Body       string
	MessageSID string
}

// ParseInbound reads the inbound message Twilio posted. Validate r first.
func ParseInbound(r *http.Request) (Inbound, error) {
	const op = "twilio.ParseInbound"
	if err := r.ParseForm(); err != nil {
		return Inbound{}, errs.Wrap(errs.KindInvalid, op, "unreadable form", err)
	}
	in := Inbound{From: r.PostForm.Get("From"), To: r.PostForm.Get("To"), Body: r.PostForm.Get("Body"),
		MessageSID: r.PostForm.Get("MessageSid")}
	if in.From == "" || in.To == "" || in.MessageSID == "" {
		return Inbound{}, errs.Invalid(op, "From", "From, To and MessageSid are required")
	}
	return in, nil
}

// ParseStatusCallback reads a message status callback, sent to the URL that
// Send gave Twilio. MessageStatus delivered (and read) becomes
// notify.StatusDelivered; undelivered, failed and canceled become
// notify.StatusUndelivered, with the status and ErrorCode in Error; queued,
// accepted, scheduled, sending and sent become notify.StatusSent. Any other
// status is an error of errs.KindInvalid with Field "MessageStatus".
// MessageID comes from the URL's "m" parameter (uuid.Nil when absent). At is
// left zero: Twilio does not say when, so the caller stamps it. Validate r
// first.
func ParseStatusCallback(r *http.Request) (notify.Delivery, error) {
	const op = "twilio.ParseStatusCallback"
	if err := r.ParseForm(); err != nil {
		return notify.Delivery{}, errs.Wrap(errs.KindInvalid, op, "unreadable form", err)
	}
	d := notify.Delivery{Channel: notify.SMS, ProviderID: r.PostForm.Get("MessageSid")}
	if d.ProviderID == "" {
		return notify.Delivery{}, errs.Invalid(op, "MessageSid", "MessageSid is required")
	}
	if m := r.URL.Query().Get("m"); m != "" {
		id, err := uuid.Parse(m)
		if err != nil {
			return notify.Delivery{}, errs.Invalid(op, "m", "m is not a message ID")
		}
		d.MessageID = id
	}
	switch st := r.PostForm.Get("MessageStatus"); st {
	case "delivered", "read":
		d.Status = notify.StatusDelivered
	case "undelivered", "failed", "canceled":
		d.Status = notify.StatusUndelivered
		d.Error = st
		if code := r.PostForm.Get("ErrorCode"); code != "" {
			d.Error = fmt.Sprintf("%s: error %s", st, code)
		}
	case "queued", "accepted", "scheduled", "sending", "sent":
		d.Status = notify.StatusSent
	default:
		return notify.Delivery{}, errs.Invalid(op, "MessageStatus", fmt.Sprintf("unknown message status %q", st))
	}
	return d, nil
}

// TwiMLContentType is the content type to answer TwiML with.
const TwiMLContentType = "text/xml; charset=utf-8"

// TwiML is the answer to an inbound SMS webhook: a <Message> with reply,
// XML-escaped, or an empty <Response/> (no reply) when reply is "".
// Characters XML cannot carry become U+FFFD.
func TwiML(reply string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if reply == "" {
		b.WriteString("<Response/>")
		return b.Bytes()
	}
	b.WriteString("<Response><Message>")
	_ = xml.EscapeText(&b, []byte(reply)) // a bytes.Buffer never fails
	b.WriteString("</Message></Response>")
	return b.Bytes()
}
