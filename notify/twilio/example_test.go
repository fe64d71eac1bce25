package twilio_test

import (
	"context"
	"fmt"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/carebook/carebook/notify/twilio"
	"github.com/google/uuid"
)

// A Sender pointed at the fake Twilio: the real SDK, a local server.
func ExampleSender() {
	fake := fakeprovider.NewTwilio("AC123", "token")
	defer fake.Close()
	s, err := twilio.New(twilio.Config{
		AccountSID: "AC123", AuthToken: "token", DefaultFrom: "+15005550006",
		StatusCallbackURL: "https://carebook.example/hooks/twilio/status",
		BaseURL:           fake.URL(), // "" in production
	})
	if err != nil {
		panic(err)
	}
	m := &notify.Message{ID: uuid.MustParse("0190c2b6-0001-7000-8000-000000000001"), To: "+15005550001", Text: "See you Tuesday at 9."}
	r, err := s.Send(context.Background(), notify.Outgoing{Message: m})
	if err != nil {
		panic(err)
	}
	sms := fake.Messages()[0]
	fmt.Println(r.ProviderID == sms.SID, r.Status)
	fmt.Println(sms.To, sms.From, sms.Body)
	fmt.Println(sms.StatusCallback)
	// Output:
	// true queued
	// +15005550001 +15005550006 See you Tuesday at 9.
	// https://carebook.example/hooks/twilio/status?m=0190c2b6-0001-7000-8000-000000000001
}
