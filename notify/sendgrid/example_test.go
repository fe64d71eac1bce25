package sendgrid_test

import (
	"context"
	"fmt"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/carebook/carebook/notify/sendgrid"
	"github.com/google/uuid"
)

// A Sender pointed at the fake SendGrid: the real SDK, a local server.
func ExampleSender() {
	fake := fakeprovider.NewSendGrid("SG.key")
	defer fake.Close()
	s, err := sendgrid.New(sendgrid.Config{
		APIKey: "SG.key", DefaultFrom: "noreply@carebook.example", DefaultFromName: "carebook",
		Host: fake.URL(), // "" in production
	})
	if err != nil {
		panic(err)
	}
	m := &notify.Message{ID: uuid.MustParse("0190c2b6-0001-7000-8000-000000000001"), To: "sam@example.com",
		Subject: "Your visit", Text: "See you Tuesday at 9."}
	out := notify.Outgoing{Message: m, From: "desk@harbor.example", FromName: "Harbor Family Practice"}
	r, err := s.Send(context.Background(), out)
	if err != nil {
		panic(err)
	}
	mail := fake.Mails()[0]
	fmt.Println(r.ProviderID == mail.MessageID)
	fmt.Println(mail.FromName, mail.From, mail.To, mail.Subject)
	fmt.Println(mail.OutboxID())
	// Output:
	// true
	// Harbor Family Practice desk@harbor.example [sam@example.com] Your visit
	// 0190c2b6-0001-7000-8000-000000000001
}
