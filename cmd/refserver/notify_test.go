package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/carebook/carebook/notify/twilio"
	"github.com/carebook/carebook/scheduling"
	"github.com/google/uuid"
)

// bookDemoVisit books, as the front desk, the first open slot of the demo
// clinic next week for a patient with a phone and an email.
func bookDemoVisit(t *testing.T, m *Main) {
	t.Helper()
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Staff, ID: "test-desk"})
	svc, pid := m.engine.Scheduling, m.demoPractice
	pats, err := svc.Patients(ctx, pid, scheduling.PatientFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var pat *scheduling.Patient
	for _, p := range pats {
		if p.Phone != "" && p.Email != "" {
			pat = p
			break
		}
	}
	provs, err := svc.Providers(ctx, pid, scheduling.ProviderFilter{Limit: 50})
	if err != nil || pat == nil {
		t.Fatalf("demo patients %d, providers: %v", len(pats), err)
	}
	vts, err := svc.VisitTypes(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	from := m.engine.Clock.Now().AddDate(0, 0, 7)
	for _, prov := range provs {
		for _, vt := range vts {
			slots, err := svc.OpenSlots(ctx, pid, scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{prov.ID}, VisitTypeID: vt.ID,
				From: from, To: from.AddDate(0, 0, 7)})
			if err != nil || len(slots) == 0 {
				continue
			}
			if _, err := svc.Book(ctx, pid, scheduling.BookRequest{PatientID: pat.ID, ProviderID: prov.ID, VisitTypeID: vt.ID,
				Start: slots[0].Start}); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("no open slot in the demo clinic")
}

// TestServeLogsMessagesWithoutProviders checks what `make run` shows: with
// no Twilio or SendGrid credentials, serve's dispatcher logs each message
// of the demo clinic's bookings, one line each, and reports it sent.
func TestServeLogsMessagesWithoutProviders(t *testing.T) {
	dir := t.TempDir()
	var out, logs bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &logs
	m.Getenv = env(map[string]string{"CAREBOOK_DEMO": "true", "CAREBOOK_DISPATCH_EVERY": "1h"})
	if err := m.ParseFlags([]string{"serve", "-addr", "127.0.0.1:0", "-dsn", "sqlite:" + filepath.Join(dir, "carebook.db"), "-audit-archive", ""}); err != nil {
		t.Fatal(err)
	}
	if m.Config.Notify.DispatchEvery != time.Hour {
		t.Fatalf("dispatch every %v", m.Config.Notify.DispatchEvery)
	}
	ctx := context.Background()
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if m.dispatcher == nil {
		t.Fatal("serve started no dispatcher")
	}
	bookDemoVisit(t, m)
	// The scheduled run is an hour away: drive the dispatcher directly.
	st, err := m.dispatcher.Drain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent == 0 || st.Dead != 0 {
		t.Fatalf("dispatch = %+v, want the demo's messages sent", st)
	}
	var sms, email int
	for line := range strings.Lines(logs.String()) {
		if !strings.Contains(line, "msg=\"message (not sent: no provider configured)\"") {
			continue
		}
		switch {
		case strings.Contains(line, "channel=sms to=+") && strings.Contains(line, " kind=") && strings.Contains(line, " text="):
			sms++
		case strings.Contains(line, "channel=email to=") && strings.Contains(line, " text="):
			email++
		}
	}
	if sms == 0 || email == 0 || sms+email != st.Sent {
		t.Errorf("logged %d SMS and %d emails, sent %d:\n%s", sms, email, st.Sent, logs.String())
	}
	if !strings.Contains(logs.String(), "SMS are logged, not sent") {
		t.Errorf("no warning that SMS are not sent")
	}
}

// TestNotifyFlags checks the notification flags, their environment
// variables and their validation.
func TestNotifyFlags(t *testing.T) {
	m := NewMain()
	m.Stderr = &bytes.Buffer{}
	m.Getenv = env(map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "tok", "TWILIO_FROM": "+12025550100",
		"SENDGRID_API_KEY": "SG.x", "SENDGRID_EVENT_PUBLIC_KEY": "pk", "CAREBOOK_PUBLIC_URL": "https://clinic.example",
		"TWILIO_BASE_URL": "https://api.dublin.ie1.twilio.com", "SENDGRID_BASE_URL": "https://api.eu.sendgrid.com", "CAREBOOK_DISPATCH_LEASE": "30s", "SENDGRID_ACTIVITY_LAG": "3m"})
	if err := m.ParseFlags([]string{"-sendgrid-from", "desk@clinic.example", "-twilio-from", "+12025550199",
		"-sendgrid-base-url", "http://127.0.0.1:9"}); err != nil {
		t.Fatal(err)
	}
	c := m.Config.Notify
	if c.TwilioAccountSID != "AC1" || c.TwilioAuthToken != "tok" || c.TwilioFrom != "+12025550199" || c.SendGridAPIKey != "SG.x" ||
		c.SendGridFrom != "desk@clinic.example" || c.SendGridEventKey != "pk" || c.PublicURL != "https://clinic.example" || c.DispatchEvery != 5*time.Second ||
		c.TwilioBaseURL != "https://api.dublin.ie1.twilio.com" || c.SendGridBaseURL != "http://127.0.0.1:9" || c.DispatchLease != 30*time.Second ||
		c.SendGridActivityLag != 3*time.Minute {
		t.Errorf("notify config = %+v", c)
	}
	for _, args := range [][]string{
		{"-dispatch-every", "0s"},
		{"-link-key", "c2hvcnQ="},
		{"-twilio-account-sid", "AC1"},
		{"-public-url", "clinic.example"},
		{"-twilio-base-url", "api.twilio.com"},
		{"-sendgrid-base-url", "ftp://api.sendgrid.com"},
		{"-dispatch-lease", "0s"},
		{"-sendgrid-activity-lag", "-1s"},
	} {
		m := NewMain()
		m.Stderr = &bytes.Buffer{}
		m.Getenv = env(nil)
		if err := m.ParseFlags(args); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestTwilioStatusCallbackPerPractice checks that SMS sent through Twilio
// ask for their status callbacks at their practice's webhook.
func TestTwilioStatusCallbackPerPractice(t *testing.T) {
	f := fakeprovider.NewTwilio("AC1", "tok")
	t.Cleanup(f.Close)
	p, err := newPracticeTwilio(twilio.Config{AccountSID: "AC1", AuthToken: "tok", DefaultFrom: "+12025550100",
		BaseURL: f.URL(), HTTPClient: f.Client()}, "https://clinic.example/")
	if err != nil {
		t.Fatal(err)
	}
	practices := []uuid.UUID{uuid.New(), uuid.New()}
	for _, pr := range append(practices, practices[0]) {
		m := &notify.Message{ID: uuid.New(), PracticeID: pr, Channel: notify.SMS, To: "+12025550143", Text: "hi"}
		if _, err := p.Send(context.Background(), notify.Outgoing{Message: m}); err != nil {
			t.Fatal(err)
		}
	}
	got := f.Messages()
	if len(got) != 3 || len(p.by) != 2 {
		t.Fatalf("sent %d through %d senders", len(got), len(p.by))
	}
	for i, pr := range []uuid.UUID{practices[0], practices[1], practices[0]} {
		want := "https://clinic.example/webhooks/twilio/" + pr.String() + "/status?m=" + got[i].MessageID
		if got[i].StatusCallback != want {
			t.Errorf("callback %d = %q, want %q", i, got[i].StatusCallback, want)
		}
	}
}
