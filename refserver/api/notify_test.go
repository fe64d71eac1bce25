package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing/billingtest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/carebook/carebook/notify/sendgrid"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

const (
	testPublicURL   = "https://clinic.example"
	testTwilioToken = "twilio-auth-token"
	// Message SIDs as Twilio makes them: SM and 32 lowercase hex digits.
	testSMSSid    = "SM00000000000000000000000000000001"
	testStatusSid = "SM00000000000000000000000000000009"
)

// testLinkKey signs the links of the notify tests.
var testLinkKey = bytes.Repeat([]byte{7}, 32)

// notifyEnv is a testEnv whose engine signs links and whose server takes
// Twilio and SendGrid webhooks; signer signs SendGrid's events.
type notifyEnv struct {
	*testEnv
	signer *fakeprovider.EventSigner
	links  *notify.Links
	logs   *bytes.Buffer
}

func newNotifyEnv(t *testing.T, st *sqlstore.Store) *notifyEnv {
	t.Helper()
	clk := clock.NewFixed(testNow)
	e := carebook.NewWithStore(st, carebook.WithClock(clk), carebook.WithLinks(testLinkKey, testPublicURL))
	signer, err := fakeprovider.NewEventSigner()
	if err != nil {
		t.Fatal(err)
	}
	v, err := sendgrid.NewEventVerifier(sendgrid.VerifierConfig{PublicKey: signer.PublicKey(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	links, err := notify.NewLinks(testLinkKey, testPublicURL)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(e, refserver.Options{PublicURL: testPublicURL, TwilioAuthToken: testTwilioToken, SendGridEvents: v})
	return &notifyEnv{testEnv: &testEnv{t: t, clock: clk, engine: e, srv: srv}, signer: signer, links: links, logs: &bytes.Buffer{}}
}

// sentConfirmation books a visit for f's patient, dispatches its messages
// and returns the ID of its confirmation on channel, which must be sent.
func (e *notifyEnv) sentConfirmation(f fixture, channel string) string {
	e.t.Helper()
	e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-12T09:00:00-04:00")), 201)
	e.dispatch()
	msgs := e.messages(f, "channel="+channel+"&kind=confirmed")
	if len(msgs) != 1 || msgs[0]["status"] != "sent" {
		e.t.Fatalf("confirmation = %v", msgs)
	}
	return str(msgs[0], "id")
}

// dispatch sends what is due through LogSenders, as `make run` does.
func (e *notifyEnv) dispatch() notify.Stats {
	e.t.Helper()
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	d := e.engine.NewDispatcher(notify.DispatcherConfig{}, refserver.NewLogSender(log, notify.SMS), refserver.NewLogSender(log, notify.Email))
	st, err := d.Drain(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// messages lists the outbox through the API with query.
func (e *notifyEnv) messages(f fixture, query string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for _, it := range e.items(e.do("GET", f.base+"/notify/messages?"+query, nil)) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// post sends a webhook or link request through the whole handler stack,
// without an actor, and checks the answer against the document.
func (e *notifyEnv) post(method, target, contentType string, body []byte, header http.Header) resp {
	e.t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for k, vs := range header {
		r.Header[k] = vs
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	res := resp{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	checkAgainstDocument(e.t, r, res)
	return res
}

// twilio posts form to a Twilio webhook path, signed with sign's token
// ("" sends no signature).
func (e *notifyEnv) twilio(path string, form url.Values, token string) resp {
	e.t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("X-Twilio-Signature", fakeprovider.SignTwilio(token, testPublicURL+path, form))
	}
	return e.post("POST", path, "application/x-www-form-urlencoded", []byte(form.Encode()), h)
}

func TestNotifySettingsAndTemplates(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newNotifyEnv(t, st)
		f := e.setup("Riverside")
		set := e.ok(e.do("GET", f.base+"/notify/settings", nil), 200)
		if offs := set["reminder_offsets_minutes"].([]any); len(offs) != 2 || offs[0] != 1440.0 || offs[1] != 120.0 || set["quiet_start"] != 1260.0 {
			t.Errorf("default settings = %v", set)
		}
		set = e.ok(e.do("PUT", f.base+"/notify/settings", map[string]any{"reminder_offsets_minutes": []int{60, 2880}, "sms_from": "+12025550100"}), 200)
		if offs := set["reminder_offsets_minutes"].([]any); len(offs) != 2 || offs[0] != 2880.0 || set["quiet_end"] != 480.0 || set["sms_from"] != "+12025550100" {
			t.Errorf("settings = %v", set)
		}
		for _, c := range []struct {
			body  any
			field string
		}{
			{map[string]any{"reminder_offsets_minutes": []int{5}}, "reminder_offsets_minutes"},
			{map[string]any{"quiet_start": 1440}, "quiet_start"},
			{map[string]any{"email_from": "nobody"}, "email_from"},
			{map[string]any{"reminder_offsets": []int{60}}, "reminder_offsets"},
		} {
			e.problem(e.do("PUT", f.base+"/notify/settings", c.body), 400, c.field)
		}
		if got := e.ok(e.do("GET", f.base+"/notify/settings", nil), 200); got["sms_from"] != "+12025550100" {
			t.Errorf("a refused PUT changed the settings: %v", got)
		}

		tpl := f.base + "/notify/templates/reminder/email/en"
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"subject": "Hi", "text": "See you {{.Nope}}"}, "text"},
			{map[string]any{"subject": "Hi {{", "text": "See you"}, "subject"},
			{map[string]any{"subject": "Hi", "text": "See you", "html": "<p>{{.Secret}}</p>"}, "html"},
			{map[string]any{"text": "See you"}, "subject"},
		} {
			e.problem(e.do("PUT", tpl, c.body), 400, c.field)
		}
		e.problem(e.do("PUT", f.base+"/notify/templates/gossip/sms/en", map[string]any{"text": "x"}), 400, "kind")
		e.problem(e.do("PUT", f.base+"/notify/templates/reminder/fax/en", map[string]any{"text": "x"}), 400, "channel")
		if n := e.count(f.base + "/notify/templates"); n != 0 {
			t.Fatalf("refused templates were stored: %d", n)
		}
		got := e.ok(e.do("PUT", tpl, map[string]any{"subject": "Your visit", "text": "Hello {{.Patient.GivenName}}, see you {{.When}}."}), 200)
		if got["updated_by"] != staff || got["language"] != "en" {
			t.Errorf("template = %v", got)
		}
		if n := e.count(f.base + "/notify/templates"); n != 1 {
			t.Errorf("templates = %d, want 1", n)
		}
		pv := e.ok(e.do("POST", f.base+"/notify/templates/preview", map[string]any{"kind": "reminder", "channel": "email", "language": "en"}), 200)
		if !strings.HasPrefix(str(pv, "text"), "Hello ") || pv["subject"] != "Your visit" {
			t.Errorf("preview of the stored template = %v", pv)
		}
		pv = e.ok(e.do("POST", f.base+"/notify/templates/preview", map[string]any{"kind": "reminder", "channel": "sms", "language": "en",
			"text": "Dear {{.Patient.GivenName}}"}), 200)
		if str(pv, "text") == "" || strings.Contains(str(pv, "text"), "{{") {
			t.Errorf("preview = %v", pv)
		}
		e.problem(e.do("POST", f.base+"/notify/templates/preview", map[string]any{"kind": "reminder", "channel": "sms", "language": "en",
			"text": "{{.Nope}}"}), 400, "text")
		e.problem(e.do("POST", f.base+"/notify/templates/preview", map[string]any{"kind": "reminder", "channel": "sms", "language": "en",
			"appointment_id": uuid.NewString()}), 404, "appointment_id")
		e.problem(e.do("POST", f.base+"/notify/templates/preview", map[string]any{"kind": "x", "channel": "sms", "language": "en"}), 400, "kind")
		if res := e.do("DELETE", tpl, nil); res.status != 204 {
			t.Fatalf("DELETE = %d %s", res.status, res.body)
		}
		e.problem(e.do("DELETE", tpl, nil), 404, "")
	})
}

func TestNotifyOutboxInboxAndPreferences(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newNotifyEnv(t, st)
		f := e.setup("Riverside")
		ap := e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-12T09:00:00-04:00")), 201)
		sms := e.messages(f, "channel=sms&appointment_id="+str(ap, "id"))
		if len(sms) == 0 {
			t.Fatalf("no SMS about the booking")
		}
		if n := len(e.messages(f, "status=pending,sent&kind=confirmed")); n != 2 {
			t.Errorf("confirmations = %d, want an SMS and an email", n)
		}
		e.problem(e.do("GET", f.base+"/notify/messages?status=lost", nil), 400, "status")
		e.problem(e.do("GET", f.base+"/notify/messages?channel=fax", nil), 400, "channel")
		e.problem(e.do("GET", f.base+"/notify/messages?patient_id=42", nil), 400, "patient_id")
		if got := e.messages(f, "limit=1"); len(got) != 1 {
			t.Errorf("limit=1 gave %d", len(got))
		}
		id := str(sms[0], "id")
		if m := e.ok(e.do("GET", f.base+"/notify/messages/"+id, nil), 200); m["to"] != "+12025550143" {
			t.Errorf("message = %v", m)
		}
		e.problem(e.do("GET", f.base+"/notify/messages/"+uuid.NewString(), nil), 404, "")
		e.problem(e.do("POST", f.base+"/notify/messages/"+id+"/retry", nil), 409, "")
		if n := e.count(f.base + "/notify/dead-letters"); n != 0 {
			t.Errorf("dead letters = %d", n)
		}
		if st := e.dispatch(); st.Sent < 2 {
			t.Errorf("dispatch = %+v", st)
		}
		if !strings.Contains(e.logs.String(), "channel=sms to=+12025550143 kind=confirmed") {
			t.Errorf("the log sender logged %q", e.logs.String())
		}
		u := e.ok(e.do("GET", f.base+"/notify/usage?from=2030-03-01T00:00:00Z&to=2030-04-01T00:00:00Z", nil), 200)
		if items := u["items"].([]any); len(items) != 2 {
			t.Errorf("usage = %v", u)
		}
		e.problem(e.do("GET", f.base+"/notify/usage?to=2030-04-01T00:00:00Z", nil), 400, "from")
		e.problem(e.do("GET", f.base+"/notify/usage?from=2030-04-01T00:00:00Z&to=2030-03-01T00:00:00Z", nil), 400, "to")

		// A patient's request lands in the front desk inbox.
		pat := "patient:" + f.patient
		e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-14T09:00:00-04:00"), as(pat)), 201)
		if c := e.ok(e.do("GET", f.base+"/inbox/count", nil), 200); c["unread"] != 1.0 {
			t.Fatalf("unread = %v", c)
		}
		in := e.items(e.do("GET", f.base+"/inbox?unread=true", nil))
		if len(in) != 1 {
			t.Fatalf("inbox = %v", in)
		}
		msg := str(in[0].(map[string]any), "id")
		if m := e.ok(e.do("POST", f.base+"/inbox/"+msg+"/read", nil), 200); m["status"] != "read" {
			t.Errorf("marked = %v", m)
		}
		if n := len(e.items(e.do("GET", f.base+"/inbox?unread=true", nil))); n != 0 {
			t.Errorf("unread after reading = %d", n)
		}
		if n := len(e.items(e.do("GET", f.base+"/inbox", nil))); n != 1 {
			t.Errorf("inbox = %d, want 1", n)
		}
		e.problem(e.do("GET", f.base+"/inbox?unread=maybe", nil), 400, "unread")

		// Preferences: consent to campaigns, then a campaign reaches the patient.
		pref := f.base + "/patients/" + f.patient + "/preferences"
		if p := e.ok(e.do("GET", pref, nil, as(pat)), 200); p["sms"] != true || p["marketing"] != false {
			t.Errorf("default preferences = %v", p)
		}
		e.problem(e.do("PATCH", pref, map[string]any{"marketing": "yes"}, as(pat)), 400, "marketing")
		e.problem(e.do("PATCH", pref, map[string]any{"language": strings.Repeat("x", 40)}, as(pat)), 400, "language")
		if p := e.ok(e.do("PATCH", pref, map[string]any{"marketing": true, "language": "es"}, as(pat)), 200); p["marketing"] != true || p["language"] != "es" {
			t.Errorf("preferences = %v", p)
		}
		hist := e.items(e.do("GET", f.base+"/patients/"+f.patient+"/consent-history", nil))
		if len(hist) != 2 || !strings.HasPrefix(str(hist[0].(map[string]any), "source"), "api:patient:") {
			t.Errorf("consent history = %v", hist)
		}
		camp := map[string]any{"id": uuid.NewString(), "channel": "sms", "text": "10% off flu shots", "time_zone": "America/New_York"}
		if c := e.ok(e.do("POST", f.base+"/notify/campaigns", camp), 202); c["written"] != 1.0 {
			t.Errorf("campaign = %v", c)
		}
		if c := e.ok(e.do("POST", f.base+"/notify/campaigns", camp), 202); c["written"] != 0.0 {
			t.Errorf("the campaign again = %v", c)
		}
		// On a plan allowing one SMS a period, the next campaign is a
		// problem naming the limit, the count and when it resets.
		plan := billingtest.SamplePlan("tiny")
		plan.Meters[1].Quota = 1
		ctx := context.Background()
		if err := e.engine.PutPlan(ctx, plan); err != nil {
			t.Fatal(err)
		}
		sub, err := e.engine.Subscribe(ctx, uuid.MustParse(f.practice), "tiny")
		if err != nil {
			t.Fatal(err)
		}
		camp["id"] = uuid.NewString()
		if c := e.ok(e.do("POST", f.base+"/notify/campaigns", camp), 202); c["written"] != 1.0 {
			t.Errorf("the campaign within the quota = %v", c)
		}
		camp["id"] = uuid.NewString()
		_, resets := sub.Period(e.clock.Now())
		p := e.problem(e.do("POST", f.base+"/notify/campaigns", camp), 422, "sms_sent")
		if d, _ := p.Details.(map[string]any); d["limit"] != 1.0 || d["used"] != 1.0 || d["meter"] != "sms_sent" || d["resets_at"] != resets.Format(time.RFC3339Nano) {
			t.Errorf("quota problem details = %v", p.Details)
		}
		camp["time_zone"] = "Mars/Olympus"
		e.problem(e.do("POST", f.base+"/notify/campaigns", camp), 400, "time_zone")
		camp["id"] = "first"
		e.problem(e.do("POST", f.base+"/notify/campaigns", camp), 400, "id")
		camp["id"], camp["time_zone"], camp["send_at"] = uuid.NewString(), "UTC", "tomorrow"
		e.problem(e.do("POST", f.base+"/notify/campaigns", camp), 400, "send_at")
	})
}

func TestTwilioWebhooks(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newNotifyEnv(t, st)
		f := e.setup("Riverside")
		ap := e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-12T09:00:00-04:00")), 201)
		e.dispatch()
		path := "/webhooks/twilio/" + f.practice + "/sms"
		form := url.Values{"From": {"+12025550143"}, "To": {"+12025550100"}, "Body": {"C"}, "MessageSid": {testSMSSid}, "AccountSid": {"AC1"}}
		unchanged := func() {
			t.Helper()
			if a := e.ok(e.do("GET", f.base+"/appointments/"+str(ap, "id"), nil), 200); a["status"] != "confirmed" {
				t.Fatalf("appointment = %v", a)
			}
		}
		e.problem(e.twilio(path, form, ""), 403, "")
		e.problem(e.twilio(path, form, "another-token"), 403, "")
		// The signature covers the form: a changed body is refused too.
		signed := fakeprovider.SignTwilio(testTwilioToken, testPublicURL+path, form)
		tampered := url.Values{"From": {"+12025550143"}, "Body": {"STOP"}, "MessageSid": {testSMSSid}}
		e.problem(e.post("POST", path, "application/x-www-form-urlencoded", []byte(tampered.Encode()), http.Header{"X-Twilio-Signature": {signed}}), 403, "")
		unchanged()

		res := e.twilio(path, form, testTwilioToken)
		if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/xml") || !strings.Contains(string(res.body), "is canceled") {
			t.Fatalf("inbound SMS: %d %s %s", res.status, res.header, res.body)
		}
		if a := e.ok(e.do("GET", f.base+"/appointments/"+str(ap, "id"), nil), 200); a["status"] != "canceled" {
			t.Errorf("appointment after C = %v", a)
		}
		es, err := e.engine.Audit.Query(context.Background(), uuid.MustParse(f.practice), audit.Filter{Action: "notify.sms_inbound.cancel"})
		if err != nil || len(es) != 1 || es[0].ResourceID != testSMSSid || es[0].PatientID == nil || !strings.HasPrefix(es[0].Actor, "patient:") {
			t.Errorf("activity log = %+v, %v", es, err)
		}
		replies := len(e.messages(f, "kind=reply"))
		// The same message again is a replay.
		e.problem(e.twilio(path, form, testTwilioToken), 403, "")
		if n := len(e.messages(f, "kind=reply")); n != replies {
			t.Errorf("replies after a replay = %d, want %d", n, replies)
		}
		e.problem(e.twilio("/webhooks/twilio/"+uuid.NewString()+"/sms", form, testTwilioToken), 404, "")

		// A status callback marks a sent message delivered.
		sms := e.messages(f, "channel=sms&kind=confirmed")
		if len(sms) != 1 || sms[0]["status"] != "sent" {
			t.Fatalf("confirmation = %v", sms)
		}
		id := str(sms[0], "id")
		status := "/webhooks/twilio/" + f.practice + "/status?m=" + id
		cb := url.Values{"MessageSid": {testStatusSid}, "MessageStatus": {"delivered"}, "AccountSid": {"AC1"}}
		e.problem(e.twilio(status, cb, ""), 403, "")
		if res := e.twilio(status, cb, testTwilioToken); res.status != 204 {
			t.Fatalf("status callback = %d %s", res.status, res.body)
		}
		if m := e.ok(e.do("GET", f.base+"/notify/messages/"+id, nil), 200); m["status"] != "delivered" {
			t.Errorf("message after the callback = %v", m)
		}
		bad := url.Values{"MessageSid": {testStatusSid}, "MessageStatus": {"teleported"}}
		e.problem(e.twilio(status, bad, testTwilioToken), 400, "MessageStatus")
	})
}

func TestTwilioWebhooksUnconfigured(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t))
	f := e.setup("Riverside")
	r := httptest.NewRequest("POST", "/webhooks/twilio/"+f.practice+"/sms", strings.NewReader("Body=C"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Twilio-Signature", "x")
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	e.problem(resp{status: w.Code, header: w.Header(), body: w.Body.Bytes()}, 403, "")
	r = httptest.NewRequest("POST", "/webhooks/sendgrid/events", strings.NewReader("[]"))
	w = httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	e.problem(resp{status: w.Code, header: w.Header(), body: w.Body.Bytes()}, 403, "")
}

func TestSendGridEvents(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newNotifyEnv(t, st)
		f := e.setup("Riverside")
		id := e.sentConfirmation(f, "email")
		payload, _ := json.Marshal([]map[string]any{{"event": "delivered", "email": "grace@example.com", "timestamp": testNow.Unix(),
			"sg_message_id": "sg1.filter", "sendgrid_event_id": "ev1", sendgrid.ArgMessageID: id, sendgrid.ArgPracticeID: f.practice}})
		send := func(body []byte, ts time.Time, sig string) resp {
			t.Helper()
			stamp := strconv.FormatInt(ts.Unix(), 10)
			if sig == "" {
				sig = e.signer.Sign(body, stamp)
			}
			return e.post("POST", "/webhooks/sendgrid/events", "application/json", body, http.Header{
				sendGridSignatureHeader: {sig}, "X-Twilio-Email-Event-Webhook-Timestamp": {stamp}})
		}
		status := func() any {
			t.Helper()
			return e.ok(e.do("GET", f.base+"/notify/messages/"+id, nil), 200)["status"]
		}
		other, _ := fakeprovider.NewEventSigner()
		e.problem(send(payload, testNow, other.Sign(payload, strconv.FormatInt(testNow.Unix(), 10))), 403, "")
		e.problem(send(payload, testNow.Add(-time.Hour), ""), 403, "")
		e.problem(e.post("POST", "/webhooks/sendgrid/events", "application/json", payload, nil), 403, "")
		if s := status(); s != "sent" {
			t.Fatalf("status after refused events = %v", s)
		}
		sig := e.signer.Sign(payload, strconv.FormatInt(testNow.Unix(), 10))
		if res := send(payload, testNow, sig); res.status != 204 {
			t.Fatalf("events = %d %s", res.status, res.body)
		}
		if s := status(); s != "delivered" {
			t.Errorf("status = %v, want delivered", s)
		}
		// The same signed request again is a replay.
		e.problem(send(payload, testNow, sig), 403, "")
		e.problem(send([]byte(`{"event":"delivered"}`), testNow, ""), 400, "")
	})
}

// TestPreferencesAreAudited checks that a patient changing their own
// preferences behind SessionAuth is recorded in the activity log in the
// change's transaction, and that a refused change is recorded as failed.
func TestPreferencesAreAudited(t *testing.T) {
	m := newMatrixEnv(t)
	path := "/api/v1/practices/" + m.a.practice + "/patients/" + m.a.patient + "/preferences"
	p1 := bearer(m.token("patient_P1"))
	if p := m.ok(m.do("PATCH", path, map[string]any{"email": false}, p1), 200); p["email"] != false {
		t.Fatalf("preferences = %v", p)
	}
	m.problem(m.do("PATCH", path, map[string]any{"email": 1}, p1), 400, "email")
	m.ok(m.do("GET", path, nil, p1), 200)
	got := m.entries("preferences.update")
	if len(got) != 2 || got[0].Outcome != audit.Allowed || got[1].Outcome != audit.Failed || got[0].Role != "patient" ||
		got[0].PatientID == nil || got[0].PatientID.String() != m.a.patient || got[0].ResourceID != m.a.patient {
		t.Errorf("preferences.update entries = %+v", got)
	}
	if n := len(m.entries("preferences.read")); n != 1 {
		t.Errorf("preferences.read entries = %d, want 1", n)
	}
}

// TestMessageReadsAreAudited: the outbox and the inbox name patients and
// their visits, so reading them behind SessionAuth is recorded in the
// activity log.
func TestMessageReadsAreAudited(t *testing.T) {
	m := newMatrixEnv(t)
	base := "/api/v1/practices/" + m.a.practice
	admin, desk := bearer(m.token("group_admin")), bearer(m.token("front_desk_A"))
	m.ok(m.do("GET", base+"/notify/messages", nil, admin), 200)
	m.ok(m.do("GET", base+"/notify/dead-letters", nil, admin), 200)
	m.ok(m.do("GET", base+"/inbox", nil, desk), 200)
	m.problem(m.do("GET", base+"/notify/messages/"+uuid.NewString(), nil, admin), 404, "")
	for _, action := range []string{"notify.messages.list", "notify.dead_letters.list", "inbox.list", "notify.message.read"} {
		if n := len(m.entries(action)); n != 1 {
			t.Errorf("%s entries = %d, want 1", action, n)
		}
	}
}
