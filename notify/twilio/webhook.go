package twilio

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/google/uuid"
	"github.com/twilio/twilio-go/client"
)

// SignatureHeader is the header in which Twilio signs its webhook requests.
const SignatureHeader = "X-Twilio-Signature"

// IdempotencyHeader is the header in which Twilio sends a webhook request's
// idempotency token, the same on every retry of that request. It is not
// signed.
const IdempotencyHeader = "I-Twilio-Idempotency-Token"

// The errors of Verify (and Validate); both are of errs.KindUnauthenticated.
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

// Validate checks r's X-Twilio-Signature, as Verify does, for a caller that
// keeps no replay memory.
func (v Validator) Validate(r *http.Request, fullURL string) error {
	_, err := v.Verify(r, fullURL)
	return err
}

// Signed is a webhook request whose signature Verify checked: what a replay
// of it is recognised by.
type Signed struct {
	// Signature is the request's X-Twilio-Signature.
	Signature string
	// Digest is the hex SHA-256 of the text the signature signs: the URL
	// followed by every form key and value, keys in sorted order, with no
	// separator. The text does not say where one parameter ends and the
	// next begins, so a request that cuts it into other parameters (drops
	// NumMedia=0 and sends MessageSid=<sid>NumMedia0) carries the same
	// signature and has the same Digest.
	Digest string
	// IdempotencyToken is the request's I-Twilio-Idempotency-Token, "" when
	// Twilio sent none.
	IdempotencyToken string
}

// ReplayKeys are the keys under which to remember the request
// (notify.Store.RememberWebhook, one source for every Twilio webhook); a
// request that has any of them is a replay. They are the signature, the
// Digest (for every cut of the signed text alike), and the idempotency
// token when Twilio sent one (hashed, so that a key is never longer than 71
// bytes). Twilio's signature carries no time: a key forgotten is a request
// that can be replayed.
func (s Signed) ReplayKeys() []string {
	keys := []string{"signature:" + s.Signature, "sha256:" + s.Digest}
	if s.IdempotencyToken != "" {
		sum := sha256.Sum256([]byte(s.IdempotencyToken))
		keys = append(keys, "token:"+hex.EncodeToString(sum[:]))
	}
	return keys
}

// sidFields are the form parameters that carry a message SID.
var sidFields = []string{"MessageSid", "SmsSid", "SmsMessageSid"}

// messageSID is the form of Twilio's message SIDs: SM (or MM for an MMS)
// and 32 lowercase hex digits.
var messageSID = regexp.MustCompile(`^(SM|MM)[0-9a-f]{32}$`)

// Verify checks r's X-Twilio-Signature and returns what it signed. fullURL
// is the URL Twilio called, exactly as configured there, query included
// (behind a proxy r.URL does not know the public scheme and host). The
// signature covers fullURL and, for a POST, the form parameters; Verify
// parses the form, so handlers read it from r.PostForm afterwards. It
// returns ErrNoSignature or ErrBadSignature, and refuses (also as
// errs.KindUnauthenticated, with Field set) what Twilio does not send in a
// request it signs: a form parameter given twice, of which only the first
// value would be signed, and a MessageSid, SmsSid or SmsMessageSid that is
// not a message SID, the mark of parameters cut anew.
func (v Validator) Verify(r *http.Request, fullURL string) (Signed, error) {
	const op = "twilio.Verify"
	sig := r.Header.Get(SignatureHeader)
	if sig == "" {
		return Signed{}, ErrNoSignature
	}
	if err := r.ParseForm(); err != nil {
		return Signed{}, errs.Wrap(errs.KindInvalid, op, "unreadable form", err)
	}
	params := make(map[string]string, len(r.PostForm))
	for k, vs := range r.PostForm {
		params[k] = vs[0]
	}
	if !v.rv.Validate(fullURL, params, sig) {
		return Signed{}, ErrBadSignature
	}
	keys := make([]string, 0, len(params))
	for k, vs := range r.PostForm {
		if len(vs) > 1 {
			return Signed{}, &errs.Error{Kind: errs.KindUnauthenticated, Op: op, Field: k,
				Msg: k + " is given more than once, but only its first value is signed"}
		}
		keys = append(keys, k)
	}
	for _, k := range sidFields {
		if vs, ok := r.PostForm[k]; ok && !messageSID.MatchString(vs[0]) {
			return Signed{}, &errs.Error{Kind: errs.KindUnauthenticated, Op: op, Field: k,
				Msg: k + " is not a Twilio message SID (SM or MM and 32 lowercase hex digits)"}
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	io.WriteString(h, fullURL)
	for _, k := range keys {
		io.WriteString(h, k)
		io.WriteString(h, params[k])
	}
	return Signed{Signature: sig, Digest: hex.EncodeToString(h.Sum(nil)), IdempotencyToken: r.Header.Get(IdempotencyHeader)}, nil
}

// Inbound is an SMS a patient sent to a practice's number.
type Inbound struct {
	From, To   string
	Body       string
	MessageSID string
}

// ParseInbound reads the inbound message Twilio posted. Verify r first.
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
// left zero: Twilio does not say when, so the caller stamps it. Verify r
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
