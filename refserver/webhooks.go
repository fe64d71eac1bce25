package refserver

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/sendgrid"
	"github.com/carebook/carebook/notify/twilio"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The routes the outside world calls without a session: the providers'
// webhooks, which prove themselves by a signature over the request, and
// the pages behind the signed links of emails, whose token is the
// credential. The route table marks them signed().

// sendGridSignatureHeader carries SendGrid's event webhook signature.
const sendGridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"

// webhookForbidden is the refusal of a webhook request that did not prove
// where it came from: 403, saying what failed (when msg is "", cause's
// message and field).
func webhookForbidden(op, msg string, cause error) error {
	f := &errs.Error{Kind: errs.KindForbidden, Op: op, Msg: msg, Err: cause}
	if e, ok := errs.As(cause); ok && msg == "" {
		f.Msg, f.Field = e.Msg, e.Field
	}
	return f
}

// rememberWebhook records the keys of a verified webhook request from
// source in the transaction ctx carries, which also acts on it: a key seen before is
// a replay, refused with 403 and (the transaction rolled back) changing
// nothing.
func (s *Server) rememberWebhook(ctx context.Context, op, source string, keys ...string) error {
	err := s.engine.Notify.RememberWebhook(ctx, source, keys...)
	if errs.Is(err, errs.KindConflict) {
		return webhookForbidden(op, "this request was already processed", err)
	}
	return err
}

// verifyTwilio checks r's X-Twilio-Signature over the URL Twilio called:
// the public URL and the request's path and query.
func (s *Server) verifyTwilio(r *http.Request) (twilio.Signed, error) {
	const op = "refserver.verifyTwilio"
	if s.twilio == nil || s.opts.PublicURL == "" {
		return twilio.Signed{}, webhookForbidden(op, "this server takes no Twilio webhooks: it has no auth token or public URL", nil)
	}
	signed, err := s.twilio.Verify(r, strings.TrimRight(s.opts.PublicURL, "/")+r.URL.RequestURI())
	if errs.Is(err, errs.KindUnauthenticated) {
		return twilio.Signed{}, webhookForbidden(op, "", err)
	}
	return signed, err
}

// twilioPractice verifies a Twilio webhook (its form bounded by
// Options.MaxBodyBytes) and reads its {practice}, which must exist.
func (s *Server) twilioPractice(w http.ResponseWriter, r *http.Request) (tenant.PracticeID, twilio.Signed, error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	signed, err := s.verifyTwilio(r)
	if err != nil {
		return tenant.PracticeID{}, twilio.Signed{}, err
	}
	pid, err := s.existingPractice(r)
	return pid, signed, err
}

// twilioSource is the replay memory's source of every Twilio webhook.
const twilioSource = "twilio"

// twilioSMS answers an inbound SMS with TwiML: the reply of
// Notify.HandleSMS, which acts on it (a cancel, a STOP) in the transaction
// that also remembers the request and records the message in the activity
// log. A request with the signature, the signed text (however cut into
// parameters), the idempotency token or the MessageSid of one processed
// before is a replay: 403, nothing changed.
func (s *Server) twilioSMS(w http.ResponseWriter, r *http.Request) error {
	const op = "refserver.twilioSMS"
	pid, signed, err := s.twilioPractice(w, r)
	if err != nil {
		return err
	}
	in, err := twilio.ParseInbound(r)
	if err != nil {
		return err
	}
	var answer notify.Reply
	err = s.engine.InTx(r.Context(), func(ctx context.Context) error {
		if err := s.rememberWebhook(ctx, op, twilioSource, signed.ReplayKeys()...); err != nil {
			return err
		}
		var err error
		answer, err = s.engine.Notify.HandleSMS(ctx, notify.Inbound{PracticeID: pid, From: in.From, Body: in.Body, ProviderID: in.MessageSID})
		if errs.Is(err, errs.KindConflict) {
			return webhookForbidden(op, "this message was already processed", err)
		}
		if err != nil {
			return err
		}
		// The patient the number matched acts (a cancel, a STOP); an
		// unknown number is recorded as the webhook.
		e := audit.Entry{PracticeID: pid, Actor: "twilio", Role: "webhook", Action: "notify.sms_inbound." + answer.Action,
			ResourceType: "sms", ResourceID: clipString(in.MessageSID, 100), Outcome: audit.Allowed,
			IP: clientIP(r), UserAgent: clipString(r.UserAgent(), 500), RequestID: requestIDFrom(ctx)}
		if answer.PatientID != nil {
			e.Actor, e.Role, e.PatientID = "patient:"+answer.PatientID.String(), "patient", answer.PatientID
		}
		_, err = s.engine.Audit.Record(ctx, e)
		return err
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", twilio.TwiMLContentType)
	w.WriteHeader(http.StatusOK)
	w.Write(twilio.TwiML(answer.Text))
	return nil
}

// twilioStatus applies a message status callback, remembered as
// twilioSMS remembers an SMS (a replay: 403, nothing changed) in the same
// transaction. A callback about a message of another practice, or of none,
// changes nothing.
func (s *Server) twilioStatus(w http.ResponseWriter, r *http.Request) error {
	const op = "refserver.twilioStatus"
	pid, signed, err := s.twilioPractice(w, r)
	if err != nil {
		return err
	}
	d, err := twilio.ParseStatusCallback(r)
	if err != nil {
		return err
	}
	d.At = s.engine.Clock.Now().UTC()
	err = s.engine.InTx(r.Context(), func(ctx context.Context) error {
		if err := s.rememberWebhook(ctx, op, twilioSource, signed.ReplayKeys()...); err != nil {
			return err
		}
		_, err := s.engine.Notify.ApplyDelivery(ctx, pid, d)
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sendGridEvents applies SendGrid's signed event webhook: the signature is
// verified, what it signs remembered (the same timestamp and payload again,
// under any form of the signature, is a replay: 403) and the events
// applied, in one transaction.
func (s *Server) sendGridEvents(w http.ResponseWriter, r *http.Request) error {
	const op = "refserver.sendGridEvents"
	if s.opts.SendGridEvents == nil {
		return webhookForbidden(op, "this server takes no SendGrid events: it has no event webhook key", nil)
	}
	batch, err := s.opts.SendGridEvents.VerifyBatch(r)
	if errs.Is(err, errs.KindUnauthenticated) {
		return webhookForbidden(op, "", err)
	}
	if err != nil {
		return err
	}
	ds, err := sendgrid.ParseEvents(batch.Payload)
	if err != nil {
		return err
	}
	now := s.engine.Clock.Now().UTC()
	err = s.engine.InTx(r.Context(), func(ctx context.Context) error {
		if err := s.rememberWebhook(ctx, op, "sendgrid", batch.Key); err != nil {
			return err
		}
		for _, d := range ds {
			if d.At.IsZero() {
				d.At = now
			}
			if _, err := s.engine.Notify.ApplyDelivery(ctx, uuid.Nil, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// The pages of signed links. A GET only describes the action and offers a
// button (mail scanners fetch links); the POST of that button acts.

// linkPage is what a link page says.
type linkPage struct {
	Title, Text string
	// Button, when set, is the label of the form that POSTs the link.
	Button string
}

var linkTemplate = template.Must(template.New("link").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title></head>
<body><main><h1>{{.Title}}</h1><p>{{.Text}}</p>{{if .Button}}
<form method="post"><button type="submit">{{.Button}}</button></form>{{end}}</main></body></html>
`))

// servePage answers a link page with status.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, status int, p linkPage) error {
	var b bytes.Buffer
	if err := linkTemplate.Execute(&b, p); err != nil {
		return errs.Wrap(errs.KindInternal, "refserver.servePage", "cannot render a page", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
	return nil
}

// invalidLink is the page of a link that is not one of ours.
var invalidLink = linkPage{Title: "This link is not valid", Text: "Please use the link in your message exactly as it is, or contact the practice."}

// showLink describes what following the link will do, and changes
// nothing; a link whose action would now be refused (the visit is past
// its cancellation cut-off, or no longer upcoming) says why, with no
// button.
func (s *Server) showLink(w http.ResponseWriter, r *http.Request) error {
	l, err := s.engine.Notify.CheckLink(r.Context(), r.PathValue("token"))
	if err != nil {
		status, p := linkFailure(err)
		return s.servePage(w, r, status, p)
	}
	when := visitWords(l.Facts)
	switch l.Action {
	case notify.LinkConfirm:
		return s.servePage(w, r, http.StatusOK, linkPage{Title: "Confirm your visit", Text: "Press the button to tell the practice you will come to " + when + ".", Button: "Confirm my visit"})
	case notify.LinkCancel:
		return s.servePage(w, r, http.StatusOK, linkPage{Title: "Cancel your visit", Text: "Press the button to cancel " + when + ". This cannot be undone.", Button: "Cancel my visit"})
	}
	return s.servePage(w, r, http.StatusOK, linkPage{Title: "Unsubscribe", Text: "Press the button to stop receiving offers from the practice. Messages about your visits still come.", Button: "Unsubscribe"})
}

// followLink does what the link says, once, and answers a page.
func (s *Server) followLink(w http.ResponseWriter, r *http.Request) error {
	out, err := s.engine.Notify.FollowLink(r.Context(), r.PathValue("token"))
	if err != nil {
		status, p := linkFailure(err)
		if status >= 500 {
			s.log.ErrorContext(r.Context(), "a signed link failed", "request_id", requestIDFrom(r.Context()), "error", err)
		}
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "60")
		}
		return s.servePage(w, r, status, p)
	}
	when := visitWords(out.Facts)
	switch out.Action {
	case notify.LinkConfirm:
		return s.servePage(w, r, http.StatusOK, linkPage{Title: "Thank you", Text: "We look forward to " + when + "."})
	case notify.LinkCancel:
		return s.servePage(w, r, http.StatusOK, linkPage{Title: "Your visit is canceled", Text: "We have canceled " + when + "."})
	}
	return s.servePage(w, r, http.StatusOK, linkPage{Title: "You are unsubscribed", Text: "You will no longer receive offers from the practice."})
}

// visitWords names the visit of f for its patient: "your visit on Monday
// 2 March 2026 at 10:00 at Main Street", in the location's time zone, or
// "your visit" when f is nil.
func visitWords(f *notify.Facts) string {
	if f == nil {
		return "your visit"
	}
	loc, err := time.LoadLocation(f.LocationZone)
	if err != nil {
		loc = time.UTC
	}
	when := "your visit on " + f.Start.In(loc).Format("Monday 2 January 2006 at 15:04")
	if f.LocationName != "" {
		when += " at " + f.LocationName
	}
	return when
}

// linkFailure is the status and page of a link that could not be followed:
// 403 forged, 410 expired, 409 used (or the visit can no longer change),
// 422 too late to cancel, 404 the visit is gone, and 503 for a failure of
// ours, never a 500.
func linkFailure(err error) (int, linkPage) {
	onToken := errs.FieldOf(err) == "token"
	switch k := errs.KindOf(err); {
	case k == errs.KindForbidden:
		return http.StatusForbidden, invalidLink
	case k == errs.KindPreconditionFailed && onToken:
		return http.StatusGone, linkPage{Title: "This link has expired", Text: "Please contact the practice."}
	case k == errs.KindConflict && onToken:
		return http.StatusConflict, linkPage{Title: "This link was already used", Text: "It works only once. Please contact the practice if anything is unclear."}
	case k == errs.KindPreconditionFailed:
		text := "Your visit is too soon to cancel online. Please call the practice."
		if e, ok := errs.As(err); ok {
			if d, ok := e.Details.(notify.CancelCutoffDetails); ok && d.CancelCutoff > 0 {
				text = "Online cancellation closes " + wordDuration(d.CancelCutoff) + " before the visit, and that time has passed. Please call the practice to cancel."
			}
		}
		return http.StatusUnprocessableEntity, linkPage{Title: "Too late to cancel online", Text: text}
	case k == errs.KindConflict, k == errs.KindInvalid:
		return http.StatusConflict, linkPage{Title: "This visit can no longer be changed online", Text: "Please contact the practice."}
	case k == errs.KindNotFound:
		return http.StatusNotFound, linkPage{Title: "We could not find this visit", Text: "Please contact the practice."}
	}
	return http.StatusServiceUnavailable, linkPage{Title: "Something went wrong", Text: "Please try again in a minute."}
}

// wordDuration words a cut-off for patients: "24 hours", "90 minutes",
// "2 days".
func wordDuration(d time.Duration) string {
	n, unit := int64(d/time.Minute), "minute"
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		n, unit = int64(d/(24*time.Hour)), "day"
	case d%time.Hour == 0:
		n, unit = int64(d/time.Hour), "hour"
	}
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}
