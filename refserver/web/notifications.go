package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The notification pages of a practice: its settings (reminders, quiet
// hours, senders), its message templates (each edited with a preview on
// sample data), the outbox and the dead letters, which can be sent again.
// They call the notify service as the API's routes do, with the same
// access (the outbox's reads are recorded in the activity log).

// notifyRoutes are the notification pages.
func (s *pages) notifyRoutes() []refserver.Route {
	p := "/p/{practice}/notifications"
	return []refserver.Route{
		route("GET", p, s.showNotifications, "Notification settings and the list of message templates", refserver.Needs(rbac.NotifyManage)),
		route("POST", p+"/settings", s.saveNotifySettings, "Replace the practice's notification settings", refserver.Needs(rbac.NotifyManage)),
		route("GET", p+"/template", s.showTemplate, "One message template (kind, channel, language) with its preview", refserver.Needs(rbac.NotifyManage)),
		route("POST", p+"/template", s.saveTemplate, "Preview, save or reset a message template", refserver.Needs(rbac.NotifyManage)),
		route("GET", p+"/outbox", s.showOutbox, "The practice's outbox", refserver.Needs(rbac.NotifyManage).Audited("notify.messages.list", "message", "")),
		route("GET", p+"/dead-letters", s.showDeadLetters, "The messages that could not be sent", refserver.Needs(rbac.NotifyManage).Audited("notify.dead_letters.list", "message", "")),
		route("POST", p+"/retry", s.retryMessage, "Send a dead letter again", refserver.Needs(rbac.NotifyManage)),
	}
}

// templateLanguages are the languages templates are listed in.
var templateLanguages = []string{"en", "es"}

// notifyPage is the settings and templates page.
type notifyPage struct {
	*view
	Base      string
	Settings  notify.Settings
	Offsets   string
	QuietFrom string
	QuietTo   string
	Templates []templateRow
}

// templateRow is one kind on one channel, with a link per language.
type templateRow struct {
	Kind, Channel string
	Langs         []templateLink
}

// templateLink is the edit link of one template, and whether the
// practice wrote its own.
type templateLink struct {
	// Label names the template in full, for those who hear the link.
	Lang, Href, Label string
	Own               bool
}

func (s *pages) showNotifications(w http.ResponseWriter, r *http.Request) error {
	p, err := s.notifyPage(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("done") == "saved" {
		p.Notice = p.T("notify.saved")
	}
	return s.render(w, http.StatusOK, "notifications.html", p)
}

func (s *pages) notifyPage(r *http.Request) (*notifyPage, error) {
	ctx := r.Context()
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return nil, err
	}
	set, err := s.engine.Notify.Settings(ctx, pid)
	if err != nil {
		return nil, err
	}
	own, err := s.engine.Notify.Templates(ctx, pid)
	if err != nil {
		return nil, err
	}
	v := s.newView(r, "notify.title")
	p := &notifyPage{view: v, Base: practicePath(pid), Settings: set, QuietFrom: clockOf(set.QuietStart), QuietTo: clockOf(set.QuietEnd)}
	var offs []string
	for _, o := range set.ReminderOffsets {
		offs = append(offs, strconv.FormatInt(int64(o/time.Minute), 10))
	}
	p.Offsets = strings.Join(offs, ", ")
	mine := map[string]bool{}
	for _, t := range own {
		mine[string(t.Kind)+"/"+string(t.Channel)+"/"+t.Language] = true
	}
	for _, k := range notify.Kinds {
		for _, ch := range []notify.Channel{notify.SMS, notify.Email, notify.InApp} {
			if k == notify.KindReply || k == notify.KindBreakGlass || (ch == notify.InApp && k != notify.KindRequested) {
				continue
			}
			row := templateRow{Kind: v.T(kindKey(k)), Channel: v.T(channelKey(ch))}
			for _, l := range templateLanguages {
				row.Langs = append(row.Langs, templateLink{Lang: v.T(langKey(l)), Href: templateHref(pid, k, ch, l),
					Label: v.T("notify.template_of", row.Kind, row.Channel, v.T(langKey(l))),
					Own:   mine[string(k)+"/"+string(ch)+"/"+l]})
			}
			p.Templates = append(p.Templates, row)
		}
	}
	return p, nil
}

// templateHref is the page of one template.
func templateHref(pid tenant.PracticeID, k notify.Kind, ch notify.Channel, lang string) string {
	q := url.Values{"kind": {string(k)}, "channel": {string(ch)}, "language": {lang}}
	return practicePath(pid) + "/notifications/template?" + q.Encode()
}

// clockOf writes minutes after midnight as HH:MM.
func clockOf(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// minutesOf reads HH:MM as minutes after midnight, for field.
func minutesOf(field, s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, errs.Invalid("web.minutesOf", field, "notify.time_format")
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (s *pages) saveNotifySettings(w http.ResponseWriter, r *http.Request) error {
	const op = "web.saveNotifySettings"
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	set := notify.Settings{PracticeID: pid, SMSFrom: strings.TrimSpace(r.PostFormValue("sms_from")),
		EmailFrom: strings.TrimSpace(r.PostFormValue("email_from")), EmailFromName: strings.TrimSpace(r.PostFormValue("email_from_name"))}
	for _, f := range strings.FieldsFunc(r.PostFormValue("reminder_offsets_minutes"), func(c rune) bool { return c == ',' || c == ' ' }) {
		n, perr := strconv.ParseInt(f, 10, 64)
		if perr != nil {
			err = errs.Invalid(op, "reminder_offsets_minutes", "notify.offsets_format")
			break
		}
		set.ReminderOffsets = append(set.ReminderOffsets, time.Duration(n)*time.Minute)
	}
	if err == nil {
		set.QuietStart, err = minutesOf("quiet_start", r.PostFormValue("quiet_start"))
	}
	if err == nil {
		set.QuietEnd, err = minutesOf("quiet_end", r.PostFormValue("quiet_end"))
	}
	if err == nil {
		_, err = s.engine.Notify.PutSettings(r.Context(), set)
		if errs.FieldOf(err) == "reminder_offsets" {
			err = errs.Invalid(op, "reminder_offsets_minutes", errMsg(err))
		}
	}
	if err != nil {
		p, perr := s.notifyPage(r)
		if perr != nil {
			return perr
		}
		return s.invalid(w, r, p.view, "notifications.html", p, translated(p.view, err))
	}
	return see(w, r, practicePath(pid)+"/notifications?done=saved")
}

// templatePage is one template's page: its wording and its preview.
type templatePage struct {
	*view
	Base                    string
	Kind, Channel, Language string
	KindName, ChannelName   string
	Email, Own              bool
	Subject, Text, HTML     string
	Preview                 *notify.Message
}

// templateOf reads the template a request names (query or form), refusing
// unknown kinds, channels and languages.
func templateOf(r *http.Request, get func(string) string) (notify.Kind, notify.Channel, string, error) {
	const op = "web.template"
	k, ch, l := notify.Kind(get("kind")), notify.Channel(get("channel")), get("language")
	switch {
	case !k.Valid() || k == notify.KindReply:
		return k, ch, l, errs.NotFound(op, "kind")
	case !ch.Valid() || (ch == notify.InApp && k != notify.KindRequested):
		return k, ch, l, errs.NotFound(op, "channel")
	case l != "en" && l != "es":
		return k, ch, l, errs.NotFound(op, "language")
	}
	return k, ch, l, nil
}

func (s *pages) templatePage(r *http.Request, k notify.Kind, ch notify.Channel, lang string) (*templatePage, error) {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return nil, err
	}
	v := s.newView(r, "notify.template_title")
	p := &templatePage{view: v, Base: practicePath(pid), Kind: string(k), Channel: string(ch), Language: lang,
		KindName: v.T(kindKey(k)), ChannelName: v.T(channelKey(ch)), Email: ch == notify.Email}
	v.Title = v.T("notify.template_of", p.KindName, p.ChannelName, v.T(langKey(lang)))
	t, err := s.engine.Notify.Template(r.Context(), pid, k, ch, lang)
	if err != nil {
		return nil, err
	}
	p.Own = t.PracticeID == pid && t.Language == lang
	p.Subject, p.Text, p.HTML = t.Subject, t.Text, t.HTML
	return p, nil
}

func (s *pages) showTemplate(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("kind") == "" && q.Get("channel") == "" && q.Get("language") == "" {
		// The list of templates is where one is chosen.
		return see(w, r, "/p/"+r.PathValue("practice")+"/notifications")
	}
	k, ch, lang, err := templateOf(r, q.Get)
	if err != nil {
		return err
	}
	p, err := s.templatePage(r, k, ch, lang)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("done") == "saved" {
		p.Notice = p.T("notify.template_saved")
	}
	p.Preview, err = s.engine.Notify.Preview(r.Context(), p.practiceID(), notify.Template{Kind: k, Channel: ch, Language: lang,
		Subject: p.Subject, Text: p.Text, HTML: p.HTML}, nil)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "template.html", p)
}

// practiceID is the page's practice.
func (p *templatePage) practiceID() tenant.PracticeID {
	return uuid.MustParse(strings.TrimPrefix(p.Base, "/p/"))
}

// saveTemplate previews the wording typed (action=preview), stores it
// (save) or deletes the practice's own so that the default takes over
// (reset).
func (s *pages) saveTemplate(w http.ResponseWriter, r *http.Request) error {
	const op = "web.saveTemplate"
	k, ch, lang, err := templateOf(r, r.PostFormValue)
	if err != nil {
		return errs.Invalid(op, errs.FieldOf(err), "notify.template_unknown")
	}
	p, err := s.templatePage(r, k, ch, lang)
	if err != nil {
		return err
	}
	ctx, pid := r.Context(), p.practiceID()
	t := notify.Template{PracticeID: pid, Kind: k, Channel: ch, Language: lang, Text: r.PostFormValue("text")}
	if ch == notify.Email {
		t.Subject, t.HTML = r.PostFormValue("subject"), r.PostFormValue("html")
	}
	back := templateHref(pid, k, ch, lang) + "&done=saved"
	switch r.PostFormValue("action") {
	case "reset":
		if err := s.engine.Notify.DeleteTemplate(ctx, pid, k, ch, lang); err != nil && !errs.Is(err, errs.KindNotFound) {
			return err
		}
		return see(w, r, back)
	case "save":
		if _, err = s.engine.Notify.PutTemplate(ctx, t); err == nil {
			return see(w, r, back)
		}
	case "preview":
		if strings.TrimSpace(t.Text) == "" {
			err = errs.Invalid(op, "text", "notify.text_required")
		} else {
			p.Preview, err = s.engine.Notify.Preview(ctx, pid, t, nil)
		}
	default:
		err = errs.Invalid(op, "action", "notify.action_unknown")
	}
	p.Subject, p.Text, p.HTML = t.Subject, t.Text, t.HTML
	if err != nil {
		p.Preview = nil
		return s.invalid(w, r, p.view, "template.html", p, translated(p.view, templateField(err)))
	}
	p.Form = r.PostForm
	return s.render(w, http.StatusOK, "template.html", p)
}

// templateField names the form field of a template's error: the notify
// service names the part (subject, text, html) as the form does.
func templateField(err error) error {
	switch errs.FieldOf(err) {
	case "subject", "text", "html", "":
		return err
	}
	return errs.Invalid("web.saveTemplate", "text", errMsg(err))
}

// outboxPage is a page of the outbox, or of the dead letters.
type outboxPage struct {
	*view
	Base     string
	Dead     bool
	Messages []messageRow
	// Next is the link to the next page; "" on the last one.
	Next                      string
	Statuses, Channels, Kinds []option
}

// messageRow is one message, in words.
type messageRow struct {
	ID, When, To, Kind, Channel, Status, StatusClass, Error, Subject, Text string
	Attempts                                                               int
	Dead                                                                   bool
}

// outboxStatuses are the statuses the outbox filter offers.
var outboxStatuses = []notify.Status{notify.StatusPending, notify.StatusSending, notify.StatusSent, notify.StatusDelivered,
	notify.StatusUndelivered, notify.StatusDead, notify.StatusDropped, notify.StatusUnread, notify.StatusRead}

func (s *pages) showOutbox(w http.ResponseWriter, r *http.Request) error {
	return s.messages(w, r, false)
}

func (s *pages) showDeadLetters(w http.ResponseWriter, r *http.Request) error {
	return s.messages(w, r, true)
}

// messages shows a page of the outbox (filtered by the query's status,
// channel and kind) or of the dead letters, after the query's after.
func (s *pages) messages(w http.ResponseWriter, r *http.Request, dead bool) error {
	const op = "web.messages"
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	title := "notify.outbox"
	if dead {
		title = "notify.dead_letters"
	}
	v := s.newView(r, title)
	v.Form = q
	p := &outboxPage{view: v, Base: practicePath(pid), Dead: dead}
	switch q.Get("done") {
	case "retried":
		p.Notice = v.T("notify.retried")
	case "not_retried":
		p.Notice, p.Failed = v.T("notify.not_retried"), true
	}
	f := notify.MessageFilter{Limit: 50}
	if dead {
		f.Status = []notify.Status{notify.StatusDead}
	} else {
		p.Statuses = []option{{Value: "", Label: v.T("notify.any")}}
		for _, st := range outboxStatuses {
			p.Statuses = append(p.Statuses, option{Value: string(st), Label: v.T(statusKey(st))})
		}
		p.Channels = []option{{Value: "", Label: v.T("notify.any")}}
		for _, ch := range []notify.Channel{notify.SMS, notify.Email, notify.InApp} {
			p.Channels = append(p.Channels, option{Value: string(ch), Label: v.T(channelKey(ch))})
		}
		p.Kinds = []option{{Value: "", Label: v.T("notify.any")}}
		for _, k := range notify.Kinds {
			p.Kinds = append(p.Kinds, option{Value: string(k), Label: v.T(kindKey(k))})
		}
		if st := q.Get("status"); st != "" {
			if !isOutboxStatus(st) {
				return s.invalid(w, r, v, "outbox.html", p, errs.Invalid(op, "status", v.T("notify.filter_unknown")))
			}
			f.Status = []notify.Status{notify.Status(st)}
		}
		f.Channel, f.Kind = notify.Channel(q.Get("channel")), notify.Kind(q.Get("kind"))
	}
	if a := q.Get("after"); a != "" {
		id, err := refserver.ParseID("after", a)
		if err != nil {
			return s.invalid(w, r, v, "outbox.html", p, err)
		}
		f.After = &id
	}
	ms, err := s.engine.Notify.Messages(r.Context(), pid, f)
	if err != nil {
		if errs.KindOf(err) == errs.KindInvalid {
			err = errs.Invalid(op, errs.FieldOf(err), v.T("notify.filter_unknown"))
		}
		return s.invalid(w, r, v, "outbox.html", p, err)
	}
	loc := s.zoneOf(r.Context(), pid)
	for _, m := range ms {
		at := m.DueAt
		if m.SentAt != nil {
			at = *m.SentAt
		}
		p.Messages = append(p.Messages, messageRow{ID: m.ID.String(), When: v.when(at, loc), To: m.To,
			Kind: v.T(kindKey(m.Kind)), Channel: v.T(channelKey(m.Channel)),
			Status: v.T(statusKey(m.Status)), StatusClass: string(m.Status), Error: m.LastError,
			Subject: m.Subject, Text: m.Text, Attempts: m.Attempts, Dead: m.Status == notify.StatusDead})
	}
	if len(ms) == f.Limit {
		next := url.Values{}
		for k, vs := range q {
			next[k] = vs
		}
		next.Set("after", ms[len(ms)-1].ID.String())
		p.Next = r.URL.Path + "?" + next.Encode()
	}
	return s.render(w, http.StatusOK, "outbox.html", p)
}

// isOutboxStatus reports whether st is a status the filter offers.
func isOutboxStatus(st string) bool {
	for _, x := range outboxStatuses {
		if string(x) == st {
			return true
		}
	}
	return false
}

func (s *pages) retryMessage(w http.ResponseWriter, r *http.Request) error {
	pid, err := refserver.ParseID("practice", r.PathValue("practice"))
	if err != nil {
		return err
	}
	id, err := refserver.ParseID("message_id", r.PostFormValue("message_id"))
	if err == nil {
		_, err = s.engine.Notify.Retry(r.Context(), pid, id)
	}
	if err != nil {
		if errs.KindOf(err) == errs.KindNotFound || errs.KindOf(err) == errs.KindInvalid || errs.KindOf(err) == errs.KindPreconditionFailed || errs.KindOf(err) == errs.KindConflict {
			return see(w, r, practicePath(pid)+"/notifications/dead-letters?done=not_retried")
		}
		return err
	}
	return see(w, r, practicePath(pid)+"/notifications/dead-letters?done=retried")
}

// The catalog keys of the words of kinds, channels, statuses and
// languages (TestStaffCatalogKeys checks that each exists).
func kindKey(k notify.Kind) string       { return "notify.kind." + string(k) }
func channelKey(c notify.Channel) string { return "notify.channel." + string(c) }
func statusKey(s notify.Status) string   { return "notify.status." + string(s) }
func langKey(l string) string            { return "notify.lang." + l }
