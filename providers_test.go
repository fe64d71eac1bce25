package carebook_test

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/carebook/carebook/notify/sendgrid"
	"github.com/carebook/carebook/notify/twilio"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// providers are fake Twilio and SendGrid servers with the real SDK senders
// pointed at them.
type providers struct {
	twilio   *fakeprovider.Twilio
	sendgrid *fakeprovider.SendGrid
	sms      *twilio.Sender
	email    *sendgrid.Sender
}

func newProviders(t testing.TB) *providers {
	t.Helper()
	// The senders keep their own transports (many idle connections per
	// host), as in production; the fakes' httptest clients keep two.
	p := &providers{twilio: fakeprovider.NewTwilio("ACtest", "twiliotoken0"), sendgrid: fakeprovider.NewSendGrid("SG.test")}
	t.Cleanup(p.twilio.Close)
	t.Cleanup(p.sendgrid.Close)
	var err error
	p.sms, err = twilio.New(twilio.Config{AccountSID: "ACtest", AuthToken: "twiliotoken0", DefaultFrom: "+12025550100",
		StatusCallbackURL: "https://clinic.example/webhooks/twilio/status", BaseURL: p.twilio.URL(),
		Timeout: 2 * time.Second})
	require.NoError(t, err)
	p.email, err = sendgrid.New(sendgrid.Config{APIKey: "SG.test", DefaultFrom: "clinic@example.org", Host: p.sendgrid.URL(),
		Timeout: 2 * time.Second})
	require.NoError(t, err)
	return p
}

// TestNotifyThroughProviders runs the whole path against fake Twilio and
// SendGrid servers with the real SDK clients: booking, confirmation,
// reminder, cancel by reply, a provider outage (retried) and an invalid
// number (dead at once, not retried).
func TestNotifyThroughProviders(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		p := newProviders(t)
		ctx := context.Background()
		d := c.e.NewDispatcher(notify.DispatcherConfig{Backoff: time.Minute}, p.sms, p.email)

		a := c.book(t, c.at(3, 5, 10, 0))
		p.twilio.FailNext(1, 503, 0) // Twilio is down for the first confirmation
		s, err := d.Drain(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, s.Sent, "the email went out")
		assert.Equal(t, 1, s.Retried, "the SMS waits for a retry")
		c.clk.Advance(2 * time.Minute)
		_, err = d.Drain(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, p.twilio.Count())
		sms := p.twilio.Messages()[0]
		assert.Equal(t, "+12025550143", sms.To)
		assert.Equal(t, "+12025550100", sms.From)
		assert.Contains(t, sms.Body, "is confirmed for Thu Mar 5 at 10:00 AM")
		box := c.outbox(t, a.ID)
		assert.Equal(t, sms.MessageID, box["confirmed/sms"].ID.String(), "the status callback names the outbox message")
		assert.Equal(t, sms.SID, box["confirmed/sms"].ProviderID)
		assert.Equal(t, 2, box["confirmed/sms"].Attempts)
		mail := p.sendgrid.Mails()
		require.Len(t, mail, 1)

		c.clk.Set(c.at(3, 4, 10, 0))
		_, err = d.Drain(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, p.twilio.Count())
		assert.Contains(t, p.twilio.Messages()[1].Body, "Reply C to cancel")

		reply, err := c.e.Notify.HandleSMS(ctx, notify.Inbound{PracticeID: c.practice, From: sms.To, Body: "Cancel", ProviderID: "SMin1"})
		require.NoError(t, err)
		assert.Contains(t, reply.Text, "is canceled")
		c.clk.Set(c.at(3, 5, 9, 0))
		_, err = d.Drain(ctx)
		require.NoError(t, err)
		assert.Equal(t, 3, p.twilio.Count(), "confirmation, one reminder, cancellation: the 2-hour reminder never went")
		assert.Contains(t, p.twilio.Messages()[2].Body, "is canceled")
		assert.Zero(t, p.twilio.Duplicates())
		assert.Zero(t, p.sendgrid.Duplicates())

		// An invalid number: Twilio answers 400 with 21211; dead at once.
		bad, err := c.e.Scheduling.CreatePatient(c.staff, c.practice, scheduling.PatientInput{GivenName: "Bob", FamilyName: "Bad",
			BirthDate: "1980-01-01", Phone: "+12025550188"})
		require.NoError(t, err)
		b, err := c.e.Scheduling.Book(c.staff, c.practice, scheduling.BookRequest{PatientID: bad.ID, ProviderID: c.provider,
			VisitTypeID: c.vt, Start: c.at(3, 12, 10, 0)})
		require.NoError(t, err)
		p.twilio.FailNext(1, 400, 21211)
		_, err = d.Drain(ctx)
		require.NoError(t, err)
		m := c.outbox(t, b.ID)["confirmed/sms"]
		assert.Equal(t, notify.StatusDead, m.Status)
		assert.Equal(t, 1, m.Attempts)
		assert.Contains(t, m.LastError, "21211")
		c.clk.Advance(time.Hour)
		before := p.twilio.Requests()
		_, err = d.Drain(ctx)
		require.NoError(t, err)
		assert.Equal(t, before, p.twilio.Requests(), "a permanent error is not retried")
	})
}
