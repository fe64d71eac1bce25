package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Page sizes of listings.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// LinkOutcome says what following a link did.
type LinkOutcome struct {
	Action LinkAction
	// Facts describe the appointment (confirm, cancel); nil for unsubscribe.
	Facts *Facts
}

// CheckLink verifies a signed link's signature and expiry without using
// it, and reads the visit of a confirm or cancel link, to describe it
// before the patient acts; it changes nothing. Its errors are those of
// FollowLink (except that a used link is not detected), and those the
// action would meet now: a visit that is no longer new or confirmed is
// KindConflict naming "status", and a cancel inside the practice's
// cancellation cut-off is KindPreconditionFailed naming "start", with the
// cut-off as Details.
func (s *Service) CheckLink(ctx context.Context, token string) (*LinkOutcome, error) {
	const op = "notify.CheckLink"
	if s.links == nil {
		return nil, forbidden(op, "token", "this server does not sign links")
	}
	now := s.clock.Now()
	l, err := s.links.Verify(token, now)
	if err != nil {
		return nil, err
	}
	out := &LinkOutcome{Action: l.Action}
	if l.Action != LinkConfirm && l.Action != LinkCancel {
		return out, nil
	}
	if out.Facts, err = s.store.AppointmentFacts(ctx, l.Practice, l.Subject); err != nil {
		return nil, err
	}
	return out, linkRefusal(op, l.Action, out.Facts, now)
}

// linkRefusal is why a confirm or cancel link cannot act on the visit of f
// at now, or nil.
func linkRefusal(op string, a LinkAction, f *Facts, now time.Time) error {
	switch {
	case f.Status != "new" && f.Status != "confirmed":
		e := errs.Conflict(op, "the visit is "+f.Status+": it can no longer be changed online")
		e.Field = "status"
		return e
	case a == LinkCancel && cancelClosed(f, now):
		e := errs.E(errs.KindPreconditionFailed, op, "the visit starts within the practice's cancellation cut-off")
		e.Field, e.Details = "start", CancelCutoffDetails{CancelCutoff: f.CancelCutoff}
		return e
	}
	return nil
}

// CancelCutoffDetails are the Details of CheckLink's error for a cancel
// inside the practice's cancellation cut-off.
type CancelCutoffDetails struct {
	// CancelCutoff is how long before the visit online cancellation closes.
	CancelCutoff time.Duration
}

// FollowLink verifies a signed link and does what it says, once, in one
// transaction: confirm acknowledges the visit, cancel cancels it as the
// patient (within the cut-off), unsubscribe ends marketing consent. A
// forged link fails with KindForbidden, an expired one with
// KindPreconditionFailed, a used one with KindConflict, all naming "token",
// and change nothing.
func (s *Service) FollowLink(ctx context.Context, token string) (*LinkOutcome, error) {
	const op = "notify.FollowLink"
	if s.links == nil {
		return nil, forbidden(op, "token", "this server does not sign links")
	}
	l, err := s.links.Verify(token, s.clock.Now())
	if err != nil {
		return nil, err
	}
	out := &LinkOutcome{Action: l.Action}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.UseLink(ctx, l.Practice, l.Nonce, s.now()); err != nil {
			if errs.Is(err, errs.KindConflict) {
				e := errs.Conflict(op, "this link was already used")
				e.Field = "token"
				return e
			}
			return err
		}
		switch l.Action {
		case LinkUnsubscribe:
			return s.setFlag(ctx, l.Practice, l.Subject, "marketing", false, "email:unsubscribe")
		case LinkConfirm, LinkCancel:
			f, err := s.store.AppointmentFacts(ctx, l.Practice, l.Subject)
			if err != nil {
				return err
			}
			out.Facts = f
			if err := linkRefusal(op, l.Action, f, s.now()); err != nil {
				return err
			}
			if l.Action == LinkCancel {
				return s.cancelAsPatient(ctx, f, "canceled from an email link")
			}
			return nil
		}
		return forbidden(op, "token", "this link is not valid")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// flagOf points at the yes/no preference named field (sms, email,
// sms_opt_out, marketing).
func flagOf(p *Preferences, field string) *bool {
	switch field {
	case "sms":
		return &p.SMS
	case "email":
		return &p.Email
	case "sms_opt_out":
		return &p.SMSOptOut
	}
	return &p.Marketing
}

// consentChange records that p's field became value, through source.
func (s *Service) consentChange(p Preferences, field, value, source string, at time.Time) ConsentChange {
	return ConsentChange{ID: s.ids.New(), PracticeID: p.PracticeID, PatientID: p.PatientID, Field: field, Value: value, Source: source, At: at}
}

// setFlag sets one yes/no preference of a patient and records the change;
// an unchanged value writes nothing.
func (s *Service) setFlag(ctx context.Context, practice tenant.PracticeID, patient uuid.UUID, field string, v bool, source string) error {
	p, err := s.store.Preferences(ctx, practice, patient)
	if err != nil {
		return err
	}
	f := flagOf(&p, field)
	if *f == v {
		return nil
	}
	now := s.now()
	*f, p.UpdatedAt = v, now
	return s.store.PutPreferences(ctx, p, []ConsentChange{s.consentChange(p, field, boolWord(v), source, now)})
}

// PreferencesUpdate changes preferences; nil fields stay as they are.
type PreferencesUpdate struct {
	SMS       *bool   `json:"sms,omitempty"`
	Email     *bool   `json:"email,omitempty"`
	SMSOptOut *bool   `json:"sms_opt_out,omitempty"`
	Language  *string `json:"language,omitempty"`
	Marketing *bool   `json:"marketing,omitempty"`
}

// Preferences returns a patient's preferences.
func (s *Service) Preferences(ctx context.Context, practice tenant.PracticeID, patient uuid.UUID) (Preferences, error) {
	return s.store.Preferences(ctx, practice, patient)
}

// ConsentHistory returns a patient's consent changes, oldest first;
// KindNotFound if the patient is not the practice's (an unknown patient
// has no history rather than an empty one).
func (s *Service) ConsentHistory(ctx context.Context, practice tenant.PracticeID, patient uuid.UUID) ([]*ConsentChange, error) {
	// Preferences answers KindNotFound for a patient the practice does not
	// have; patients are never deleted, so the two reads agree.
	if _, err := s.store.Preferences(ctx, practice, patient); err != nil {
		return nil, err
	}
	return s.store.ConsentHistory(ctx, practice, patient)
}

// UpdatePreferences applies u and records each changed field in the consent
// history with source "api:" and the acting actor. Opting out of SMS drops
// the SMS still waiting.
func (s *Service) UpdatePreferences(ctx context.Context, practice tenant.PracticeID, patient uuid.UUID, u PreferencesUpdate) (Preferences, error) {
	const op = "notify.UpdatePreferences"
	who, ok := actor.From(ctx)
	if !ok || !who.Valid() {
		return Preferences{}, errs.E(errs.KindUnauthenticated, op, "no actor for this request")
	}
	if u.Language != nil && len(*u.Language) > 35 {
		return Preferences{}, errs.Invalid(op, "language", "is not a BCP 47 language tag")
	}
	var out Preferences
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		p, err := s.store.Preferences(ctx, practice, patient)
		if err != nil {
			return err
		}
		now, source := s.now(), "api:"+who.String()
		var changes []ConsentChange
		for _, x := range []struct {
			field string
			v     *bool
		}{{"sms", u.SMS}, {"email", u.Email}, {"sms_opt_out", u.SMSOptOut}, {"marketing", u.Marketing}} {
			if f, v := flagOf(&p, x.field), x.v; v != nil && *f != *v {
				*f = *v
				changes = append(changes, s.consentChange(p, x.field, boolWord(*v), source, now))
			}
		}
		if u.Language != nil && p.Language != *u.Language {
			p.Language = *u.Language
			changes = append(changes, s.consentChange(p, "language", p.Language, source, now))
		}
		out = p
		if len(changes) == 0 {
			return nil
		}
		p.UpdatedAt = now
		out = p
		if err := s.store.PutPreferences(ctx, p, changes); err != nil {
			return err
		}
		if p.SMSOptOut || !p.SMS {
			_, err = s.store.Drop(ctx, practice, DropFilter{PatientID: &patient, Channel: SMS}, "the patient turned SMS off", now)
		}
		if err == nil && !p.Email {
			_, err = s.store.Drop(ctx, practice, DropFilter{PatientID: &patient, Channel: Email}, "the patient turned email off", now)
		}
		return err
	})
	return out, err
}

// Settings returns the practice's notification settings.
func (s *Service) Settings(ctx context.Context, practice tenant.PracticeID) (Settings, error) {
	return s.store.Settings(ctx, practice)
}

// PutSettings validates and stores the practice's settings.
func (s *Service) PutSettings(ctx context.Context, set Settings) (Settings, error) {
	const op = "notify.PutSettings"
	if len(set.ReminderOffsets) > 5 {
		return set, errs.Invalid(op, "reminder_offsets", "at most 5 reminders")
	}
	for _, o := range set.ReminderOffsets {
		if o < 15*time.Minute || o > 30*24*time.Hour {
			return set, errs.Invalid(op, "reminder_offsets", "each offset is between 15 minutes and 30 days")
		}
	}
	set.ReminderOffsets = slices.Clone(set.ReminderOffsets)
	slices.SortFunc(set.ReminderOffsets, func(a, b time.Duration) int { return int((b - a) / time.Second) })
	set.ReminderOffsets = slices.Compact(set.ReminderOffsets)
	if set.QuietStart < 0 || set.QuietStart >= 24*60 {
		return set, errs.Invalid(op, "quiet_start", "is minutes after midnight, 0 to 1439")
	}
	if set.QuietEnd < 0 || set.QuietEnd >= 24*60 {
		return set, errs.Invalid(op, "quiet_end", "is minutes after midnight, 0 to 1439")
	}
	if set.SMSFrom != "" && !strings.HasPrefix(set.SMSFrom, "+") {
		return set, errs.Invalid(op, "sms_from", "is an E.164 number such as +12025550143")
	}
	if set.EmailFrom != "" && !strings.Contains(set.EmailFrom, "@") {
		return set, errs.Invalid(op, "email_from", "is an email address")
	}
	set.UpdatedAt = s.now()
	return set, s.store.PutSettings(ctx, set)
}

// PutTemplate validates t (it must parse and refer only to TemplateData's
// fields: refused with KindInvalid naming the part otherwise) and stores it.
func (s *Service) PutTemplate(ctx context.Context, t Template) (*Template, error) {
	const op = "notify.PutTemplate"
	if t.Kind == KindReply || t.Kind == KindBreakGlass {
		return nil, errs.Invalid(op, "kind", "replies to text messages and break-glass notices have fixed wording")
	}
	if t.Channel == InApp && t.Kind != KindRequested {
		return nil, errs.Invalid(op, "channel", "only requests go to the in-app inbox")
	}
	if t.Language = strings.TrimSpace(t.Language); t.Language == "" || len(t.Language) > 35 {
		return nil, errs.Invalid(op, "language", "is a BCP 47 language tag such as en or es-MX")
	}
	if _, err := compile(op, &t); err != nil {
		return nil, err
	}
	if who, ok := actor.From(ctx); ok {
		t.UpdatedBy = who.String()
	}
	t.UpdatedAt = s.now()
	return &t, s.store.PutTemplate(ctx, &t)
}

// DeleteTemplate removes a practice's template; the default takes over.
func (s *Service) DeleteTemplate(ctx context.Context, practice tenant.PracticeID, kind Kind, ch Channel, language string) error {
	return s.store.DeleteTemplate(ctx, practice, kind, ch, language)
}

// Templates lists the practice's own templates.
func (s *Service) Templates(ctx context.Context, practice tenant.PracticeID) ([]*Template, error) {
	return s.store.Templates(ctx, practice)
}

// Template returns the template messages of kind on ch in language use:
// the practice's own in the language, in its base language, or the
// default (KindNotFound when there is none, as for replies in-app).
func (s *Service) Template(ctx context.Context, practice tenant.PracticeID, kind Kind, ch Channel, language string) (*Template, error) {
	return s.template(ctx, practice, kind, ch, language)
}

// Preview renders a template (t's own text if given, else the one in use
// for t's kind, channel and language) on sample data, or on an appointment's
// facts when appointment is set. Nothing is stored or sent.
func (s *Service) Preview(ctx context.Context, practice tenant.PracticeID, t Template, appointment *uuid.UUID) (*Message, error) {
	const op = "notify.Preview"
	if t.Text == "" {
		cur, err := s.template(ctx, practice, t.Kind, t.Channel, t.Language)
		if err != nil {
			return nil, err
		}
		t = *cur
	}
	c, err := compile(op, &t)
	if err != nil {
		return nil, err
	}
	d := sampleData()
	if appointment != nil {
		f, err := s.store.AppointmentFacts(ctx, practice, *appointment)
		if err != nil {
			return nil, errs.WithField(err, "appointment_id")
		}
		// The links and campaign text keep their sample values; the cancel
		// link shows only while the patient could still use it.
		fd := factsData(f, t.Language)
		fd.ConfirmURL, fd.UnsubscribeURL, fd.Text = d.ConfirmURL, d.UnsubscribeURL, d.Text
		if fd.CanCancel = !cancelClosed(f, s.now()); fd.CanCancel {
			fd.CancelURL = d.CancelURL
		}
		d = fd
	}
	r, rerr := c.render(d)
	if rerr != nil {
		return nil, errs.Invalid(op, rerr.field, rerr.Error())
	}
	return &Message{PracticeID: practice, Kind: t.Kind, Channel: t.Channel, Language: t.Language, Subject: r.subject, Text: r.text, HTML: r.html}, nil
}

// Messages lists the practice's messages matching f (the outbox, or with
// Status dead the dead letters).
func (s *Service) Messages(ctx context.Context, practice tenant.PracticeID, f MessageFilter) ([]*Message, error) {
	const op = "notify.Messages"
	if f.Limit < 0 || f.Limit > MaxLimit {
		return nil, errs.Invalid(op, "limit", fmt.Sprintf("limit must be between 0 and %d", MaxLimit))
	}
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	if f.Channel != "" && !f.Channel.Valid() {
		return nil, errs.Invalid(op, "channel", "unknown channel")
	}
	if f.Kind != "" && !f.Kind.Valid() {
		return nil, errs.Invalid(op, "kind", "unknown kind")
	}
	return s.store.Messages(ctx, practice, f)
}

// Message returns one message of the practice.
func (s *Service) Message(ctx context.Context, practice tenant.PracticeID, id uuid.UUID) (*Message, error) {
	return s.store.Message(ctx, practice, id)
}

// Retry sends a dead letter again, now.
func (s *Service) Retry(ctx context.Context, practice tenant.PracticeID, id uuid.UUID) (*Message, error) {
	return s.store.Retry(ctx, practice, id, s.now())
}

// Inbox lists the practice's in-app messages, unread first when unreadOnly.
func (s *Service) Inbox(ctx context.Context, practice tenant.PracticeID, unreadOnly bool, after *uuid.UUID, limit int) ([]*Message, error) {
	f := MessageFilter{Channel: InApp, After: after, Limit: limit}
	if unreadOnly {
		f.Status = []Status{StatusUnread}
	}
	return s.Messages(ctx, practice, f)
}

// Alert writes a notice to the practice's in-app inbox, unread, with
// fixed wording: text, about patient (nil for none), under the idempotency
// key (a second Alert with the same key writes nothing). Only kinds sent
// to the staff with fixed wording are alerts (KindBreakGlass).
func (s *Service) Alert(ctx context.Context, practice tenant.PracticeID, kind Kind, key, text string, patient *uuid.UUID) error {
	const op = "notify.Alert"
	switch {
	case kind != KindBreakGlass:
		return errs.Invalid(op, "kind", "only break-glass notices are alerts")
	case key == "" || len(key) > 200:
		return errs.Invalid(op, "key", "is required, at most 200 bytes")
	case text == "":
		return errs.Invalid(op, "text", "is required")
	}
	now := s.now()
	m := &Message{ID: s.ids.New(), PracticeID: practice, Key: key, Kind: kind, Channel: InApp, PatientID: patient,
		Text: text, Language: "en", Status: StatusUnread, DueAt: now, CreatedAt: now, UpdatedAt: now}
	_, err := s.store.Enqueue(ctx, m)
	return err
}

// UnreadCount is the practice's badge: its unread in-app messages.
func (s *Service) UnreadCount(ctx context.Context, practice tenant.PracticeID) (int, error) {
	return s.store.UnreadCount(ctx, practice)
}

// MarkRead marks an in-app message read.
func (s *Service) MarkRead(ctx context.Context, practice tenant.PracticeID, id uuid.UUID) (*Message, error) {
	return s.store.MarkRead(ctx, practice, id, s.now())
}

// Usage counts the practice's sent messages per channel, from <= sent < to.
func (s *Service) Usage(ctx context.Context, practice tenant.PracticeID, from, to time.Time) ([]UsageCount, error) {
	if !from.Before(to) {
		return nil, errs.Invalid("notify.Usage", "to", "to must be after from")
	}
	return s.store.Usage(ctx, practice, from, to)
}
