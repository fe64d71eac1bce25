package twilio_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/carebook/carebook/notify/twilio"
	"github.com/google/uuid"
	"github.com/twilio/twilio-go/client"
)

const (
	sid   = "AC0123456789abcdef0123456789abcdef"
	token = "f00dfacef00dfacef00dfacef00dface"
)

// mustFake starts a fake Twilio and a Sender pointed at it.
func mustFake(tb testing.TB, timeout time.Duration) (*fakeprovider.Twilio, *twilio.Sender) {
	tb.Helper()
	f := fakeprovider.NewTwilio(sid, token)
	tb.Cleanup(f.Close)
	s, err := twilio.New(twilio.Config{AccountSID: sid, AuthToken: token, DefaultFrom: "+15005550006",
		StatusCallbackURL: "https://carebook.example/hooks/twilio/status", BaseURL: f.URL(), Timeout: timeout})
	if err != nil {
		tb.Fatal(err)
	}
	return f, s
}

func outgoing(to string) notify.Outgoing {
	return notify.Outgoing{Message: &notify.Message{ID: uuid.New(), Channel: notify.SMS, To: to, Text: "See you at 9 <tomorrow> & bring ID"}}
}

func TestSendSuccess(t *testing.T) {
	f, s := mustFake(t, time.Second)
	out := outgoing("+15005550001")
	r, err := s.Send(context.Background(), out)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := f.Messages()
	if len(msgs) != 1 {
		t.Fatalf("fake got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if r.ProviderID != m.SID || !strings.HasPrefix(r.ProviderID, "SM") || r.Status != "queued" {
		t.Errorf("Receipt = %+v, fake SID %s", r, m.SID)
	}
	if m.To != out.Message.To || m.From != "+15005550006" || m.Body != out.Message.Text {
		t.Errorf("fake got %+v", m)
	}
	if got, want := m.StatusCallback, "https://carebook.example/hooks/twilio/status?m="+out.Message.ID.String(); got != want {
		t.Errorf("StatusCallback = %q, want %q", got, want)
	}
	out.From = "+15005550009"
	if _, err := s.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if m := f.Messages()[1]; m.From != "+15005550009" {
		t.Errorf("From = %q, want the Outgoing's", m.From)
	}
	if got := f.Duplicates(); got != 1 {
		t.Errorf("Duplicates = %d after sending one outbox ID twice, want 1", got)
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name         string
		status, code int
		delay        time.Duration
		permanent    bool
	}{
		{"invalid To", 400, 21211, 0, true},
		{"unsubscribed", 400, 21610, 0, true},
		{"forbidden", 403, 20003, 0, true},
		{"server error", 500, 20500, 0, false},
		{"bad gateway", 502, 0, 0, false},
		{"rate limited", 429, 20429, 0, false},
		{"timeout", 0, 0, time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, s := mustFake(t, 100*time.Millisecond)
			f.FailNext(1, tt.status, tt.code)
			f.SetDelay(tt.delay)
			_, err := s.Send(context.Background(), outgoing("+15005550001"))
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := notify.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
			var te *client.TwilioRestError
			if tt.status != 0 && (!errors.As(err, &te) || te.Code != tt.code) {
				t.Errorf("error %v does not carry Twilio code %d", err, tt.code)
			}
			if f.Count() != 0 {
				t.Errorf("fake recorded %d messages, want 0", f.Count())
			}
		})
	}
}

func TestSendRefusesBadInput(t *testing.T) {
	_, s := mustFake(t, time.Second)
	ctx := context.Background()
	if _, err := s.Send(ctx, notify.Outgoing{Message: &notify.Message{Text: "hi"}}); !notify.IsPermanent(err) {
		t.Errorf("no To: err = %v, want permanent", err)
	}
	if _, err := twilio.New(twilio.Config{AccountSID: sid}); err == nil {
		t.Error("New without AuthToken succeeded")
	}
	if _, err := twilio.New(twilio.Config{AccountSID: sid, AuthToken: token, BaseURL: "localhost:1"}); err == nil {
		t.Error("New with a relative BaseURL succeeded")
	}
}

func TestSendWrongCredentials(t *testing.T) {
	f := fakeprovider.NewTwilio(sid, token)
	t.Cleanup(f.Close)
	s, err := twilio.New(twilio.Config{AccountSID: sid, AuthToken: "wrong0token", DefaultFrom: "+15005550006", BaseURL: f.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), outgoing("+15005550001")); !notify.IsPermanent(err) {
		t.Errorf("err = %v, want permanent", err)
	}
}

func TestSendHonoursContext(t *testing.T) {
	f, s := mustFake(t, 10*time.Second)
	f.SetDelay(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Send(ctx, outgoing("+15005550001"))
	if err == nil || notify.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a temporary deadline error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send took %v past its context's deadline", d)
	}
}

func BenchmarkSend(b *testing.B) {
	_, s := mustFake(b, time.Second)
	out := outgoing("+15005550001")
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

// TestFind asks the fake Twilio's Messages list, through twilio-go, about
// a message it has, one it has not, one of the same text before the
// window, and while it fails.
func TestFind(t *testing.T) {
	f, s := mustFake(t, time.Second)
	ctx := context.Background()
	now := time.Now().UTC()
	sent := outgoing("+15005550001")
	sent.Message.DueAt = now
	// Other messages to the same number and to another, over more than
	// one page of the list.
	for i := range 60 {
		o := outgoing("+15005550001")
		o.Message.Text = "other " + string(rune('a'+i%26))
		if _, err := s.Send(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.Send(ctx, sent)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, outgoing("+15005550002")); err != nil {
		t.Fatal(err)
	}
	got, found, err := s.Find(ctx, sent.Message)
	if err != nil || !found || got.ProviderID != r.ProviderID {
		t.Errorf("Find of a sent message = %+v, %v, %v; want %s", got, found, err, r.ProviderID)
	}
	other := outgoing("+15005550001")
	other.Message.Text, other.Message.DueAt = "never sent", now
	if _, found, err := s.Find(ctx, other.Message); err != nil || found {
		t.Errorf("Find of an unsent message = %v, %v; want not found", found, err)
	}
	old := *sent.Message
	for _, later := range []time.Duration{22 * time.Hour, time.Hour} {
		// The 2-hour reminder repeats the text of the day-before one: it
		// is not the message Twilio has from before it was due.
		old.DueAt = now.Add(later)
		if _, found, err := s.Find(ctx, &old); err != nil || found {
			t.Errorf("Find of a message due %v after the one sent = %v, %v; want not found", later, found, err)
		}
	}
	f.FailNext(1, 503, 20500)
	if _, _, err := s.Find(ctx, sent.Message); err == nil || notify.IsPermanent(err) {
		t.Errorf("Find while Twilio fails = %v, want a temporary error", err)
	}
	f.FailNext(1, 401, 20003)
	if _, _, err := s.Find(ctx, sent.Message); !notify.IsPermanent(err) {
		t.Errorf("Find refused = %v, want a permanent error", err)
	}
}
