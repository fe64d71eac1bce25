package notify

import (
	"context"
	"strconv"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

// AppointmentEvent is a change to an appointment that may cause messages.
type AppointmentEvent struct {
	PracticeID    uuid.UUID
	AppointmentID uuid.UUID
	// Action is the change: book, confirm, reschedule, move, cancel, arrive,
	// out or no-visit (scheduling's history actions).
	Action string
	// Status is the appointment's status after the change.
	Status string
	// ChangeID identifies the change (its history entry), for keys of
	// messages that each change sends anew.
	ChangeID uuid.UUID
}

// reminderKinds are the kinds withdrawn when a visit's time is no longer
// what they announced.
var reminderKinds = []Kind{KindReminder}

// OnAppointment writes the messages an appointment change causes, through
// the Service's store (bind it to the change's transaction with Bind):
// a new request goes to the front desk inbox; a confirmation, a reschedule,
// a cancellation and a no-visit go to the patient on the channels they take;
// a confirmed visit gets its reminders, which a reschedule or a move
// recomputes and a cancellation, an arrival or a no-visit withdraws.
func (s *Service) OnAppointment(ctx context.Context, ev AppointmentEvent) error {
	const op = "notify.OnAppointment"
	now := s.now()
	appt := ev.AppointmentID
	drop := func(kinds []Kind, why string) error {
		_, err := s.store.Drop(ctx, ev.PracticeID, DropFilter{AppointmentID: &appt, Kinds: kinds}, why, now)
		return err
	}
	switch ev.Action {
	case "arrive", "out":
		return drop(reminderKinds, "the patient arrived")
	case "cancel":
		if err := drop(nil, "the visit was canceled"); err != nil {
			return err
		}
		if _, err := s.store.ResolveRequests(ctx, ev.PracticeID, appt, now); err != nil {
			return err
		}
	case "no-visit":
		if err := drop(reminderKinds, "the patient did not come"); err != nil {
			return err
		}
	case "reschedule", "move":
		if err := drop(reminderKinds, "the visit moved"); err != nil {
			return err
		}
	case "confirm":
		if _, err := s.store.ResolveRequests(ctx, ev.PracticeID, appt, now); err != nil {
			return err
		}
	case "book":
	default:
		return errs.Invalid(op, "action", "unknown appointment action \""+ev.Action+"\"")
	}
	f, err := s.store.AppointmentFacts(ctx, ev.PracticeID, appt)
	if err != nil {
		return err
	}
	var msgs []*Message
	// One event reads the patient's preferences and each template once,
	// however many messages (reminders) it writes.
	memo := &renderMemo{templates: newTemplateMemo(), prefs: f.Preferences}
	add := func(kind Kind, key string, due time.Time) error {
		m, err := s.appointmentMessages(ctx, memo, f, kind, key, due)
		msgs = append(msgs, m...)
		return err
	}
	id := appt.String()
	switch {
	case ev.Action == "book" && ev.Status == "new":
		err = add(KindRequested, "requested:"+id, now)
	case ev.Action == "book" || ev.Action == "confirm":
		if err = add(KindConfirmed, "confirmed:"+id, now); err == nil {
			err = s.reminders(ctx, f, now, add)
		}
	case ev.Action == "reschedule" || ev.Action == "move":
		if err = add(KindRescheduled, "rescheduled:"+id+":"+ev.ChangeID.String(), now); err == nil && ev.Status == "confirmed" {
			err = s.reminders(ctx, f, now, add)
		}
	case ev.Action == "cancel":
		err = add(KindCanceled, "canceled:"+id, now)
	case ev.Action == "no-visit":
		err = add(KindNoVisit, "no_visit:"+id, now)
	}
	if err != nil || len(msgs) == 0 {
		return err
	}
	_, err = s.enqueue(ctx, ev.PracticeID, false, msgs...)
	return err
}

// PaymentEvent is money taken or given back for an appointment, told to
// the patient as a receipt.
type PaymentEvent struct {
	PracticeID    uuid.UUID
	AppointmentID uuid.UUID
	// Key identifies the receipt (the payment and its ledger entry): a
	// receipt is written once per key.
	Key    string
	Amount string // formatted with its currency
	Refund bool
}

// OnPayment writes the receipt of ev to the patient on the channels they
// take, through the store in ctx's transaction (the payment's).
func (s *Service) OnPayment(ctx context.Context, ev PaymentEvent) error {
	f, err := s.store.AppointmentFacts(ctx, ev.PracticeID, ev.AppointmentID)
	if err != nil {
		return err
	}
	memo := &renderMemo{templates: newTemplateMemo(), prefs: f.Preferences}
	msgs, err := s.appointmentMessages(ctx, memo, f, KindReceipt, "receipt:"+ev.Key, s.now(), func(d *TemplateData) {
		d.Amount, d.Refund = ev.Amount, ev.Refund
	})
	if err != nil || len(msgs) == 0 {
		return err
	}
	_, err = s.enqueue(ctx, ev.PracticeID, false, msgs...)
	return err
}

// reminders adds a confirmed visit's reminders at the practice's offsets.
func (s *Service) reminders(ctx context.Context, f *Facts, now time.Time, add func(Kind, string, time.Time) error) error {
	set := f.Settings
	if set == nil {
		read, err := s.store.Settings(ctx, f.PracticeID)
		if err != nil {
			return err
		}
		set = &read
	}
	loc := zone(f.LocationZone)
	for _, off := range set.ReminderOffsets {
		due, ok := ReminderTime(f.Start, off, loc, set.QuietStart, set.QuietEnd, now)
		if !ok {
			continue
		}
		key := "reminder:" + f.AppointmentID.String() + ":" + strconv.FormatInt(int64(off/time.Second), 10) +
			":" + strconv.FormatInt(f.Start.Unix(), 10)
		if err := add(KindReminder, key, due); err != nil {
			return err
		}
	}
	return nil
}

// zone loads an IANA zone, UTC when it is unknown (locations are validated
// when saved, so this does not happen in practice).
func zone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// appointmentMessages renders one message of kind about f per channel that
// reaches its recipient: the front desk inbox for requests, else the
// patient's channels. Keys are key plus ":" and the channel.
func (s *Service) appointmentMessages(ctx context.Context, memo *renderMemo, f *Facts, kind Kind, key string, due time.Time, extra ...func(*TemplateData)) ([]*Message, error) {
	var chans []Channel
	lang := f.Language
	if kind == KindRequested {
		chans = []Channel{InApp}
	} else {
		if memo.prefs == nil {
			p, err := s.store.Preferences(ctx, f.PracticeID, f.PatientID)
			if err != nil {
				return nil, err
			}
			memo.prefs = &p
		}
		chans = reachable(*memo.prefs, f.Phone, f.Email)
		if memo.prefs.Language != "" {
			lang = memo.prefs.Language
		}
	}
	d := factsData(f, lang)
	for _, x := range extra {
		x(&d)
	}
	upcoming := kind == KindConfirmed || kind == KindReminder || kind == KindRescheduled
	// Offer a cancel only where it will work: a message that goes out once
	// the cut-off has begun says to call instead.
	d.CanCancel = upcoming && !cancelClosed(f, due)
	var out []*Message
	for _, ch := range chans {
		dd := d
		if ch == Email && s.links != nil && upcoming {
			dd.ConfirmURL = s.links.URL(Link{Action: LinkConfirm, Practice: f.PracticeID, Subject: f.AppointmentID, Nonce: s.ids.New(), Expires: f.Start})
			if dd.CanCancel {
				dd.CancelURL = s.links.URL(Link{Action: LinkCancel, Practice: f.PracticeID, Subject: f.AppointmentID, Nonce: s.ids.New(), Expires: f.Start})
			}
		}
		m, err := s.render(ctx, memo.templates, f.PracticeID, kind, ch, lang, dd)
		if err != nil {
			return nil, err
		}
		pid, aid := f.PatientID, f.AppointmentID
		m.Key, m.DueAt, m.AppointmentID = key+":"+string(ch), due, &aid
		switch ch {
		case SMS:
			m.To, m.PatientID = f.Phone, &pid
		case Email:
			m.To, m.PatientID = f.Email, &pid
		case InApp:
			m.PatientID = &pid
		}
		out = append(out, m)
	}
	return out, nil
}

// cancelClosed reports whether the practice's cancellation cut-off of the
// visit of f has begun at t, so that a patient's cancel would be refused
// (the rule scheduling applies to a patient's cancel).
func cancelClosed(f *Facts, t time.Time) bool {
	return t.Add(f.CancelCutoff).After(f.Start)
}

// renderMemo keeps what the messages of one event share.
type renderMemo struct {
	prefs     *Preferences // the patient's, once read
	templates *templateMemo
}

// templateMemo keeps the templates one piece of work has looked up, by
// kind, channel and language, and the practice's own templates, read once
// (one query, not one per kind and channel).
type templateMemo struct {
	found  map[defaultKey]*Template
	custom map[defaultKey]*Template // nil until read
}

// newTemplateMemo returns an empty memo.
func newTemplateMemo() *templateMemo { return &templateMemo{found: map[defaultKey]*Template{}} }

// factsData is what templates may say about the appointment of f, its
// time worded for language in the location's zone.
func factsData(f *Facts, language string) TemplateData {
	start := f.Start.In(zone(f.LocationZone))
	when, date, clk := wordWhen(start, language)
	return TemplateData{Practice: f.PracticeName, Patient: PatientName{f.GivenName, f.FamilyName}, Provider: f.ProviderName,
		VisitType: f.VisitTypeName, Location: f.LocationName, Address: joinNonEmpty(", ", f.LocationStreet, f.LocationCity),
		When: when, Date: date, Time: clk, Start: start, Status: f.Status}
}

// render makes a message of kind on ch in language from d with the
// practice's template, looked up once per memo.
func (s *Service) render(ctx context.Context, memo *templateMemo, practice uuid.UUID, kind Kind, ch Channel, lang string, d TemplateData) (*Message, error) {
	const op = "notify.render"
	k := defaultKey{kind, ch, lang}
	t, ok := memo.found[k]
	if !ok {
		if memo.custom == nil {
			list, err := s.store.Templates(ctx, practice)
			if err != nil {
				return nil, err
			}
			memo.custom = make(map[defaultKey]*Template, len(list))
			for _, t := range list {
				memo.custom[defaultKey{t.Kind, t.Channel, t.Language}] = t
			}
		}
		var err error
		t, err = chooseTemplate(kind, ch, lang, func(l string) (*Template, error) {
			if t, ok := memo.custom[defaultKey{kind, ch, l}]; ok {
				return t, nil
			}
			return nil, errs.NotFound(op, "template")
		})
		if err != nil {
			return nil, err
		}
		memo.found[k] = t
	}
	c, err := s.compiledFor(op, t)
	if err != nil {
		return nil, err
	}
	if t.Language != lang && !d.Start.IsZero() {
		// The wording of the time follows the template's language: a
		// language without templates falls back to English words, and
		// takes English dates with them.
		d.When, d.Date, d.Time = wordWhen(d.Start, t.Language)
	}
	r, rerr := c.render(d)
	if rerr != nil {
		return nil, errs.E(errs.KindInternal, op, "rendering the "+string(kind)+" template: "+rerr.Error())
	}
	now := s.now()
	status := StatusPending
	if ch == InApp {
		status = StatusUnread
	}
	return &Message{ID: s.ids.New(), PracticeID: practice, Kind: kind, Channel: ch, Subject: r.subject, Text: r.text, HTML: r.html,
		Language: t.Language, Status: status, CreatedAt: now, UpdatedAt: now}, nil
}

// reachable lists the channels that reach a patient with p's preferences
// and these contact details.
func reachable(p Preferences, phone, email string) []Channel {
	var out []Channel
	if p.SMS && !p.SMSOptOut && phone != "" {
		out = append(out, SMS)
	}
	if p.Email && email != "" {
		out = append(out, Email)
	}
	return out
}

func joinNonEmpty(sep string, parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += sep
		}
		out += p
	}
	return out
}
