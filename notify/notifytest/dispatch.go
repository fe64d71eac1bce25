package notifytest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/google/uuid"
)

var dispatchCases = []testCase{
	{"ClaimOrderAndDue", testClaimOrderAndDue},
	{"ClaimLeaseExpiry", testClaimLeaseExpiry},
	{"ClaimDropsOptedOutSMS", testClaimDropsOptedOut},
	{"MarkSendingNeedsToken", testMarkSending},
	{"Record", testRecord},
	{"ClaimInDoubt", testClaimInDoubt},
	{"ConcurrentClaimsInDoubtAreDisjoint", testConcurrentClaimsInDoubt},
	{"ApplyDelivery", testApplyDelivery},
	{"RememberWebhook", testRememberWebhook},
	{"UseLink", testUseLink},
	{"ConcurrentClaimsAreDisjoint", testConcurrentClaims},
}

// lease is the suite's claim and send lease.
const lease = 5 * time.Minute

// mustClaim claims up to limit messages at now under token.
func (e *Env) mustClaim(token uuid.UUID, now time.Time, limit int) []*notify.Message {
	e.T.Helper()
	got, err := e.Outbox.Claim(e.Ctx, token, now, limit, lease)
	e.ok(err, "Claim")
	return got
}

// mustSending claims msgs (which must be the only due ones) and marks them
// sending under a new token, which it returns.
func (e *Env) mustSending(now time.Time, msgs ...*notify.Message) uuid.UUID {
	e.T.Helper()
	token := newID()
	got := e.mustClaim(token, now, 1000)
	e.eq(sortedIDs(got), sortedIDs(msgs), "claimed IDs")
	moved, err := e.Outbox.MarkSending(e.Ctx, token, ids(msgs), now, lease)
	e.ok(err, "MarkSending")
	e.eq(moved, sortedIDs(msgs), "MarkSending")
	return token
}

func testClaimOrderAndDue(e *Env) {
	f := e.MustFixture("Clinic")
	g := e.MustFixture("Other")
	m3 := e.Msg(f, due(T0.Add(-1*time.Minute)))
	m1 := e.Msg(g, due(T0.Add(-3*time.Minute)))
	m2 := e.Msg(f, due(T0.Add(-2*time.Minute)), channel(notify.Email, "pat@example.com"))
	now := e.Msg(f, due(T0))
	future := e.Msg(f, due(T0.Add(time.Microsecond)))
	inbox := e.Msg(f, inApp, due(T0.Add(-time.Hour)))
	e.MustEnqueue(m3, m1, m2, now, future, inbox)
	e.MustEnqueue(e.Msg(g, due(T0.Add(time.Hour))))

	token := newID()
	got := e.mustClaim(token, T0, 2)
	e.eq(ids(got), ids([]*notify.Message{m1, m2}), "first Claim (earliest due first, any practice)")
	for _, c := range got {
		want := utcMessage(e.MustMessage(c.PracticeID, c.ID))
		e.eq(c, want, "claimed message as stored")
		e.eq(c.Status, notify.StatusClaimed, "Status")
		e.eq(c.LeaseUntil, ptr(T0.Add(lease).UTC()), "LeaseUntil")
	}
	got = e.mustClaim(newID(), T0, 10)
	e.eq(ids(got), ids([]*notify.Message{m3, now}), "second Claim (due at now included, future and in-app never)")
	e.eq(len(e.mustClaim(newID(), T0, 10)), 0, "third Claim")
	e.eq(len(e.mustClaim(newID(), T0, 0)), 0, "Claim of none")
	e.eq(ids(e.mustClaim(newID(), T0.Add(time.Microsecond), 10)), []uuid.UUID{future.ID}, "Claim a microsecond later")
}

func testClaimLeaseExpiry(e *Env) {
	f := e.MustFixture("Clinic")
	m := e.MustEnqueue(e.Msg(f))[0]
	first := newID()
	e.eq(len(e.mustClaim(first, T0, 10)), 1, "Claim")
	e.eq(len(e.mustClaim(newID(), T0.Add(lease-time.Second), 10)), 0, "Claim within the lease")
	second := newID()
	later := T0.Add(lease + time.Second)
	got := e.mustClaim(second, later, 10)
	e.eq(ids(got), []uuid.UUID{m.ID}, "Claim after the lease expired")
	e.eq(got[0].LeaseUntil, ptr(later.Add(lease).UTC()), "LeaseUntil of the second claim")
	moved, err := e.Outbox.MarkSending(e.Ctx, first, []uuid.UUID{m.ID}, later, lease)
	e.ok(err, "MarkSending")
	e.eq(moved, []uuid.UUID{}, "MarkSending under the expired claim")
	moved, err = e.Outbox.MarkSending(e.Ctx, second, []uuid.UUID{m.ID}, later, lease)
	e.ok(err, "MarkSending")
	e.eq(moved, []uuid.UUID{m.ID}, "MarkSending under the live claim")
	// Sending messages are never claimed again, even past their lease:
	// ClaimInDoubt deals with them.
	e.eq(len(e.mustClaim(newID(), later.Add(time.Hour), 10)), 0, "Claim of a sending message")
}

func testClaimDropsOptedOut(e *Env) {
	f := e.MustFixture("Clinic")
	other := e.MustPatient(f, "Olga", "+12025550199", "olga@example.com")
	p := notify.DefaultPreferences(f.Practice.ID, f.Patient.ID)
	p.SMSOptOut, p.UpdatedAt = true, T0
	e.ok(e.Store.PutPreferences(e.Ctx, p, nil), "PutPreferences")
	q := notify.DefaultPreferences(f.Practice.ID, other.ID)
	q.Marketing, q.UpdatedAt = true, T0
	e.ok(e.Store.PutPreferences(e.Ctx, q, nil), "PutPreferences")
	stopped := e.Msg(f, due(T0.Add(-time.Minute)))
	email := e.Msg(f, channel(notify.Email, "pat@example.com"))
	theirs := e.Msg(f, about(other, f.Appt))
	noPatient := e.Msg(f, about(nil, f.Appt), func(m *notify.Message) { m.To = "+12025550100" })
	e.MustEnqueue(stopped, email, theirs, noPatient)
	got := e.mustClaim(newID(), T0, 10)
	e.eq(sortedIDs(got), sortedIDs([]*notify.Message{email, theirs, noPatient}), "Claim")
	d := e.MustMessage(f.Practice.ID, stopped.ID)
	e.eq(d.Status, notify.StatusDropped, "Status of an SMS to an opted-out patient")
	if d.LastError == "" {
		e.T.Fatal("a message dropped for an opt-out has no LastError")
	}
}

func testMarkSending(e *Env) {
	f := e.MustFixture("Clinic")
	a, b, c := e.Msg(f), e.Msg(f), e.Msg(f, due(T0.Add(time.Hour)))
	e.MustEnqueue(a, b, c)
	token := newID()
	e.eq(len(e.mustClaim(token, T0, 10)), 2, "Claim")
	moved, err := e.Outbox.MarkSending(e.Ctx, newID(), []uuid.UUID{a.ID, b.ID}, T0, lease)
	e.ok(err, "MarkSending")
	e.eq(moved, []uuid.UUID{}, "MarkSending under another token")
	now := T0.Add(time.Second)
	moved, err = e.Outbox.MarkSending(e.Ctx, token, []uuid.UUID{a.ID, c.ID, newID()}, now, lease)
	e.ok(err, "MarkSending")
	e.eq(moved, []uuid.UUID{a.ID}, "MarkSending of one claimed, one pending and one unknown")
	got := e.MustMessage(f.Practice.ID, a.ID)
	e.eq(got.Status, notify.StatusSending, "Status")
	e.eq(got.Attempts, 1, "Attempts")
	e.eq(got.LeaseUntil, ptr(now.Add(lease).UTC()), "LeaseUntil")
	moved, err = e.Outbox.MarkSending(e.Ctx, token, []uuid.UUID{a.ID}, now, lease)
	e.ok(err, "MarkSending again")
	e.eq(moved, []uuid.UUID{}, "MarkSending of a sending message")
	moved, err = e.Outbox.MarkSending(e.Ctx, token, nil, now, lease)
	e.ok(err, "MarkSending(nil)")
	e.eq(len(moved), 0, "MarkSending of none")
	e.eq(e.MustMessage(f.Practice.ID, b.ID).Status, notify.StatusClaimed, "Status of the message not marked")
}

func testRecord(e *Env) {
	f := e.MustFixture("Clinic")
	sent, retry, dead, unsent := e.Msg(f), e.Msg(f), e.Msg(f), e.Msg(f)
	stray := e.Msg(f, due(T0.Add(time.Hour)))
	e.MustEnqueue(sent, retry, dead, unsent, stray)
	token := e.mustSending(T0, sent, retry, dead, unsent)
	at := T0.Add(2 * time.Second)
	next := T0.Add(10 * time.Minute)
	e.ok(e.Outbox.Record(e.Ctx, newID(), []notify.Result{{ID: sent.ID, Status: notify.StatusSent, ProviderID: "x", At: at}}),
		"Record under another token")
	e.eq(e.MustMessage(f.Practice.ID, sent.ID).Status, notify.StatusSending, "Status after Record under another token")
	e.ok(e.Outbox.Record(e.Ctx, token, []notify.Result{
		{ID: sent.ID, Status: notify.StatusSent, ProviderID: "SM123", At: at},
		{ID: retry.ID, Status: notify.StatusPending, Error: "rate limited", DueAt: next, At: at},
		{ID: dead.ID, Status: notify.StatusDead, Error: "invalid number", At: at},
		{ID: unsent.ID, Status: notify.StatusPending, DueAt: next.Add(time.Hour), At: at, Unsent: true},
		{ID: stray.ID, Status: notify.StatusSent, ProviderID: "SM999", At: at}, // not sending: ignored
	}), "Record")
	got := e.MustMessage(f.Practice.ID, unsent.ID)
	e.eq([]any{got.Status, got.DueAt, got.Attempts}, []any{notify.StatusPending, next.Add(time.Hour).UTC(), 0},
		"a message marked and never sent: pending, its attempt given back")
	got = e.MustMessage(f.Practice.ID, sent.ID)
	e.eq([]any{got.Status, got.ProviderID, got.SentAt, got.Attempts}, []any{notify.StatusSent, "SM123", ptr(at.UTC()), 1}, "sent message")
	got = e.MustMessage(f.Practice.ID, retry.ID)
	e.eq([]any{got.Status, got.DueAt, got.LastError, got.SentAt}, []any{notify.StatusPending, next.UTC(), "rate limited", (*time.Time)(nil)}, "retried message")
	got = e.MustMessage(f.Practice.ID, dead.ID)
	e.eq([]any{got.Status, got.LastError}, []any{notify.StatusDead, "invalid number"}, "dead message")
	got = e.MustMessage(f.Practice.ID, stray.ID)
	e.eq([]any{got.Status, got.ProviderID}, []any{notify.StatusPending, ""}, "message that was not sending")
	// The retried message is claimable again at its new due time, and a
	// late Record of the old send does not touch it.
	e.eq(len(e.mustClaim(newID(), next.Add(-time.Microsecond), 10)), 0, "Claim before the new due time")
	e.ok(e.Outbox.Record(e.Ctx, token, []notify.Result{{ID: retry.ID, Status: notify.StatusSent, ProviderID: "late", At: at}}), "late Record")
	e.eq(e.MustMessage(f.Practice.ID, retry.ID).Status, notify.StatusPending, "Status after a late Record")
	e.eq(ids(e.mustClaim(newID(), next, 10)), []uuid.UUID{retry.ID}, "Claim at the new due time")
	e.ok(e.Outbox.Record(e.Ctx, token, nil), "Record(nil)")
}

func testClaimInDoubt(e *Env) {
	f := e.MustFixture("Clinic")
	early, late := e.Msg(f), e.Msg(f, due(T0.Add(time.Minute)))
	e.MustEnqueue(early, late)
	old := e.mustSending(T0, early)
	e.mustSending(T0.Add(time.Minute), late)
	claim := func(token uuid.UUID, at time.Time) []*notify.Message {
		e.T.Helper()
		got, err := e.Outbox.ClaimInDoubt(e.Ctx, token, at, 10, lease)
		e.ok(err, "ClaimInDoubt")
		return got
	}
	e.eq(len(claim(newID(), T0.Add(lease))), 0, "ClaimInDoubt at the lease end")
	none, err := e.Outbox.ClaimInDoubt(e.Ctx, newID(), T0.Add(time.Hour), 0, lease)
	e.ok(err, "ClaimInDoubt")
	e.eq(len(none), 0, "ClaimInDoubt of none")
	token := newID()
	at := T0.Add(lease + time.Second)
	got := claim(token, at)
	e.eq(ids(got), []uuid.UUID{early.ID}, "ClaimInDoubt past one lease")
	want := utcMessage(e.MustMessage(f.Practice.ID, early.ID))
	e.eq(got[0], want, "message in doubt as stored")
	e.eq([]any{got[0].Status, got[0].LeaseUntil, got[0].Attempts}, []any{notify.StatusSending, ptr(at.Add(lease).UTC()), 1},
		"message in doubt (still sending, under a new lease)")
	e.eq(e.MustMessage(f.Practice.ID, late.ID).Status, notify.StatusSending, "Status of a send within its lease")
	e.eq(len(claim(newID(), at.Add(time.Second))), 0, "ClaimInDoubt within the new lease")
	e.eq(len(e.mustClaim(newID(), T0.Add(time.Hour), 10)), 0, "Claim of messages in doubt (never resent by Claim)")
	// The stopped dispatcher's late Record no longer applies; the new
	// claimer's does.
	e.ok(e.Outbox.Record(e.Ctx, old, []notify.Result{{ID: early.ID, Status: notify.StatusSent, ProviderID: "late", At: at}}), "Record under the old token")
	e.eq(e.MustMessage(f.Practice.ID, early.ID).ProviderID, "", "ProviderID after a Record under the old token")
	e.ok(e.Outbox.Record(e.Ctx, token, []notify.Result{{ID: early.ID, Status: notify.StatusPending, DueAt: at, At: at}}), "Record of a resend")
	m := e.MustMessage(f.Practice.ID, early.ID)
	e.eq([]any{m.Status, m.LeaseUntil}, []any{notify.StatusPending, (*time.Time)(nil)}, "message settled as not sent")
	e.eq(ids(e.mustClaim(newID(), at, 10)), []uuid.UUID{early.ID}, "Claim of the message settled as not sent")
	// A doubt not settled is taken again after the new lease.
	later := at.Add(lease + time.Second)
	again := newID()
	e.eq(ids(claim(again, later)), []uuid.UUID{late.ID}, "ClaimInDoubt of the other message")
	e.eq(len(claim(newID(), later.Add(lease))), 0, "ClaimInDoubt within its new lease")
	e.eq(ids(claim(newID(), later.Add(lease+time.Second))), []uuid.UUID{late.ID}, "ClaimInDoubt after a doubt was left unsettled")
	e.ok(e.Outbox.Record(e.Ctx, again, []notify.Result{{ID: late.ID, Status: notify.StatusSent, ProviderID: "SM1", At: later}}),
		"Record under a token whose lease was taken over")
	e.eq(e.MustMessage(f.Practice.ID, late.ID).Status, notify.StatusSending, "Status after a Record under a superseded token")
}

// testConcurrentClaimsInDoubt has 4 dispatchers settle 200 messages in
// doubt at once: each message goes to exactly one.
func testConcurrentClaimsInDoubt(e *Env) {
	const total, workers, batch = 200, 4, 10
	f := e.MustFixture("Clinic")
	msgs := make([]*notify.Message, total)
	for i := range msgs {
		msgs[i] = e.Msg(f)
	}
	e.MustEnqueue(msgs...)
	e.mustSending(T0, msgs...)
	at := T0.Add(lease + time.Second)
	var (
		mu   sync.Mutex
		seen = map[uuid.UUID]int{}
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n <= total; n++ { // a broken store could hand out messages forever
				got, err := e.Outbox.ClaimInDoubt(e.Ctx, newID(), at, batch, lease)
				if err != nil {
					e.T.Errorf("ClaimInDoubt: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	e.eq(len(seen), total, "messages in doubt claimed")
	for id, n := range seen {
		if n != 1 {
			e.T.Errorf("message %s claimed in doubt %d times", id, n)
		}
	}
}

func testApplyDelivery(e *Env) {
	f := e.MustFixture("Clinic")
	byID, byRef, email, dead := e.Msg(f), e.Msg(f), e.Msg(f, channel(notify.Email, "pat@example.com")), e.Msg(f)
	pending := e.Msg(f, due(T0.Add(time.Hour)))
	e.MustEnqueue(byID, byRef, email, dead, pending)
	token := e.mustSending(T0, byID, byRef, email, dead)
	at := T0.Add(time.Second)
	e.ok(e.Outbox.Record(e.Ctx, token, []notify.Result{
		{ID: byID.ID, Status: notify.StatusSent, ProviderID: "SM1", At: at},
		{ID: byRef.ID, Status: notify.StatusSent, ProviderID: "SM2", At: at},
		{ID: email.ID, Status: notify.StatusSent, ProviderID: "SM2", At: at}, // same ref, other channel
		{ID: dead.ID, Status: notify.StatusDead, Error: "timeout", At: at},
	}), "Record")
	apply := func(d notify.Delivery, want bool) {
		e.T.Helper()
		ok, err := e.Store.ApplyDelivery(e.Ctx, d)
		e.ok(err, "ApplyDelivery")
		e.eq(ok, want, "ApplyDelivery found the message")
	}
	later := T0.Add(time.Minute)
	apply(notify.Delivery{Channel: notify.SMS, MessageID: byID.ID, Status: notify.StatusDelivered, At: later}, true)
	e.eq(e.MustMessage(f.Practice.ID, byID.ID).Status, notify.StatusDelivered, "Status by ID")
	apply(notify.Delivery{Channel: notify.SMS, ProviderID: "SM2", Status: notify.StatusUndelivered, Error: "30003", At: later}, true)
	got := e.MustMessage(f.Practice.ID, byRef.ID)
	e.eq([]any{got.Status, got.LastError}, []any{notify.StatusUndelivered, "30003"}, "message by provider ID")
	e.eq(e.MustMessage(f.Practice.ID, email.ID).Status, notify.StatusSent, "Status of the same provider ID on another channel")
	// Final statuses stay.
	apply(notify.Delivery{Channel: notify.SMS, MessageID: byID.ID, Status: notify.StatusUndelivered, At: later}, true)
	apply(notify.Delivery{Channel: notify.SMS, ProviderID: "SM2", Status: notify.StatusDelivered, At: later}, true)
	e.eq(e.MustMessage(f.Practice.ID, byID.ID).Status, notify.StatusDelivered, "delivered after a later report")
	e.eq(e.MustMessage(f.Practice.ID, byRef.ID).Status, notify.StatusUndelivered, "undelivered after a later report")
	// A dead message takes the report and the provider's ID it lacked.
	apply(notify.Delivery{Channel: notify.SMS, MessageID: dead.ID, ProviderID: "SM3", Status: notify.StatusDelivered, At: later}, true)
	got = e.MustMessage(f.Practice.ID, dead.ID)
	e.eq([]any{got.Status, got.ProviderID}, []any{notify.StatusDelivered, "SM3"}, "dead message after a report")
	apply(notify.Delivery{Channel: notify.SMS, ProviderID: "nope", Status: notify.StatusDelivered, At: later}, false)
	apply(notify.Delivery{Channel: notify.SMS, MessageID: newID(), Status: notify.StatusDelivered, At: later}, false)
	// A report never sends a message back in time: pending stays pending.
	// Whether it reports the message found the contract does not say.
	_, err := e.Store.ApplyDelivery(e.Ctx, notify.Delivery{Channel: notify.SMS, MessageID: pending.ID, Status: notify.StatusDelivered, At: later})
	e.ok(err, "ApplyDelivery of a pending message")
	e.eq(e.MustMessage(f.Practice.ID, pending.ID).Status, notify.StatusPending, "Status of a pending message after a report")
}

func testRememberWebhook(e *Env) {
	e.ok(e.Store.RememberWebhook(e.Ctx, "twilio", "sig-1", T0), "RememberWebhook")
	e.wantKind(e.Store.RememberWebhook(e.Ctx, "twilio", "sig-1", T0.Add(time.Second)), errs.KindConflict, "replayed webhook")
	e.ok(e.Store.RememberWebhook(e.Ctx, "sendgrid", "sig-1", T0), "same key from another source")
	// A replay inside a transaction leaves it usable (it is an answer, not
	// a failure of the database).
	f := e.MustFixture("Clinic")
	m := e.Msg(f)
	e.ok(e.Store.InTx(e.Ctx, func(ctx context.Context) error {
		if err := e.Store.RememberWebhook(ctx, "twilio", "sig-1", T0); !errs.Is(err, errs.KindConflict) {
			e.T.Errorf("replay in a transaction: %v, want KindConflict", err)
		}
		_, err := e.Store.Enqueue(ctx, m)
		return err
	}), "InTx")
	e.MustMessage(f.Practice.ID, m.ID)
}

func testUseLink(e *Env) {
	f := e.MustFixture("Clinic")
	g := e.MustFixture("Other")
	nonce := newID()
	e.ok(e.Store.UseLink(e.Ctx, f.Practice.ID, nonce, T0), "UseLink")
	e.wantKind(e.Store.UseLink(e.Ctx, f.Practice.ID, nonce, T0.Add(time.Minute)), errs.KindConflict, "UseLink again")
	e.ok(e.Store.UseLink(e.Ctx, f.Practice.ID, newID(), T0), "UseLink of another nonce")
	// The suite does not require a nonce to be unique across practices
	// (nonces are random); it only requires each practice's to be single use.
	n2 := newID()
	e.ok(e.Store.UseLink(e.Ctx, g.Practice.ID, n2, T0), "UseLink in another practice")
	e.wantKind(e.Store.UseLink(e.Ctx, g.Practice.ID, n2, T0), errs.KindConflict, "UseLink again in another practice")
}

// testConcurrentClaims has 8 dispatchers claim 2000 due messages of 4
// practices at once: each message goes to exactly one.
func testConcurrentClaims(e *Env) {
	const total, workers, batch = 2000, 8, 50
	var all []*notify.Message
	for i := range 4 {
		f := e.MustFixture("Clinic " + string(rune('A'+i)))
		msgs := make([]*notify.Message, total/4)
		for j := range msgs {
			msgs[j] = e.Msg(f, due(T0.Add(-time.Duration(j)*time.Millisecond)))
		}
		all = append(all, e.MustEnqueue(msgs...)...)
	}
	var (
		mu   sync.Mutex
		seen = map[uuid.UUID]uuid.UUID{}
		n    int // messages handed out, duplicates included
		wg   sync.WaitGroup
		errc = make(chan error, workers)
	)
	ctx, cancel := context.WithCancel(e.Ctx)
	defer cancel()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			token := newID()
			for {
				got, err := e.Outbox.Claim(ctx, token, T0, batch, lease)
				if err != nil {
					errc <- err
					cancel()
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				n += len(got)
				stop := n > total // a broken store could hand out messages forever
				for _, m := range got {
					if prev, dup := seen[m.ID]; dup {
						e.T.Errorf("message %s claimed under %s and %s", m.ID, prev, token)
					}
					seen[m.ID] = token
				}
				mu.Unlock()
				if stop {
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		e.T.Fatalf("Claim: %v", err)
	}
	got := make([]uuid.UUID, 0, len(seen))
	for id := range seen {
		got = append(got, id)
	}
	slices.SortFunc(got, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	e.eq(len(got), total, "messages claimed")
	e.eq(got, sortedIDs(all), "claimed IDs")
}
