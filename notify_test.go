package carebook_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a notify.Sender that keeps what it was given and counts the
// sends of each message, so that tests see duplicates.
type recorder struct {
	ch notify.Channel
	mu sync.Mutex
	// sends counts the sends of each outbox message ID.
	sends map[uuid.UUID]int
	got   []notify.Message
	// fail, when set, decides a send's error.
	fail func(m *notify.Message) error
}

func newRecorder(ch notify.Channel) *recorder {
	return &recorder{ch: ch, sends: map[uuid.UUID]int{}}
}

func (r *recorder) Channel() notify.Channel { return r.ch }

func (r *recorder) Send(ctx context.Context, out notify.Outgoing) (notify.Receipt, error) {
	if r.fail != nil {
		if err := r.fail(out.Message); err != nil {
			return notify.Receipt{}, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sends[out.Message.ID]++
	r.got = append(r.got, *out.Message)
	return notify.Receipt{ProviderID: fmt.Sprintf("%s-%d", r.ch, len(r.got)), Status: "queued"}, nil
}

// sent returns the messages sent so far, and how many were sent twice.
func (r *recorder) sent() (msgs []notify.Message, dups int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.sends {
		if n > 1 {
			dups += n - 1
		}
	}
	return append([]notify.Message(nil), r.got...), dups
}

func (r *recorder) kinds() []notify.Kind {
	msgs, _ := r.sent()
	var out []notify.Kind
	for _, m := range msgs {
		out = append(out, m.Kind)
	}
	return out
}

// clinic is a practice with one provider, one visit type, a weekday block
// and a patient with a phone and an email, on an engine with a settable clock.
type clinic struct {
	e        *carebook.Engine
	st       *sqlstore.Store
	clk      *clock.Fixed
	practice tenant.PracticeID
	loc      *time.Location
	provider scheduling.ProviderID
	vt       scheduling.VisitTypeID
	patient  *scheduling.Patient
	staff    context.Context
}

// newClinic builds a clinic in New York on st; now is 2026-03-02 12:00 local.
func newClinic(t testing.TB, st *sqlstore.Store) *clinic {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	c := &clinic{clk: clock.NewFixed(time.Date(2026, 3, 2, 12, 0, 0, 0, ny)), loc: ny, st: st}
	key := []byte("test link key, thirty-two bytes!")
	c.e = carebook.NewWithStore(st, carebook.WithClock(c.clk), carebook.WithLinks(key, "https://clinic.example"))
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.Staff, ID: uuid.NewString()})
	c.staff = ctx
	g, err := c.e.Tenants.CreateGroup(ctx, "Harbor Health")
	require.NoError(t, err)
	p, err := c.e.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Pediatrics"})
	require.NoError(t, err)
	c.practice = p.ID
	l, err := c.e.Tenants.CreateLocation(ctx, p.ID, tenant.NewLocation{Name: "Main Street", TimeZone: "America/New_York",
		Address: tenant.Address{Line1: "1 Main St", City: "Springfield", Country: "US"}})
	require.NoError(t, err)
	prov, err := c.e.Scheduling.CreateProvider(ctx, p.ID, scheduling.NewProvider{NPI: "1234567893", GivenName: "Grace", FamilyName: "Hopper",
		Specialties: []string{"pediatrics"}, LocationIDs: []tenant.LocationID{l.ID}})
	require.NoError(t, err)
	c.provider = prov.ID
	vt, err := c.e.Scheduling.CreateVisitType(ctx, p.ID, scheduling.NewVisitType{Name: "Check-up", Duration: 30 * time.Minute})
	require.NoError(t, err)
	c.vt = vt.ID
	_, err = c.e.Scheduling.CreateBlock(ctx, p.ID, scheduling.NewBlock{ProviderID: prov.ID, BlockInput: scheduling.BlockInput{
		LocationID: l.ID, Start: time.Date(2026, 3, 2, 7, 0, 0, 0, ny), End: time.Date(2026, 3, 2, 19, 0, 0, 0, ny),
		RRule: "FREQ=DAILY;COUNT=60"}})
	require.NoError(t, err)
	c.patient, err = c.e.Scheduling.CreatePatient(ctx, p.ID, scheduling.PatientInput{GivenName: "Ada", FamilyName: "Lovelace",
		BirthDate: "2015-12-10", Phone: "+12025550143", Email: "ada@example.com", Language: "en"})
	require.NoError(t, err)
	return c
}

// at is a local time in the clinic's zone.
func (c *clinic) at(month time.Month, day, hour, min int) time.Time {
	return time.Date(2026, month, day, hour, min, 0, 0, c.loc)
}

// book books the patient at start as front desk staff (confirmed at once).
func (c *clinic) book(t testing.TB, start time.Time) *scheduling.Appointment {
	t.Helper()
	a, err := c.e.Scheduling.Book(c.staff, c.practice, scheduling.BookRequest{PatientID: c.patient.ID, ProviderID: c.provider,
		VisitTypeID: c.vt, Start: start})
	require.NoError(t, err)
	return a
}

// outbox lists the practice's messages about an appointment, by kind and
// channel.
func (c *clinic) outbox(t *testing.T, appt uuid.UUID) map[string]*notify.Message {
	t.Helper()
	msgs, err := c.e.Notify.Messages(c.staff, c.practice, notify.MessageFilter{AppointmentID: &appt, Limit: 100})
	require.NoError(t, err)
	out := map[string]*notify.Message{}
	for _, m := range msgs {
		k := string(m.Kind) + "/" + string(m.Channel)
		if m.Kind == notify.KindReminder {
			k += "@" + m.DueAt.In(c.loc).Format("01-02 15:04")
		}
		out[k] = m
	}
	return out
}

func TestNotifyBookingRemindersAndCancelByReply(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		ctx := context.Background()
		sms, mail := newRecorder(notify.SMS), newRecorder(notify.Email)
		d := c.e.NewDispatcher(notify.DispatcherConfig{}, sms, mail)

		a := c.book(t, c.at(3, 5, 10, 0))
		box := c.outbox(t, a.ID)
		require.Contains(t, box, "confirmed/sms")
		require.Contains(t, box, "confirmed/email")
		for _, k := range []string{"reminder/sms@03-04 10:00", "reminder/email@03-04 10:00", "reminder/sms@03-05 08:00", "reminder/email@03-05 08:00"} {
			require.Contains(t, box, k, "outbox: %v", outboxKeys(box))
			assert.Equal(t, notify.StatusPending, box[k].Status)
		}
		assert.Contains(t, box["confirmed/sms"].Text, "Harbor Pediatrics: your Check-up with Grace Hopper is confirmed for Thu Mar 5 at 10:00 AM at Main Street.")
		assert.Contains(t, box["confirmed/email"].HTML, "https://clinic.example/l/", "the email has signed links")

		st1, err := d.Drain(ctx)
		require.NoError(t, err)
		assert.Equal(t, 2, st1.Sent, "the confirmations only: reminders are not due")
		assert.Equal(t, []notify.Kind{notify.KindConfirmed}, sms.kinds())

		c.clk.Set(c.at(3, 4, 10, 0))
		st2, err := d.Drain(ctx)
		require.NoError(t, err)
		assert.Equal(t, 2, st2.Sent)
		assert.Equal(t, []notify.Kind{notify.KindConfirmed, notify.KindReminder}, sms.kinds())

		// The patient answers the reminder with C: the visit is canceled, the
		// 2-hour reminders are withdrawn and a cancellation goes out.
		reply, err := c.e.Notify.HandleSMS(ctx, notify.Inbound{PracticeID: c.practice, From: "+1 202-555-0143", Body: " c ", ProviderID: "SM1"})
		require.NoError(t, err)
		assert.Equal(t, "Your visit on Thu Mar 5 at 10:00 AM is canceled.", reply.Text)
		assert.Equal(t, "cancel", reply.Action)
		require.NotNil(t, reply.PatientID)
		assert.Equal(t, c.patient.ID, *reply.PatientID)
		got, err := c.e.Scheduling.Appointment(c.staff, c.practice, a.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusCanceled, got.Status)
		hist, err := c.e.Scheduling.History(c.staff, c.practice, a.ID)
		require.NoError(t, err)
		last := hist[len(hist)-1]
		assert.Equal(t, "patient:"+c.patient.ID.String(), last.By, "canceled as the patient")
		box = c.outbox(t, a.ID)
		assert.Equal(t, notify.StatusDropped, box["reminder/sms@03-05 08:00"].Status)
		assert.Equal(t, notify.StatusDropped, box["reminder/email@03-05 08:00"].Status)

		// The same inbound message again (a provider retry or a replay) changes nothing.
		_, err = c.e.Notify.HandleSMS(ctx, notify.Inbound{PracticeID: c.practice, From: "+12025550143", Body: "C", ProviderID: "SM1"})
		require.Error(t, err)

		c.clk.Set(c.at(3, 5, 9, 0))
		_, err = d.Drain(ctx)
		require.NoError(t, err)
		smsSent, dups := sms.sent()
		assert.Zero(t, dups)
		assert.Equal(t, []notify.Kind{notify.KindConfirmed, notify.KindReminder, notify.KindCanceled}, sms.kinds())
		for _, m := range smsSent {
			assert.Equal(t, "+12025550143", m.To)
		}
		assert.Equal(t, []notify.Kind{notify.KindConfirmed, notify.KindReminder, notify.KindCanceled}, mail.kinds())

		usage, err := c.e.Notify.Usage(ctx, c.practice, c.at(3, 1, 0, 0), c.at(3, 6, 0, 0))
		require.NoError(t, err)
		assert.ElementsMatch(t, []notify.UsageCount{{Channel: notify.SMS, Count: 4}, {Channel: notify.Email, Count: 3}}, usage,
			"three SMS sent by the dispatcher and the reply")
	})
}

func outboxKeys(m map[string]*notify.Message) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestNotifyRescheduleRecomputesReminders(t *testing.T) {
	c := newClinic(t, sqltest.SQLite(t))
	a := c.book(t, c.at(3, 5, 10, 0))
	_, err := c.e.Scheduling.Reschedule(c.staff, c.practice, a.ID, scheduling.RescheduleRequest{Start: c.at(3, 10, 15, 0)})
	require.NoError(t, err)
	box := c.outbox(t, a.ID)
	assert.Equal(t, notify.StatusDropped, box["reminder/sms@03-04 10:00"].Status)
	assert.Equal(t, notify.StatusDropped, box["reminder/sms@03-05 08:00"].Status)
	assert.Equal(t, notify.StatusPending, box["reminder/sms@03-09 15:00"].Status)
	assert.Equal(t, notify.StatusPending, box["reminder/sms@03-10 13:00"].Status)
	require.Contains(t, box, "rescheduled/sms")
	assert.Contains(t, box["rescheduled/sms"].Text, "is now on Tue Mar 10 at 3:00 PM")
}

// TestNotifyReminderAcrossDST books a visit on the Sunday New York springs
// forward (2026-03-08, 02:00 → 03:00): the day-before reminder keeps the
// local wall clock time (23 real hours before), and quiet hours (21:00 to
// 08:00) hold the 2-hour one, due 07:00, until 08:00. A visit at 08:15 has
// its 2-hour reminder the evening before instead (08:00 is too close).
func TestNotifyReminderAcrossDST(t *testing.T) {
	c := newClinic(t, sqltest.SQLite(t))
	a := c.book(t, c.at(3, 8, 9, 0))
	box := c.outbox(t, a.ID)
	require.Contains(t, box, "reminder/sms@03-07 09:00", "outbox: %v", outboxKeys(box))
	assert.Equal(t, 23*time.Hour, a.Start.Sub(box["reminder/sms@03-07 09:00"].DueAt))
	require.Contains(t, box, "reminder/sms@03-08 08:00", "outbox: %v", outboxKeys(box))

	b := c.book(t, c.at(3, 9, 8, 15))
	box = c.outbox(t, b.ID)
	require.Contains(t, box, "reminder/sms@03-08 20:59", "outbox: %v", outboxKeys(box))
}

func TestNotifyOptOutHonoured(t *testing.T) {
	c := newClinic(t, sqltest.SQLite(t))
	ctx := context.Background()
	sms, mail := newRecorder(notify.SMS), newRecorder(notify.Email)
	d := c.e.NewDispatcher(notify.DispatcherConfig{}, sms, mail)
	a := c.book(t, c.at(3, 5, 10, 0))

	reply, err := c.e.Notify.HandleSMS(ctx, notify.Inbound{PracticeID: c.practice, From: "+12025550143", Body: "STOP", ProviderID: "SM2"})
	require.NoError(t, err)
	assert.Contains(t, reply.Text, "no longer")
	assert.Equal(t, "stop", reply.Action)
	box := c.outbox(t, a.ID)
	assert.Equal(t, notify.StatusDropped, box["confirmed/sms"].Status, "waiting SMS are dropped at once")
	assert.Equal(t, notify.StatusPending, box["confirmed/email"].Status, "email is another consent")

	b := c.book(t, c.at(3, 6, 11, 0))
	assert.NotContains(t, c.outbox(t, b.ID), "confirmed/sms", "no SMS is written for an opted-out patient")
	c.clk.Set(c.at(3, 6, 10, 0))
	_, err = d.Drain(ctx)
	require.NoError(t, err)
	assert.Empty(t, sms.kinds(), "no SMS at all after STOP")
	assert.NotEmpty(t, mail.kinds())

	hist, err := c.e.Notify.ConsentHistory(ctx, c.practice, c.patient.ID)
	require.NoError(t, err)
	require.Len(t, hist, 1)
	assert.Equal(t, "sms_opt_out", hist[0].Field)
	assert.Equal(t, "true", hist[0].Value)
	assert.Equal(t, "sms:STOP", hist[0].Source)

	_, err = c.e.Notify.HandleSMS(ctx, notify.Inbound{PracticeID: c.practice, From: "+12025550143", Body: "START", ProviderID: "SM3"})
	require.NoError(t, err)
	cc := c.book(t, c.at(3, 12, 11, 0))
	assert.Contains(t, c.outbox(t, cc.ID), "confirmed/sms", "START resumes SMS")
}

func TestNotifyUnknownNumberAndText(t *testing.T) {
	c := newClinic(t, sqltest.SQLite(t))
	ctx := context.Background()
	a := c.book(t, c.at(3, 5, 10, 0))
	for _, in := range []notify.Inbound{
		{PracticeID: c.practice, From: "+12025550199", Body: "C", ProviderID: "SM10"},
		{PracticeID: c.practice, From: "not a phone", Body: "C", ProviderID: "SM11"},
		{PracticeID: c.practice, From: "+12025550143", Body: "what time is it?", ProviderID: "SM12"},
	} {
		reply, err := c.e.Notify.HandleSMS(ctx, in)
		require.NoError(t, err)
		assert.NotEmpty(t, reply.Text)
		assert.Equal(t, "none", reply.Action)
	}
	got, err := c.e.Scheduling.Appointment(c.staff, c.practice, a.ID)
	require.NoError(t, err)
	assert.Equal(t, scheduling.StatusConfirmed, got.Status, "nothing changed")
}

// TestNotifyRequestInbox: a patient's request waits in the front desk inbox
// until someone confirms it.
func TestNotifyRequestInbox(t *testing.T) {
	c := newClinic(t, sqltest.SQLite(t))
	pctx := actor.With(context.Background(), actor.Actor{Kind: actor.Patient, ID: c.patient.ID.String()})
	a, err := c.e.Scheduling.Book(pctx, c.practice, scheduling.BookRequest{PatientID: c.patient.ID, ProviderID: c.provider,
		VisitTypeID: c.vt, Start: c.at(3, 5, 10, 0)})
	require.NoError(t, err)
	require.Equal(t, scheduling.StatusNew, a.Status)
	n, err := c.e.Notify.UnreadCount(c.staff, c.practice)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	box := c.outbox(t, a.ID)
	require.Contains(t, box, "requested/inapp")
	assert.NotContains(t, box, "confirmed/sms", "nothing to the patient before it is confirmed")

	_, err = c.e.Scheduling.Confirm(c.staff, c.practice, a.ID)
	require.NoError(t, err)
	n, err = c.e.Notify.UnreadCount(c.staff, c.practice)
	require.NoError(t, err)
	assert.Zero(t, n, "confirming clears the badge")
	box = c.outbox(t, a.ID)
	assert.Contains(t, box, "confirmed/sms")
	assert.Contains(t, box, "reminder/sms@03-04 10:00")
}

// A patient whose language has no templates (or who has none) gets the
// English wording with an English date, not English words around a
// day-first date.
func TestNotifyLanguageFallsBackWithItsDates(t *testing.T) {
	c := newClinic(t, sqltest.SQLite(t))
	for _, lang := range []string{"ko", "", "ar-EG"} {
		p, err := c.e.Scheduling.CreatePatient(c.staff, c.practice, scheduling.PatientInput{GivenName: "Min", FamilyName: "Ji " + lang,
			BirthDate: "1990-01-02", Phone: "+12025550199", Email: "min@example.com", Language: lang})
		require.NoError(t, err)
		a, err := c.e.Scheduling.Book(c.staff, c.practice, scheduling.BookRequest{PatientID: p.ID, ProviderID: c.provider,
			VisitTypeID: c.vt, Start: c.at(3, 5, 13, 0)})
		require.NoError(t, err)
		box := c.outbox(t, a.ID)
		require.Contains(t, box, "confirmed/sms")
		assert.Equal(t, "Harbor Pediatrics: your Check-up with Grace Hopper is confirmed for Thu Mar 5 at 1:00 PM at Main Street.",
			box["confirmed/sms"].Text, "language %q", lang)
		assert.Equal(t, "en", box["confirmed/sms"].Language, "the message says the language it is in")
		_, err = c.e.Scheduling.Cancel(c.staff, c.practice, a.ID, "test")
		require.NoError(t, err)
	}
	// A language with templates keeps its own dates.
	p, err := c.e.Scheduling.CreatePatient(c.staff, c.practice, scheduling.PatientInput{GivenName: "Ana", FamilyName: "Ruiz",
		BirthDate: "1990-01-02", Phone: "+12025550198", Email: "ana@example.com", Language: "es-MX"})
	require.NoError(t, err)
	a, err := c.e.Scheduling.Book(c.staff, c.practice, scheduling.BookRequest{PatientID: p.ID, ProviderID: c.provider,
		VisitTypeID: c.vt, Start: c.at(3, 6, 13, 0)})
	require.NoError(t, err)
	assert.Contains(t, c.outbox(t, a.ID)["confirmed/sms"].Text, "confirmada para el 06.03.2026 13:00")
}

// Messages offer a cancel (the email's link, "Reply C") only while it will
// work: the 2-hour reminder of a practice with a 24-hour cut-off says to
// call instead and carries no cancel link; the day-before one offers it.
func TestNotifyOffersCancelOnlyBeforeTheCutoff(t *testing.T) {
	c := newClinic(t, sqltest.SQLite(t))
	a := c.book(t, c.at(3, 5, 10, 0))
	box := c.outbox(t, a.ID)
	for k, can := range map[string]bool{"confirmed": true, "reminder@03-04 10:00": true, "reminder@03-05 08:00": false} {
		kind, at, _ := strings.Cut(k, "@")
		if at != "" {
			at = "@" + at
		}
		sms, mail := box[kind+"/sms"+at], box[kind+"/email"+at]
		require.NotNil(t, sms, k)
		require.NotNil(t, mail, k)
		assert.Equal(t, can, strings.Contains(mail.Text, "Cancel this visit: https://clinic.example/l/"), "%s email text: %s", k, mail.Text)
		assert.Equal(t, can, strings.Contains(mail.HTML, ">Cancel this visit</a>"), "%s email HTML: %s", k, mail.HTML)
		assert.Contains(t, mail.HTML, ">Confirm</a>", k)
		if kind == "reminder" {
			assert.Equal(t, can, strings.Contains(sms.Text, "Reply C to cancel"), "%s SMS: %s", k, sms.Text)
			assert.Equal(t, !can, strings.Contains(sms.Text, "to cancel, please call us"), "%s SMS: %s", k, sms.Text)
		}
	}
}
