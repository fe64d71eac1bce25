package refserver

import (
	"context"
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
	req := s.request(w, r)
	pid := req.existingPractice()
	return pid, signed, req.err
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

// linkPage is what a link page says (templates/link.html).
type linkPage struct {
	Title, Text string
	// Button, when set, is the label of the form that POSTs the link.
	Button string
}

// linkPages is the page of links, on the shared layout.
var linkPages = func() pages {
	p, err := parsePages(templateFS, "templates/link.html")
	if err != nil {
		panic("refserver: the embedded link page does not parse: " + err.Error())
	}
	return p
}()

// servePage answers a link page with 200.
func (s *Server) servePage(w http.ResponseWriter, p linkPage) error {
	return renderPage(w, http.StatusOK, linkPages, "link.html", p)
}

// showLink describes what following the link will do, and changes
// nothing; a link whose action would now be refused (the visit is past
// its cancellation cut-off, or no longer upcoming) says why, with no
// button.
func (s *Server) showLink(w http.ResponseWriter, r *http.Request) error {
	l, err := s.engine.Notify.CheckLink(r.Context(), r.PathValue("token"))
	if err != nil {
		return linkError(err)
	}
	when := visitWords(l.Facts)
	switch l.Action {
	case notify.LinkConfirm:
		return s.servePage(w, linkPage{Title: "Confirm your visit", Text: "Press the button to tell the practice you will come to " + when + ".", Button: "Confirm my visit"})
	case notify.LinkCancel:
		return s.servePage(w, linkPage{Title: "Cancel your visit", Text: "Press the button to cancel " + when + ". This cannot be undone.", Button: "Cancel my visit"})
	}
	return s.servePage(w, linkPage{Title: "Unsubscribe", Text: "Press the button to stop receiving offers from the practice. Messages about your visits still come.", Button: "Unsubscribe"})
}

// followLink does what the link says, once, and answers a page.
func (s *Server) followLink(w http.ResponseWriter, r *http.Request) error {
	out, err := s.engine.Notify.FollowLink(r.Context(), r.PathValue("token"))
	if err != nil {
		return linkError(err)
	}
	when := visitWords(out.Facts)
	switch out.Action {
	case notify.LinkConfirm:
		return s.servePage(w, linkPage{Title: "Thank you", Text: "We look forward to " + when + "."})
	case notify.LinkCancel:
		return s.servePage(w, linkPage{Title: "Your visit is canceled", Text: "We have canceled " + when + "."})
	}
	return s.servePage(w, linkPage{Title: "You are unsubscribed", Text: "You will no longer receive offers from the practice."})
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

// linkError words the failure of a link for its page; the renderer
// answers it (a page route's errors are pages). The kind gives the status,
// as everywhere: 403 forged, 409 used, 422 too late to cancel, 404 the
// visit is gone, and, a page's rule, 503 for a failure of ours. Two
// failures read differently on a link: an expired token is 410 Gone (no
// kind names it), and an action the visit's status refuses (KindInvalid
// from scheduling: the visit was canceled or seen) is a conflict with the
// visit, 409, not bad input of the patient's.
func linkError(err error) error {
	const op = "refserver.link"
	onToken := errs.FieldOf(err) == "token"
	contact := "Please contact the practice."
	switch k := errs.KindOf(err); {
	case k == errs.KindForbidden:
		return &PageError{Title: "This link is not valid", Text: "Please use the link in your message exactly as it is, or contact the practice.", Err: err}
	case k == errs.KindPreconditionFailed && onToken:
		return &PageError{Status: http.StatusGone, Title: "This link has expired", Text: contact, Err: err}
	case k == errs.KindConflict && onToken:
		return &PageError{Title: "This link was already used", Text: "It works only once. Please contact the practice if anything is unclear.", Err: err}
	case k == errs.KindPreconditionFailed:
		text := "Your visit is too soon to cancel online. Please call the practice."
		if e, ok := errs.As(err); ok {
			if d, ok := e.Details.(notify.CancelCutoffDetails); ok && d.CancelCutoff > 0 {
				text = "Online cancellation closes " + wordDuration(d.CancelCutoff) + " before the visit, and that time has passed. Please call the practice to cancel."
			}
		}
		return &PageError{Title: "Too late to cancel online", Text: text, Err: err}
	case k == errs.KindConflict, k == errs.KindInvalid:
		return &PageError{Title: "This visit can no longer be changed online", Text: contact,
			Err: &errs.Error{Kind: errs.KindConflict, Op: op, Msg: "the visit can no longer change", Err: err}}
	case k == errs.KindNotFound:
		return &PageError{Title: "We could not find this visit", Text: contact, Err: err}
	}
	return err
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
