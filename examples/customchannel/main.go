// Command customchannel shows how an integrator adds a channel of their own
// to carebook: a Sender that posts each message as JSON to a chat webhook.
// It runs against a local stand-in for the chat service and prints what
// the service received and how each failure was classified.
//
//	go run ./examples/customchannel
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"github.com/carebook/carebook/notify"
	"github.com/google/uuid"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// Chat is the channel this example adds.
const Chat notify.Channel = "chat"

// ChatSender delivers messages to a chat service's incoming webhook: one
// POST of JSON per message. It keeps notify.Sender's contract: safe for
// concurrent use, bounded by ctx, never retrying by itself, and marking
// failures that a retry cannot fix with notify.Permanent.
type ChatSender struct {
	URL    string // the webhook
	Client *http.Client
}

var _ notify.Sender = (*ChatSender)(nil)

// Channel is Chat.
func (s *ChatSender) Channel() notify.Channel { return Chat }

// chatPost is the body the chat service takes.
type chatPost struct {
	Room string `json:"room"`
	Text string `json:"text"`
	// Ref lets the service drop a repeated post, and comes back in receipts.
	Ref string `json:"ref"`
}

// Send posts out's message. A 2xx answer carries the service's post ID; a
// 4xx other than 429 is permanent (no such room, a refused token); 429, 5xx
// and network failures are temporary.
func (s *ChatSender) Send(ctx context.Context, out notify.Outgoing) (notify.Receipt, error) {
	m := out.Message
	body, err := json.Marshal(chatPost{Room: m.To, Text: m.Text, Ref: m.ID.String()})
	if err != nil {
		return notify.Receipt{}, notify.Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return notify.Receipt{}, notify.Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := s.Client.Do(req)
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("chat: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		err := fmt.Errorf("chat: %s", res.Status)
		if res.StatusCode/100 == 4 && res.StatusCode != http.StatusTooManyRequests {
			return notify.Receipt{}, notify.Permanent(err)
		}
		return notify.Receipt{}, err
	}
	var ack struct{ ID string }
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&ack); err != nil {
		return notify.Receipt{}, fmt.Errorf("chat: unreadable answer: %w", err)
	}
	return notify.Receipt{ProviderID: ack.ID, Status: "posted"}, nil
}

// chatService stands in for the chat service: it knows one room, is down
// for its first request, and prints what it receives.
type chatService struct {
	mu    sync.Mutex
	w     io.Writer
	calls int
}

func (c *chatService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	var p chatPost
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch {
	case c.calls == 1:
		http.Error(w, "warming up", http.StatusServiceUnavailable)
	case p.Room != "#front-desk":
		http.Error(w, "no such room", http.StatusNotFound)
	default:
		fmt.Fprintf(c.w, "chat service got %s in %s: %q\n", p.Ref[:8], p.Room, p.Text)
		fmt.Fprintf(w, `{"id":"post-%d"}`, c.calls)
	}
}

// run sends three messages through a ChatSender, retrying a temporary
// failure the way carebook's dispatcher would, and writes what happened to w.
func run(w io.Writer) error {
	srv := httptest.NewServer(&chatService{w: w})
	defer srv.Close()
	var s notify.Sender = &ChatSender{URL: srv.URL, Client: srv.Client()}

	msgs := []*notify.Message{
		{ID: uuid.MustParse("0190c2b6-0001-7000-8000-000000000001"), Channel: Chat, To: "#front-desk",
			Text: "New request: Sam Rivera, Tue 09:00 with Dr. Park"},
		{ID: uuid.MustParse("0190c2b6-0002-7000-8000-000000000002"), Channel: Chat, To: "#nowhere",
			Text: "This room does not exist"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, m := range msgs {
		for attempt := 1; ; attempt++ {
			r, err := s.Send(ctx, notify.Outgoing{Message: m})
			switch {
			case err == nil:
				fmt.Fprintf(w, "to %s, attempt %d: sent, provider ID %s\n", m.To, attempt, r.ProviderID)
			case notify.IsPermanent(err):
				fmt.Fprintf(w, "to %s, attempt %d: permanent failure, not retried (%v)\n", m.To, attempt, errors.Unwrap(err))
			case attempt < 3:
				fmt.Fprintf(w, "to %s, attempt %d: temporary failure, retry later (%v)\n", m.To, attempt, err)
				continue
			default:
				return err
			}
			break
		}
	}
	return nil
}
