package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The notification routes: a practice's settings and templates, its
// outbox, dead letters and usage, campaigns, the front desk inbox, and a
// patient's message preferences. Durations are whole minutes, as
// everywhere in the API.

// settingsJSON is a notify.Settings with its reminder offsets in minutes.
type settingsJSON struct {
	PracticeID             tenant.PracticeID `json:"practice_id"`
	ReminderOffsetsMinutes []int64           `json:"reminder_offsets_minutes"`
	QuietStart             int               `json:"quiet_start"`
	QuietEnd               int               `json:"quiet_end"`
	SMSFrom                string            `json:"sms_from"`
	EmailFrom              string            `json:"email_from"`
	EmailFromName          string            `json:"email_from_name"`
	UpdatedAt              time.Time         `json:"updated_at,omitzero"`
}

func settingsOut(s notify.Settings) settingsJSON {
	offs := make([]int64, len(s.ReminderOffsets))
	for i, o := range s.ReminderOffsets {
		offs[i] = int64(o / time.Minute)
	}
	return settingsJSON{PracticeID: s.PracticeID, ReminderOffsetsMinutes: offs, QuietStart: s.QuietStart, QuietEnd: s.QuietEnd,
		SMSFrom: s.SMSFrom, EmailFrom: s.EmailFrom, EmailFromName: s.EmailFromName, UpdatedAt: s.UpdatedAt}
}

// settingsRequest replaces a practice's settings; members left out take
// their defaults (see notify.DefaultSettings).
type settingsRequest struct {
	ReminderOffsetsMinutes []int64 `json:"reminder_offsets_minutes"`
	QuietStart             int     `json:"quiet_start"`
	QuietEnd               int     `json:"quiet_end"`
	SMSFrom                string  `json:"sms_from"`
	EmailFrom              string  `json:"email_from"`
	EmailFromName          string  `json:"email_from_name"`
}

func (in settingsRequest) input(practice tenant.PracticeID) (notify.Settings, error) {
	s := notify.Settings{PracticeID: practice, QuietStart: in.QuietStart, QuietEnd: in.QuietEnd,
		SMSFrom: in.SMSFrom, EmailFrom: in.EmailFrom, EmailFromName: in.EmailFromName}
	for _, m := range in.ReminderOffsetsMinutes {
		d, err := refserver.Minutes("reminder_offsets_minutes", m)
		if err != nil {
			return s, err
		}
		s.ReminderOffsets = append(s.ReminderOffsets, d)
	}
	return s, nil
}

// templateRequest is a template's wording; its kind, channel and language
// are in the path.
type templateRequest struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// previewRequest asks for a template rendered: its own wording when text
// is given, else the one in use; on sample data, or on an appointment.
type previewRequest struct {
	Kind          string `json:"kind"`
	Channel       string `json:"channel"`
	Language      string `json:"language"`
	Subject       string `json:"subject"`
	Text          string `json:"text"`
	HTML          string `json:"html"`
	AppointmentID string `json:"appointment_id"`
}

// previewJSON is a rendered template.
type previewJSON struct {
	Kind     notify.Kind    `json:"kind"`
	Channel  notify.Channel `json:"channel"`
	Language string         `json:"language"`
	Subject  string         `json:"subject,omitempty"`
	Text     string         `json:"text"`
	HTML     string         `json:"html,omitempty"`
}

// campaignRequest is a notify.Campaign with its ID and time as strings.
type campaignRequest struct {
	ID       string `json:"id"`
	Channel  string `json:"channel"`
	Text     string `json:"text"`
	TimeZone string `json:"time_zone"`
	SendAt   string `json:"send_at"`
}

// campaignJSON answers a campaign: how many messages it wrote.
type campaignJSON struct {
	ID      uuid.UUID `json:"id"`
	Written int       `json:"written"`
}

// usageJSON is a practice's sent messages per channel over [from, to).
type usageJSON struct {
	From  time.Time           `json:"from"`
	To    time.Time           `json:"to"`
	Items []notify.UsageCount `json:"items"`
}

// messageStatuses are the statuses a message filter may name.
var messageStatuses = map[notify.Status]bool{
	notify.StatusPending: true, notify.StatusClaimed: true, notify.StatusSending: true, notify.StatusSent: true,
	notify.StatusDelivered: true, notify.StatusUndelivered: true, notify.StatusDead: true, notify.StatusDropped: true,
	notify.StatusUnread: true, notify.StatusRead: true,
}

// Settings.

func (s *server) getNotifySettings(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	if req.Err != nil {
		return req.Err
	}
	set, err := s.engine.Notify.Settings(r.Context(), pid)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, settingsOut(set))
}

func (s *server) putNotifySettings(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	def := settingsOut(notify.DefaultSettings(pid))
	in := settingsRequest{ReminderOffsetsMinutes: def.ReminderOffsetsMinutes, QuietStart: def.QuietStart, QuietEnd: def.QuietEnd}
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	set, err := in.input(pid)
	if err != nil {
		return err
	}
	if set, err = s.engine.Notify.PutSettings(r.Context(), set); err != nil {
		return renameField(err, map[string]string{"reminder_offsets": "reminder_offsets_minutes"})
	}
	return refserver.Reply(w, http.StatusOK, settingsOut(set))
}

// Templates.

func (s *server) listTemplates(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	if req.Err != nil {
		return req.Err
	}
	ts, err := s.engine.Notify.Templates(r.Context(), pid)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, listOf(ts))
}

// checkKindChannel refuses an unknown kind or channel, naming its field.
func checkKindChannel(k notify.Kind, ch notify.Channel) error {
	const op = "refserver.checkKindChannel"
	switch {
	case !k.Valid():
		return errs.Invalid(op, "kind", "unknown kind "+strconv.Quote(string(k)))
	case !ch.Valid():
		return errs.Invalid(op, "channel", "unknown channel "+strconv.Quote(string(ch)))
	}
	return nil
}

// templateKey reads a template's {kind}, {channel} and {language} path
// values, refusing unknown kinds and channels.
func templateKey(req *refserver.Request) (notify.Kind, notify.Channel, string) {
	r := req.HTTP()
	k, ch := notify.Kind(r.PathValue("kind")), notify.Channel(r.PathValue("channel"))
	if req.Err == nil {
		req.Fail(checkKindChannel(k, ch))
	}
	return k, ch, r.PathValue("language")
}

func (s *server) putTemplate(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	kind, ch, lang := templateKey(req)
	var in templateRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	return req.OK(s.engine.Notify.PutTemplate(r.Context(), notify.Template{PracticeID: pid, Kind: kind, Channel: ch, Language: lang,
		Subject: in.Subject, Text: in.Text, HTML: in.HTML}))
}

func (s *server) deleteTemplate(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	kind, ch, lang := templateKey(req)
	if req.Err != nil {
		return req.Err
	}
	return req.NoContent(s.engine.Notify.DeleteTemplate(r.Context(), pid, kind, ch, lang))
}

func (s *server) previewTemplate(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	var in previewRequest
	req.Body(&in)
	appt := req.BodyOptID("appointment_id", in.AppointmentID)
	if req.Err != nil {
		return req.Err
	}
	t := notify.Template{PracticeID: pid, Kind: notify.Kind(in.Kind), Channel: notify.Channel(in.Channel), Language: in.Language,
		Subject: in.Subject, Text: in.Text, HTML: in.HTML}
	if err := checkKindChannel(t.Kind, t.Channel); err != nil {
		return err
	}
	m, err := s.engine.Notify.Preview(r.Context(), pid, t, appt)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, previewJSON{Kind: m.Kind, Channel: m.Channel, Language: m.Language, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
}

// The outbox.

// listMessages answers one page of the practice's messages matching f, as
// narrowed by the query (filters names the parameters the route takes).
func (s *server) listMessages(w http.ResponseWriter, r *http.Request, f notify.MessageFilter, filters bool) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	f.After, f.Limit = req.ID("after"), req.Int("limit", notify.DefaultLimit, 1, notify.MaxLimit)
	if filters {
		for _, st := range req.List("status") {
			if !messageStatuses[notify.Status(st)] {
				req.Fail(errs.Invalid("refserver.listMessages", "status", "unknown status "+strconv.Quote(st)))
			}
			f.Status = append(f.Status, notify.Status(st))
		}
		f.Channel, f.Kind = notify.Channel(req.Str("channel")), notify.Kind(req.Str("kind"))
		f.PatientID, f.AppointmentID = req.ID("patient_id"), req.ID("appointment_id")
	}
	if req.Err != nil {
		return req.Err
	}
	ms, err := s.engine.Notify.Messages(r.Context(), pid, f)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, page(ms, f.Limit, func(m *notify.Message) uuid.UUID { return m.ID }))
}

func (s *server) listOutbox(w http.ResponseWriter, r *http.Request) error {
	return s.listMessages(w, r, notify.MessageFilter{}, true)
}

func (s *server) listDeadLetters(w http.ResponseWriter, r *http.Request) error {
	return s.listMessages(w, r, notify.MessageFilter{Status: []notify.Status{notify.StatusDead}}, false)
}

// messageAction answers the message that act returns for the {message}
// of the {practice}.
func (s *server) messageAction(w http.ResponseWriter, r *http.Request,
	act func(ctx context.Context, practice tenant.PracticeID, id uuid.UUID) (*notify.Message, error)) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("message")
	if req.Err != nil {
		return req.Err
	}
	return req.OK(act(r.Context(), pid, id))
}

func (s *server) getMessage(w http.ResponseWriter, r *http.Request) error {
	return s.messageAction(w, r, s.engine.Notify.Message)
}

func (s *server) retryMessage(w http.ResponseWriter, r *http.Request) error {
	return s.messageAction(w, r, s.engine.Notify.Retry)
}

func (s *server) markRead(w http.ResponseWriter, r *http.Request) error {
	return s.messageAction(w, r, s.engine.Notify.MarkRead)
}

func (s *server) notifyUsage(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	from, to := req.Time("from"), req.Time("to")
	switch {
	case req.Err != nil:
		return req.Err
	case from.IsZero():
		return errs.Invalid("refserver.notifyUsage", "from", "is required")
	case to.IsZero():
		return errs.Invalid("refserver.notifyUsage", "to", "is required")
	}
	us, err := s.engine.Notify.Usage(r.Context(), pid, from, to)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, usageJSON{From: from, To: to, Items: listOf(us).Items})
}

func (s *server) sendCampaign(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	var in campaignRequest
	req.Body(&in)
	id, at := req.BodyID("id", in.ID), req.BodyTime("send_at", in.SendAt)
	if req.Err != nil {
		return req.Err
	}
	n, err := s.engine.Notify.SendCampaign(r.Context(), pid, notify.Campaign{ID: id, Channel: notify.Channel(in.Channel),
		Text: in.Text, TimeZone: in.TimeZone, SendAt: at})
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusAccepted, campaignJSON{ID: id, Written: n})
}

// The front desk inbox.

func (s *server) listInbox(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	unread, after, limit := req.Bool("unread"), req.ID("after"), req.Int("limit", notify.DefaultLimit, 1, notify.MaxLimit)
	if req.Err != nil {
		return req.Err
	}
	ms, err := s.engine.Notify.Inbox(r.Context(), pid, unread, after, limit)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, page(ms, limit, func(m *notify.Message) uuid.UUID { return m.ID }))
}

func (s *server) inboxCount(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	if req.Err != nil {
		return req.Err
	}
	n, err := s.engine.Notify.UnreadCount(r.Context(), pid)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, map[string]int{"unread": n})
}

// A patient's preferences.

func (s *server) getPreferences(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("patient")
	if req.Err != nil {
		return req.Err
	}
	return req.OK(s.engine.Notify.Preferences(r.Context(), pid, id))
}

func (s *server) updatePreferences(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("patient")
	var in notify.PreferencesUpdate
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	var p notify.Preferences
	err := s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
		var err error
		p, err = s.engine.Notify.UpdatePreferences(ctx, pid, id, in)
		return "", err
	})
	return req.OK(p, err)
}

func (s *server) consentHistory(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("patient")
	if req.Err != nil {
		return req.Err
	}
	cs, err := s.engine.Notify.ConsentHistory(r.Context(), pid, id)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, listOf(cs))
}
