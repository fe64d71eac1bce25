package sendgrid_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/carebook/carebook/notify/sendgrid"
	"github.com/google/uuid"
)

const key = "SG.test-key"

// mustFake starts a fake SendGrid and a Sender pointed at it.
func mustFake(tb testing.TB, timeout time.Duration) (*fakeprovider.SendGrid, *sendgrid.Sender) {
	tb.Helper()
	f := fakeprovider.NewSendGrid(key)
	tb.Cleanup(f.Close)
	s, err := sendgrid.New(sendgrid.Config{APIKey: key, DefaultFrom: "noreply@carebook.example",
		DefaultFromName: "carebook", Host: f.URL(), Timeout: timeout})
	if err != nil {
		tb.Fatal(err)
	}
	return f, s
}

func outgoing() notify.Outgoing {
	return notify.Outgoing{Message: &notify.Message{ID: uuid.New(), PracticeID: uuid.New(), Channel: notify.Email,
		To: "sam@example.com", Subject: "Your visit", Text: "See you Tuesday.", HTML: "<p>See you <b>Tuesday</b>.</p>"}}
}

func TestSendSuccess(t *testing.T) {
	f, s := mustFake(t, time.Second)
	out := outgoing()
	r, err := s.Send(context.Background(), out)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	mails := f.Mails()
	if len(mails) != 1 {
		t.Fatalf("fake got %d mails, want 1", len(mails))
	}
	m := mails[0]
	if r.ProviderID == "" || r.ProviderID != m.MessageID {
		t.Errorf("ProviderID = %q, fake's X-Message-Id %q", r.ProviderID, m.MessageID)
	}
	if m.From != "noreply@carebook.example" || m.FromName != "carebook" || m.To[0] != out.Message.To ||
		m.Subject != out.Message.Subject || m.Text != out.Message.Text || m.HTML != out.Message.HTML {
		t.Errorf("fake got %+v", m)
	}
	if m.OutboxID() != out.Message.ID.String() || m.CustomArgs[sendgrid.ArgPracticeID] != out.Message.PracticeID.String() {
		t.Errorf("custom args = %v", m.CustomArgs)
	}

	out.From, out.FromName, out.Message.HTML = "desk@harbor.example", "Harbor Family Practice", ""
	if _, err := s.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	m = f.Mails()[1]
	if m.From != out.From || m.FromName != out.FromName || m.HTML != "" {
		t.Errorf("second mail = %+v", m)
	}
	if f.Duplicates() != 1 {
		t.Errorf("Duplicates = %d, want 1", f.Duplicates())
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		delay     time.Duration
		permanent bool
	}{
		{"bad request", 400, 0, true},
		{"unauthorized", 401, 0, true},
		{"forbidden sender", 403, 0, true},
		{"too large", 413, 0, true},
		{"rate limited", 429, 0, false},
		{"server error", 500, 0, false},
		{"unavailable", 503, 0, false},
		{"timeout", 0, time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, s := mustFake(t, 100*time.Millisecond)
			f.FailNext(1, tt.status, 0)
			f.SetDelay(tt.delay)
			_, err := s.Send(context.Background(), outgoing())
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := notify.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			var e *sendgrid.Error
			if tt.status != 0 && (!errors.As(err, &e) || e.StatusCode != tt.status || e.Message != "injected failure") {
				t.Errorf("error %v is not a *sendgrid.Error with status %d", err, tt.status)
			}
			if f.Count() != 0 {
				t.Errorf("fake recorded %d mails", f.Count())
			}
		})
	}
}

func TestSendRefusals(t *testing.T) {
	f := fakeprovider.NewSendGrid(key)
	t.Cleanup(f.Close)
	s, err := sendgrid.New(sendgrid.Config{APIKey: "SG.wrong", DefaultFrom: "a@b.example", Host: f.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), outgoing()); !notify.IsPermanent(err) {
		t.Errorf("wrong key: err = %v, want permanent", err)
	}
	if _, err := s.Send(context.Background(), notify.Outgoing{Message: &notify.Message{To: "x@y.example"}}); !notify.IsPermanent(err) {
		t.Errorf("no content: err = %v, want permanent", err)
	}
	noFrom, _ := sendgrid.New(sendgrid.Config{APIKey: key, Host: f.URL()})
	if _, err := noFrom.Send(context.Background(), outgoing()); !notify.IsPermanent(err) {
		t.Errorf("no sender: err = %v, want permanent", err)
	}
	if _, err := sendgrid.New(sendgrid.Config{}); err == nil {
		t.Error("New without APIKey succeeded")
	}
	if f.Count() != 0 {
		t.Errorf("fake recorded %d mails", f.Count())
	}
}

func TestSendNetworkError(t *testing.T) {
	f := fakeprovider.NewSendGrid(key)
	host := f.URL()
	f.Close()
	s, _ := sendgrid.New(sendgrid.Config{APIKey: key, DefaultFrom: "a@b.example", Host: host, HTTPClient: &http.Client{}})
	if _, err := s.Send(context.Background(), outgoing()); err == nil || notify.IsPermanent(err) {
		t.Errorf("closed server: err = %v, want temporary", err)
	}
}

func BenchmarkSend(b *testing.B) {
	_, s := mustFake(b, time.Second)
	out := outgoing()
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Send(ctx, out); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestFind asks the fake SendGrid's Email Activity API about a mail it
// has (by the carebook_message_id custom argument), one it has not, and
// while it fails.
func TestFind(t *testing.T) {
	f, s := mustFake(t, time.Second)
	ctx := context.Background()
	sent := outgoing()
	r, err := s.Send(ctx, sent)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, outgoing()); err != nil {
		t.Fatal(err)
	}
	got, found, err := s.Find(ctx, sent.Message)
	if err != nil || !found || got.ProviderID != r.ProviderID {
		t.Errorf("Find of a sent mail = %+v, %v, %v; want %s", got, found, err, r.ProviderID)
	}
	if _, found, err := s.Find(ctx, outgoing().Message); err != nil || found {
		t.Errorf("Find of an unsent mail = %v, %v; want not found", found, err)
	}
	f.FailNext(1, http.StatusServiceUnavailable, 0)
	if _, _, err := s.Find(ctx, sent.Message); err == nil || notify.IsPermanent(err) {
		t.Errorf("Find while SendGrid fails = %v, want a temporary error", err)
	}
	f.FailNext(1, http.StatusForbidden, 0)
	if _, _, err := s.Find(ctx, sent.Message); !notify.IsPermanent(err) {
		t.Errorf("Find refused = %v, want a permanent error", err)
	}
}

// TestRecordLag: the Sender waits out SendGrid's activity lag before a
// mail it does not find is sent again; Config.ActivityLag sets it.
func TestRecordLag(t *testing.T) {
	for cfg, want := range map[time.Duration]time.Duration{0: sendgrid.DefaultActivityLag, time.Minute: time.Minute} {
		s, err := sendgrid.New(sendgrid.Config{APIKey: "SG.x", ActivityLag: cfg})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.RecordLag(); got != want {
			t.Errorf("ActivityLag %v: RecordLag = %v, want %v", cfg, got, want)
		}
	}
}
