package notifytest

import (
	"context"
	"errors"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/google/uuid"
)

var messageCases = []testCase{
	{"EnqueueRoundTrip", testEnqueueRoundTrip},
	{"EnqueueIsIdempotent", testEnqueueIdempotent},
	{"EnqueueRevivesDropped", testEnqueueRevivesDropped},
	{"EnqueueManyAndPage", testEnqueueManyAndPage},
	{"MessagesFilter", testMessagesFilter},
	{"TenantIsolation", testTenantIsolation},
	{"Drop", testDrop},
	{"Retry", testRetry},
	{"InAppInbox", testInAppInbox},
	{"Usage", testUsage},
	{"TxCommitsAndRollsBack", testTx},
}

func testEnqueueRoundTrip(e *Env) {
	f := e.MustFixture("Clinic")
	m := e.Msg(f, channel(notify.Email, "pat@example.com"), func(m *notify.Message) {
		m.Subject, m.HTML, m.Language = "Your visit", "<p>See you</p>", "fr"
	})
	e.MustEnqueue(m)
	e.eq(e.MustMessage(f.Practice.ID, m.ID), utcMessage(m), "Message")
	// A message about no patient or appointment keeps the nils.
	n := e.Msg(f, inApp, about(nil, nil))
	e.MustEnqueue(n)
	e.eq(e.MustMessage(f.Practice.ID, n.ID), utcMessage(n), "Message (in-app)")
	_, err := e.Store.Message(e.Ctx, f.Practice.ID, newID())
	e.wantKind(err, errs.KindNotFound, "Message(unknown)")
}

func testEnqueueIdempotent(e *Env) {
	f := e.MustFixture("Clinic")
	m := e.Msg(f)
	e.MustEnqueue(m)
	again := e.Msg(f, func(x *notify.Message) { x.Key, x.Text = m.Key, "other" })
	n, err := e.Store.Enqueue(e.Ctx, again)
	e.ok(err, "Enqueue again")
	e.eq(n, 0, "Enqueue of a taken key")
	e.eq(e.MustMessage(f.Practice.ID, m.ID).Text, m.Text, "Text after a second Enqueue")
	_, err = e.Store.Message(e.Ctx, f.Practice.ID, again.ID)
	e.wantKind(err, errs.KindNotFound, "the skipped message")
	// Taken keys are skipped within a batch too, and the rest written.
	fresh := e.Msg(f)
	n, err = e.Store.Enqueue(e.Ctx, again, fresh)
	e.ok(err, "Enqueue batch")
	e.eq(n, 1, "Enqueue of one new and one taken")
	// Sent messages are never replaced.
	e.setStatus(f, fresh, notify.StatusSent)
	n, err = e.Store.Enqueue(e.Ctx, e.Msg(f, func(x *notify.Message) { x.Key = fresh.Key }))
	e.ok(err, "Enqueue over a sent one")
	e.eq(n, 0, "Enqueue over a sent message")
	n, err = e.Store.Enqueue(e.Ctx)
	e.ok(err, "Enqueue()")
	e.eq(n, 0, "Enqueue of nothing")
}

// setStatus moves m to st the way the dispatcher would, for tests that need
// messages in later statuses.
func (e *Env) setStatus(f *Fixture, m *notify.Message, st notify.Status) {
	e.T.Helper()
	token := newID()
	claimed, err := e.Outbox.Claim(e.Ctx, token, m.DueAt, 1000, time.Minute)
	e.ok(err, "Claim")
	var rest []notify.Result
	found := false
	for _, c := range claimed {
		if c.ID == m.ID {
			found = true
		} else {
			rest = append(rest, notify.Result{ID: c.ID, Status: notify.StatusPending, DueAt: c.DueAt, At: m.DueAt})
		}
	}
	if !found {
		e.T.Fatalf("setStatus: message %s not claimable", m.ID)
	}
	if st == notify.StatusClaimed {
		e.releaseOthers(token, rest)
		return
	}
	all := append([]notify.Result{}, rest...)
	_, err = e.Outbox.MarkSending(e.Ctx, token, ids(claimed), m.DueAt, time.Minute)
	e.ok(err, "MarkSending")
	if st != notify.StatusSending {
		r := notify.Result{ID: m.ID, Status: st, At: m.DueAt, DueAt: m.DueAt}
		if st == notify.StatusSent {
			r.ProviderID = "prov-" + m.ID.String()
		} else {
			r.Error = "failed"
		}
		all = append(all, r)
	}
	e.ok(e.Outbox.Record(e.Ctx, token, all), "Record")
}

// releaseOthers puts back messages setStatus claimed by the way.
func (e *Env) releaseOthers(token uuid.UUID, rest []notify.Result) {
	e.T.Helper()
	if len(rest) == 0 {
		return
	}
	ids := make([]uuid.UUID, len(rest))
	for i, r := range rest {
		ids[i] = r.ID
	}
	_, err := e.Outbox.MarkSending(e.Ctx, token, ids, T0, time.Minute)
	e.ok(err, "MarkSending")
	e.ok(e.Outbox.Record(e.Ctx, token, rest), "Record")
}

func testEnqueueRevivesDropped(e *Env) {
	f := e.MustFixture("Clinic")
	m := e.MustEnqueue(e.Msg(f))[0]
	n, err := e.Store.Drop(e.Ctx, f.Practice.ID, notify.DropFilter{AppointmentID: &f.Appt.ID}, "canceled", T0)
	e.ok(err, "Drop")
	e.eq(n, 1, "Drop")
	revived := e.Msg(f, due(T0.Add(time.Hour)), func(x *notify.Message) { x.Key, x.Text = m.Key, "new time" })
	n, err = e.Store.Enqueue(e.Ctx, revived)
	e.ok(err, "Enqueue over a dropped one")
	e.eq(n, 1, "Enqueue over a dropped message")
	// The implementation may keep the old row ID or take the new one; the
	// content and status are the new message's.
	got, err := e.Store.Messages(e.Ctx, f.Practice.ID, notify.MessageFilter{})
	e.ok(err, "Messages")
	if len(got) != 1 {
		e.T.Fatalf("Messages = %d, want 1 (the key is unique)", len(got))
	}
	want := utcMessage(revived)
	want.ID = got[0].ID
	e.eq(got[0], want, "revived message")
	n, err = e.Store.Enqueue(e.Ctx, e.Msg(f, func(x *notify.Message) { x.Key = m.Key }))
	e.ok(err, "Enqueue over a revived one")
	e.eq(n, 0, "Enqueue over a waiting message")
}

func testEnqueueManyAndPage(e *Env) {
	f := e.MustFixture("Clinic")
	msgs := make([]*notify.Message, 300)
	for i := range msgs {
		msgs[i] = e.Msg(f, due(T0.Add(time.Duration(i)*time.Second)))
	}
	e.MustEnqueue(msgs...)
	var got []*notify.Message
	var after *uuid.UUID
	for {
		page, err := e.Store.Messages(e.Ctx, f.Practice.ID, notify.MessageFilter{After: after, Limit: 128})
		e.ok(err, "Messages")
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = &page[len(page)-1].ID
	}
	e.eq(ids(got), sortedIDs(msgs), "paged Messages IDs")
}

func testMessagesFilter(e *Env) {
	f := e.MustFixture("Clinic")
	other := e.MustPatient(f, "Olga", "+12025550199", "olga@example.com")
	otherAppt := e.MustAppt(f, other, T0.Add(72*time.Hour), "new")
	a := e.Msg(f)
	b := e.Msg(f, channel(notify.Email, "pat@example.com"), kind(notify.KindConfirmed))
	c := e.Msg(f, about(other, otherAppt))
	d := e.Msg(f, inApp, about(nil, otherAppt))
	e.MustEnqueue(a, b, c, d)
	for _, tc := range []struct {
		name string
		f    notify.MessageFilter
		want []*notify.Message
	}{
		{"all", notify.MessageFilter{}, []*notify.Message{a, b, c, d}},
		{"status", notify.MessageFilter{Status: []notify.Status{notify.StatusUnread}}, []*notify.Message{d}},
		{"statuses", notify.MessageFilter{Status: []notify.Status{notify.StatusUnread, notify.StatusPending}}, []*notify.Message{a, b, c, d}},
		{"channel", notify.MessageFilter{Channel: notify.Email}, []*notify.Message{b}},
		{"kind", notify.MessageFilter{Kind: notify.KindReminder}, []*notify.Message{a, c}},
		{"patient", notify.MessageFilter{PatientID: &other.ID}, []*notify.Message{c}},
		{"appointment", notify.MessageFilter{AppointmentID: &otherAppt.ID}, []*notify.Message{c, d}},
		{"limit", notify.MessageFilter{Limit: 2}, []*notify.Message{a, b}},
		{"after", notify.MessageFilter{After: &b.ID}, []*notify.Message{c, d}},
	} {
		got, err := e.Store.Messages(e.Ctx, f.Practice.ID, tc.f)
		e.ok(err, "Messages(%s)", tc.name)
		e.eq(ids(got), ids(tc.want), "Messages(%s)", tc.name)
	}
}

func testTenantIsolation(e *Env) {
	f := e.MustFixture("Clinic")
	g := e.MustFixture("Other")
	m := e.MustEnqueue(e.Msg(f))[0]
	inbox := e.MustEnqueue(e.Msg(f, inApp))[0]
	// Keys are unique per practice: the same key in another practice is
	// another message.
	e.MustEnqueue(e.Msg(g, func(x *notify.Message) { x.Key = m.Key }))
	_, err := e.Store.Message(e.Ctx, g.Practice.ID, m.ID)
	e.wantKind(err, errs.KindNotFound, "Message of another practice")
	got, err := e.Store.Messages(e.Ctx, g.Practice.ID, notify.MessageFilter{AppointmentID: &f.Appt.ID})
	e.ok(err, "Messages")
	e.eq(len(got), 0, "another practice's messages listed")
	n, err := e.Store.Drop(e.Ctx, g.Practice.ID, notify.DropFilter{AppointmentID: &f.Appt.ID}, "x", T0)
	e.ok(err, "Drop")
	e.eq(n, 0, "Drop in another practice")
	n, err = e.Store.Drop(e.Ctx, g.Practice.ID, notify.DropFilter{PatientID: &f.Patient.ID}, "x", T0)
	e.ok(err, "Drop")
	e.eq(n, 0, "Drop by patient in another practice")
	e.eq(e.MustMessage(f.Practice.ID, m.ID).Status, notify.StatusPending, "status after another practice's Drop")
	_, err = e.Store.Retry(e.Ctx, g.Practice.ID, m.ID, T0)
	e.wantKind(err, errs.KindNotFound, "Retry of another practice's message")
	_, err = e.Store.MarkRead(e.Ctx, g.Practice.ID, inbox.ID, T0)
	e.wantKind(err, errs.KindNotFound, "MarkRead of another practice's message")
	n, err = e.Store.ResolveRequests(e.Ctx, g.Practice.ID, f.Appt.ID, T0)
	e.ok(err, "ResolveRequests")
	e.eq(n, 0, "ResolveRequests in another practice")
	n, err = e.Store.UnreadCount(e.Ctx, g.Practice.ID)
	e.ok(err, "UnreadCount")
	e.eq(n, 0, "UnreadCount of another practice")
	n, err = e.Store.UnreadCount(e.Ctx, f.Practice.ID)
	e.ok(err, "UnreadCount")
	e.eq(n, 1, "UnreadCount")
}

func testDrop(e *Env) {
	f := e.MustFixture("Clinic")
	other := e.MustPatient(f, "Olga", "+12025550199", "olga@example.com")
	otherAppt := e.MustAppt(f, other, T0.Add(72*time.Hour), "confirmed")
	pending := e.Msg(f)
	claimed := e.Msg(f, due(T0.Add(-time.Hour)))
	sending := e.Msg(f, due(T0.Add(-2*time.Hour)))
	sent := e.Msg(f, due(T0.Add(-3*time.Hour)))
	email := e.Msg(f, channel(notify.Email, "pat@example.com"))
	confirm := e.Msg(f, kind(notify.KindConfirmed))
	elsewhere := e.Msg(f, about(other, otherAppt))
	e.MustEnqueue(pending, claimed, sending, sent, email, confirm, elsewhere)
	e.setStatus(f, sent, notify.StatusSent)
	e.setStatus(f, sending, notify.StatusSending)
	e.setStatus(f, claimed, notify.StatusClaimed)

	_, err := e.Store.Drop(e.Ctx, f.Practice.ID, notify.DropFilter{}, "x", T0)
	e.wantKind(err, errs.KindInvalid, "Drop with neither appointment nor patient")
	n, err := e.Store.Drop(e.Ctx, f.Practice.ID, notify.DropFilter{AppointmentID: &f.Appt.ID,
		Channel: notify.SMS, Kinds: []notify.Kind{notify.KindReminder}}, "canceled", T0)
	e.ok(err, "Drop")
	e.eq(n, 2, "Drop of the pending and claimed SMS reminders")
	for _, m := range []*notify.Message{pending, claimed} {
		got := e.MustMessage(f.Practice.ID, m.ID)
		e.eq(got.Status, notify.StatusDropped, "Status of a dropped message")
		e.eq(got.LastError, "canceled", "LastError of a dropped message")
	}
	for _, m := range []*notify.Message{email, confirm, elsewhere} {
		e.eq(e.MustMessage(f.Practice.ID, m.ID).Status, notify.StatusPending, "Status of a message the filter left out")
	}
	e.eq(e.MustMessage(f.Practice.ID, sending.ID).Status, notify.StatusSending, "Status of a sending message")
	e.eq(e.MustMessage(f.Practice.ID, sent.ID).Status, notify.StatusSent, "Status of a sent message")
	n, err = e.Store.Drop(e.Ctx, f.Practice.ID, notify.DropFilter{PatientID: &f.Patient.ID}, "opted out", T0)
	e.ok(err, "Drop by patient")
	e.eq(n, 2, "Drop by patient (email and confirmation)")
	e.eq(e.MustMessage(f.Practice.ID, elsewhere.ID).Status, notify.StatusPending, "Status of another patient's message")
}

func testRetry(e *Env) {
	f := e.MustFixture("Clinic")
	dead := e.Msg(f)
	pending := e.Msg(f, due(T0.Add(time.Hour)))
	e.MustEnqueue(dead, pending)
	e.setStatus(f, dead, notify.StatusDead)
	later := T0.Add(30 * time.Minute)
	got, err := e.Store.Retry(e.Ctx, f.Practice.ID, dead.ID, later)
	e.ok(err, "Retry")
	e.eq(got.Status, notify.StatusPending, "Status after Retry")
	e.eq(got.DueAt, later.UTC(), "DueAt after Retry")
	e.eq(e.MustMessage(f.Practice.ID, dead.ID), got, "Message after Retry")
	_, err = e.Store.Retry(e.Ctx, f.Practice.ID, pending.ID, later)
	e.wantKind(err, errs.KindConflict, "Retry of a pending message")
	_, err = e.Store.Retry(e.Ctx, f.Practice.ID, newID(), later)
	e.wantKind(err, errs.KindNotFound, "Retry of an unknown message")
	claimed, err := e.Outbox.Claim(e.Ctx, newID(), later, 10, time.Minute)
	e.ok(err, "Claim")
	e.eq(ids(claimed), []uuid.UUID{dead.ID}, "Claim after Retry")
}

func testInAppInbox(e *Env) {
	f := e.MustFixture("Clinic")
	other := e.MustAppt(f, f.Patient, T0.Add(96*time.Hour), "new")
	req := e.Msg(f, inApp)
	req2 := e.Msg(f, inApp)
	note := e.Msg(f, inApp, kind(notify.KindCanceled))
	elsewhere := e.Msg(f, inApp, about(f.Patient, other))
	sms := e.Msg(f)
	e.MustEnqueue(req, req2, note, elsewhere, sms)
	count := func(want int) {
		e.T.Helper()
		n, err := e.Store.UnreadCount(e.Ctx, f.Practice.ID)
		e.ok(err, "UnreadCount")
		e.eq(n, want, "UnreadCount")
	}
	count(4)
	read, err := e.Store.MarkRead(e.Ctx, f.Practice.ID, note.ID, T0)
	e.ok(err, "MarkRead")
	e.eq(read.Status, notify.StatusRead, "Status after MarkRead")
	read, err = e.Store.MarkRead(e.Ctx, f.Practice.ID, note.ID, T0.Add(time.Minute))
	e.ok(err, "MarkRead again")
	e.eq(read.Status, notify.StatusRead, "Status after a second MarkRead")
	count(3)
	// The contract only speaks of in-app messages; the suite reads marking
	// an SMS read as a conflict with its status.
	_, err = e.Store.MarkRead(e.Ctx, f.Practice.ID, sms.ID, T0)
	e.wantKind(err, errs.KindConflict, "MarkRead of an SMS")
	_, err = e.Store.MarkRead(e.Ctx, f.Practice.ID, newID(), T0)
	e.wantKind(err, errs.KindNotFound, "MarkRead of an unknown message")
	n, err := e.Store.ResolveRequests(e.Ctx, f.Practice.ID, f.Appt.ID, T0)
	e.ok(err, "ResolveRequests")
	e.eq(n, 2, "ResolveRequests")
	count(1)
	e.eq(e.MustMessage(f.Practice.ID, elsewhere.ID).Status, notify.StatusUnread, "another appointment's request")
	e.eq(e.MustMessage(f.Practice.ID, sms.ID).Status, notify.StatusPending, "an SMS about the appointment")
}

func testUsage(e *Env) {
	f := e.MustFixture("Clinic")
	g := e.MustFixture("Other")
	base := T0.Add(-24 * time.Hour)
	var msgs []*notify.Message
	for i, ch := range []notify.Channel{notify.SMS, notify.SMS, notify.Email, notify.SMS, notify.Email} {
		msgs = append(msgs, e.Msg(f, channel(ch, "x"), due(base.Add(time.Duration(i)*time.Hour))))
	}
	theirs := e.Msg(g, due(base.Add(time.Hour)))
	e.MustEnqueue(append(msgs, theirs)...)
	for _, m := range append(msgs, theirs) {
		pf := f
		if m == theirs {
			pf = g
		}
		e.setStatus(pf, m, notify.StatusSent) // SentAt = DueAt
	}
	usage := func(p *Fixture, from, to time.Time) []notify.UsageCount {
		e.T.Helper()
		u, err := e.Store.Usage(e.Ctx, p.Practice.ID, from, to)
		e.ok(err, "Usage")
		return u
	}
	// Channels come in the order of their names (email, sms); the contract
	// does not say, but a stable order is what a careful store gives.
	e.eq(usage(f, base, base.Add(5*time.Hour)), []notify.UsageCount{{Channel: notify.Email, Count: 2}, {Channel: notify.SMS, Count: 3}}, "Usage of all")
	e.eq(usage(f, base.Add(time.Hour), base.Add(3*time.Hour)), []notify.UsageCount{{Channel: notify.Email, Count: 1}, {Channel: notify.SMS, Count: 1}}, "Usage [1h, 3h)")
	e.eq(usage(f, base, base.Add(2*time.Hour)), []notify.UsageCount{{Channel: notify.SMS, Count: 2}}, "Usage [0, 2h)")
	e.eq(usage(f, base.Add(5*time.Hour), T0), []notify.UsageCount{}, "Usage after all")
	e.eq(usage(g, base, T0), []notify.UsageCount{{Channel: notify.SMS, Count: 1}}, "Usage of another practice")
}

func testTx(e *Env) {
	f := e.MustFixture("Clinic")
	kept, lost := e.Msg(f), e.Msg(f)
	e.ok(e.Store.InTx(e.Ctx, func(ctx context.Context) error {
		if _, err := e.Store.Enqueue(ctx, kept); err != nil {
			return err
		}
		// Nested calls run in the same transaction.
		return e.Store.InTx(ctx, func(ctx context.Context) error {
			_, err := e.Store.Message(ctx, f.Practice.ID, kept.ID)
			return err
		})
	}), "InTx")
	e.MustMessage(f.Practice.ID, kept.ID)
	boom := errors.New("boom")
	err := e.Store.InTx(e.Ctx, func(ctx context.Context) error {
		if _, err := e.Store.Enqueue(ctx, lost); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		e.T.Fatalf("InTx = %v, want %v", err, boom)
	}
	_, err = e.Store.Message(e.Ctx, f.Practice.ID, lost.ID)
	e.wantKind(err, errs.KindNotFound, "a message of a rolled back transaction")
}
