package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/carebook/carebook"
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
func (s *server) rememberWebhook(ctx context.Context, op, source string, keys ...string) error {
	err := s.engine.Notify.RememberWebhook(ctx, source, keys...)
	if errs.Is(err, errs.KindConflict) {
		return webhookForbidden(op, "this request was already processed", err)
	}
	return err
}

// verifyTwilio checks r's X-Twilio-Signature over the URL Twilio called:
// the public URL and the request's path and query.
func (s *server) verifyTwilio(r *http.Request) (twilio.Signed, error) {
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
func (s *server) twilioPractice(w http.ResponseWriter, r *http.Request) (tenant.PracticeID, twilio.Signed, error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	signed, err := s.verifyTwilio(r)
	if err != nil {
		return tenant.PracticeID{}, twilio.Signed{}, err
	}
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	return pid, signed, req.Err
}

// twilioSource is the replay memory's source of every Twilio webhook.
const twilioSource = "twilio"

// twilioSMS answers an inbound SMS with TwiML: the reply of
// Notify.HandleSMS, which acts on it (a cancel, a STOP) in the transaction
// that also remembers the request and records the message in the activity
// log. A request with the signature, the signed text (however cut into
// parameters), the idempotency token or the MessageSid of one processed
// before is a replay: 403, nothing changed.
func (s *server) twilioSMS(w http.ResponseWriter, r *http.Request) error {
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
		e := carebook.Entry(ctx, pid, "twilio", "notify.sms_inbound."+answer.Action, "sms", in.MessageSID, audit.Allowed)
		e.Role = "webhook"
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
func (s *server) twilioStatus(w http.ResponseWriter, r *http.Request) error {
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
func (s *server) sendGridEvents(w http.ResponseWriter, r *http.Request) error {
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
