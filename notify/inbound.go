package notify

import (
	"context"
	"strings"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/contact"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Inbound is an SMS a patient sent to a practice's number.
type Inbound struct {
	PracticeID tenant.PracticeID
	From       string // the patient's phone, in any format
	Body       string
	// ProviderID is the provider's ID of the inbound message (Twilio's
	// MessageSid): the reply's idempotency key.
	ProviderID string
}

// SMS keywords, matched on the first word, case-insensitively.
var (
	cancelWords  = []string{"C", "CANCEL"}
	confirmWords = []string{"Y", "YES", "CONFIRM"}
	stopWords    = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT"}
	startWords   = []string{"START", "UNSTOP"}
	helpWords    = []string{"HELP", "INFO"}
)

// replies are the answers to inbound SMS, in English (the sender's language
// is unknown until the number is matched; a practice words its own
// templates for everything else).
const (
	replyHelp      = "Reply C to cancel your next visit, Y to confirm it, STOP to stop messages, START to resume. For anything else please call the practice."
	replyUnknown   = "We could not match this number to a patient. Please call the practice."
	replyNoVisit   = "You have no upcoming visit with us. Please call the practice or book online."
	replyStopped   = "You will no longer get text messages from us. Reply START to resume."
	replyStarted   = "You will get text messages from us again. Reply STOP to stop."
	replyConfirmed = "Thank you, we look forward to seeing you on %s."
	replyPending   = "Your request for %s is waiting for the practice to confirm it."
	replyCanceled  = "Your visit on %s is canceled."
	replyTooLate   = "Your visit on %s is too soon to cancel by text. Please call the practice."
)

// Reply is HandleSMS's answer: the text to send back, and what it did.
type Reply struct {
	Text string
	// PatientID is the patient the number matched (the first, when a family
	// shares it); nil for an unknown number.
	PatientID *uuid.UUID
	// Action is what the message did: cancel, confirm, stop, start, or
	// none (help, unknown text or number, a visit too close to cancel).
	Action string
}

// HandleSMS answers an inbound SMS, in one transaction: C or CANCEL cancels
// the patient's next visit (within the practice's cut-off), Y or CONFIRM
// acknowledges it, STOP ends every later SMS at once (pending ones are
// dropped), START resumes them, HELP explains. Anything else, or a number
// the practice does not know, gets the help answer and changes nothing. It
// returns the reply, which is also recorded in the outbox as sent (for
// metering). The inbound message's ProviderID is remembered in the same
// transaction: the same message again fails with KindConflict and changes
// nothing.
func (s *Service) HandleSMS(ctx context.Context, in Inbound) (Reply, error) {
	const op = "notify.HandleSMS"
	phone, err := contact.NormalizePhone(op, "From", in.From)
	if err != nil {
		return Reply{Text: replyUnknown, Action: "none"}, nil
	}
	word := strings.ToUpper(strings.TrimSpace(in.Body))
	if i := strings.IndexAny(word, " \t\r\n.!,"); i >= 0 {
		word = word[:i]
	}
	reply := Reply{Action: "none"}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if in.ProviderID != "" {
			// A provider's retry or a replay of the same message: refused whole.
			if err := s.store.RememberWebhook(ctx, "sms", in.ProviderID, s.now()); err != nil {
				return err
			}
		}
		patients, err := s.store.PatientsByPhone(ctx, in.PracticeID, phone)
		if err != nil {
			return err
		}
		if len(patients) == 0 {
			reply.Text = replyUnknown
			return s.recordReply(ctx, in, phone, nil, reply.Text)
		}
		reply.PatientID = &patients[0]
		if reply.Text, reply.Action, err = s.answer(ctx, op, in.PracticeID, patients, word); err != nil {
			return err
		}
		return s.recordReply(ctx, in, phone, &patients[0], reply.Text)
	})
	if err != nil {
		return Reply{}, err
	}
	return reply, nil
}

// answer acts on a keyword from patients (who share one phone).
func (s *Service) answer(ctx context.Context, op string, practice tenant.PracticeID, patients []uuid.UUID, word string) (text, action string, err error) {
	now := s.now()
	switch {
	case oneOf(word, stopWords), oneOf(word, startWords):
		stop := oneOf(word, stopWords)
		for _, p := range patients {
			if err := s.setOptOut(ctx, practice, p, stop, "sms:"+word); err != nil {
				return "", "", err
			}
		}
		if stop {
			return replyStopped, "stop", nil
		}
		return replyStarted, "start", nil
	case oneOf(word, cancelWords), oneOf(word, confirmWords):
		f, err := s.store.NextAppointment(ctx, practice, patients, now)
		if errs.Is(err, errs.KindNotFound) {
			return replyNoVisit, "none", nil
		}
		if err != nil {
			return "", "", err
		}
		when, _, _ := wordWhen(f.Start.In(zone(f.LocationZone)), "en")
		if oneOf(word, confirmWords) {
			if f.Status == "new" {
				return sprintf(replyPending, when), "none", nil
			}
			return sprintf(replyConfirmed, when), "confirm", nil
		}
		err = s.cancelAsPatient(ctx, f, "canceled by text message reply")
		if errs.Is(err, errs.KindPreconditionFailed) {
			return sprintf(replyTooLate, when), "none", nil
		}
		if err != nil {
			return "", "", err
		}
		return sprintf(replyCanceled, when), "cancel", nil
	case oneOf(word, helpWords):
		return replyHelp, "none", nil
	}
	// Anything else changes nothing and gets the same help.
	return replyHelp, "none", nil
}

// cancelAsPatient cancels f's appointment as its patient.
func (s *Service) cancelAsPatient(ctx context.Context, f *Facts, reason string) error {
	if s.appts == nil {
		return errs.E(errs.KindInternal, "notify.cancel", "no Appointments to cancel through")
	}
	ctx = actor.With(ctx, actor.Actor{Kind: actor.Patient, ID: f.PatientID.String()})
	return s.appts.CancelAppointment(ctx, f.PracticeID, f.AppointmentID, reason)
}

// setOptOut sets a patient's SMS opt-out, records the consent change, and on
// opting out drops every SMS still waiting for them.
func (s *Service) setOptOut(ctx context.Context, practice tenant.PracticeID, patient uuid.UUID, out bool, source string) error {
	if err := s.setFlag(ctx, practice, patient, "sms_opt_out", out, source); err != nil || !out {
		return err
	}
	_, err := s.store.Drop(ctx, practice, DropFilter{PatientID: &patient, Channel: SMS}, "the patient opted out of SMS", s.now())
	return err
}

// recordReply writes the reply to the outbox as a sent SMS.
func (s *Service) recordReply(ctx context.Context, in Inbound, phone string, patient *uuid.UUID, reply string) error {
	now := s.now()
	key := "reply:" + in.ProviderID
	if in.ProviderID == "" {
		key = "reply:" + s.ids.New().String()
	}
	m := &Message{ID: s.ids.New(), PracticeID: in.PracticeID, Key: key, Kind: KindReply, Channel: SMS, PatientID: patient,
		To: phone, Text: reply, Language: "en", Status: StatusSent, DueAt: now, SentAt: &now, CreatedAt: now, UpdatedAt: now}
	_, err := s.store.Enqueue(ctx, m)
	return err
}

func oneOf(w string, words []string) bool {
	for _, x := range words {
		if w == x {
			return true
		}
	}
	return false
}

func boolWord(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
