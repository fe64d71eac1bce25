package sqlstore_test

import (
	"context"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/notifytest"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// marker names the patient in the messages of these tests: it must never
// be found in clear in notify_messages.
const marker = "Zephyrine-4417"

// markerCounts returns, by column of notify_messages, how many rows hold
// needle: in the column's text (a SQLite BLOB's bytes read as text), or,
// on PostgreSQL, in a bytea's hex text.
func markerCounts(t *testing.T, s *sqlstore.Store, needle string) map[string]int {
	t.Helper()
	ctx := context.Background()
	var cols []string
	q := `SELECT name FROM pragma_table_info('notify_messages') ORDER BY cid`
	if s.Dialect() == sqlstore.Postgres {
		q = `SELECT column_name FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = 'notify_messages' ORDER BY ordinal_position`
	}
	if err := s.DB().NewRaw(q).Scan(ctx, &cols); err != nil {
		t.Fatalf("columns of notify_messages: %v", err)
	}
	for _, want := range []string{"to_addr", "subject", "text", "html", "sealed", "sealed_key", "last_error"} {
		if !containsString(cols, want) {
			t.Fatalf("notify_messages has no column %s (columns %v)", want, cols)
		}
	}
	find := `instr(CAST(? AS TEXT), ?) > 0 OR instr(hex(?), ?) > 0`
	args := func(col string) []any {
		return []any{bun.Ident(col), needle, bun.Ident(col), strings.ToUpper(hex.EncodeToString([]byte(needle)))}
	}
	if s.Dialect() == sqlstore.Postgres {
		find = `strpos(CAST(? AS text), ?) > 0 OR strpos(CAST(? AS text), ?) > 0`
		args = func(col string) []any {
			return []any{bun.Ident(col), needle, bun.Ident(col), hex.EncodeToString([]byte(needle))}
		}
	}
	out := map[string]int{}
	for _, col := range cols {
		var n int
		if err := s.DB().NewRaw(`SELECT count(*) FROM notify_messages WHERE `+find, args(col)...).Scan(ctx, &n); err != nil {
			t.Fatalf("search %s: %v", col, err)
		}
		if n > 0 {
			out[col] = n
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// markedMessage returns a message of f's patient on ch whose recipient and
// content all name marker.
func markedMessage(e *notifytest.Env, f *notifytest.Fixture, ch notify.Channel) *notify.Message {
	return e.Msg(f, func(m *notify.Message) {
		m.Channel = ch
		m.To = marker + "@example.com"
		m.Subject = "Your visit, " + marker
		m.Text = "Dear " + marker + ", see you tomorrow at 9:30."
		m.HTML = "<p>Dear " + marker + ", see you tomorrow.</p>"
		if ch == notify.InApp {
			m.To, m.Status = "", notify.StatusUnread
		}
	})
}

// mustSQL runs a statement on s's database.
func mustSQL(t *testing.T, s *sqlstore.Store, query string, args ...any) {
	t.Helper()
	if _, err := s.DB().ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// statusOf reads a message's status and last error with SQL, without
// opening it.
func statusOf(t *testing.T, s *sqlstore.Store, id uuid.UUID) (status, lastError string) {
	t.Helper()
	err := s.DB().NewRaw(`SELECT status, last_error FROM notify_messages WHERE id = ?`, id).
		Scan(context.Background(), &status, &lastError)
	if err != nil {
		t.Fatalf("status of %s: %v", id, err)
	}
	return status, lastError
}

// TestMessagesSealedAtRest writes messages naming a marker, moves them
// through the outbox (with a send's error and a bounce report quoting the
// recipient), and checks that no column of notify_messages holds the
// marker in clear, while every read returns the messages as written. A
// row from before sealing (sealed NULL) is read from its clear columns.
func TestMessagesSealedAtRest(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		e := notifytest.NewEnv(t, notifyStores(s))
		f := e.MustFixture("Sealed Clinic")
		sms, email, inapp := markedMessage(e, f, notify.SMS), markedMessage(e, f, notify.Email), markedMessage(e, f, notify.InApp)
		dropped := markedMessage(e, f, notify.SMS)
		e.MustEnqueue(sms, email, inapp, dropped)
		// A dropped message's key revived with new content and a new ID.
		mustSQL(t, s, `UPDATE notify_messages SET status = 'dropped' WHERE id = ?`, dropped.ID)
		revived := markedMessage(e, f, notify.SMS)
		revived.Key, revived.Text = dropped.Key, "Revived for "+marker
		e.MustEnqueue(revived)

		token := uuid.New()
		claimed, err := s.Outbox.Claim(e.Ctx, token, notifytest.T0, 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[uuid.UUID]*notify.Message{sms.ID: sms, email.ID: email, revived.ID: revived}
		if len(claimed) != len(byID) {
			t.Fatalf("Claim took %d messages, want %d", len(claimed), len(byID))
		}
		for _, m := range claimed {
			w := byID[m.ID]
			if w == nil || m.To != w.To || m.Subject != w.Subject || m.Text != w.Text || m.HTML != w.HTML {
				t.Fatalf("Claim returned %+v, want the content of %+v", m, w)
			}
		}
		if _, err := s.Outbox.MarkSending(e.Ctx, token, []uuid.UUID{sms.ID, email.ID}, notifytest.T0, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.Outbox.Record(e.Ctx, token, []notify.Result{
			{ID: sms.ID, Status: notify.StatusSent, ProviderID: "SM1", At: notifytest.T0},
			{ID: email.ID, Status: notify.StatusDead, Error: "550 5.1.1 <" + email.To + ">: no such user", At: notifytest.T0},
		}); err != nil {
			t.Fatal(err)
		}
		email.LastError = "550 5.1.1 <" + email.To + ">: no such user"
		// A bounce report quoting the address.
		sms.LastError = "bounce: " + sms.To + " unknown"
		if ok, err := s.Notify.ApplyDelivery(e.Ctx, notify.Delivery{Channel: notify.SMS, ProviderID: "SM1",
			Status: notify.StatusUndelivered, Error: sms.LastError, At: notifytest.T0}); err != nil || !ok {
			t.Fatalf("ApplyDelivery: %v, %v", ok, err)
		}
		if _, err := s.Notify.Retry(e.Ctx, f.Practice.ID, email.ID, notifytest.T0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Notify.MarkRead(e.Ctx, f.Practice.ID, inapp.ID, notifytest.T0); err != nil {
			t.Fatal(err)
		}

		if got := markerCounts(t, s, marker); len(got) != 0 {
			t.Fatalf("the marker is in clear in notify_messages: rows by column %v", got)
		}
		all, err := s.Notify.Messages(e.Ctx, f.Practice.ID, notify.MessageFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[uuid.UUID]*notify.Message{sms.ID: sms, email.ID: email, inapp.ID: inapp, revived.ID: revived}
		if len(all) != len(want) {
			t.Fatalf("Messages returned %d, want %d", len(all), len(want))
		}
		for _, m := range all {
			w := want[m.ID]
			if w == nil || m.To != w.To || m.Subject != w.Subject || m.Text != w.Text || m.HTML != w.HTML || m.LastError != w.LastError {
				t.Fatalf("Messages returned %+v, want the content and error of %+v", m, w)
			}
		}

		// A sealed error moved onto another row does not open there.
		mustSQL(t, s, `UPDATE notify_messages SET last_error_sealed = (SELECT last_error_sealed FROM notify_messages WHERE id = ?) WHERE id = ?`,
			email.ID, revived.ID)
		_, err = s.Notify.Message(e.Ctx, f.Practice.ID, revived.ID)
		if row := "notify_messages.last_error_sealed of row " + revived.ID.String(); errs.KindOf(err) != errs.KindConflict || !strings.Contains(err.Error(), row) {
			t.Fatalf("Message with a moved error: %v, want KindConflict naming %q", err, row)
		}

		// The search finds what is in clear: a row from before sealing,
		// which reads from its clear columns.
		legacy := "Legacy " + marker
		mustSQL(t, s, `UPDATE notify_messages SET sealed = NULL, sealed_key = 0, to_addr = ?, subject = ?, text = ?, html = ? WHERE id = ?`,
			legacy+" to", legacy+" subject", legacy+" text", legacy+" html", inapp.ID)
		got := markerCounts(t, s, marker)
		for _, col := range []string{"to_addr", "subject", "text", "html"} {
			if got[col] != 1 {
				t.Fatalf("the search found the legacy row's marker in %v, want once in each clear column", got)
			}
		}
		m := e.MustMessage(f.Practice.ID, inapp.ID)
		if m.To != legacy+" to" || m.Subject != legacy+" subject" || m.Text != legacy+" text" || m.HTML != legacy+" html" {
			t.Fatalf("legacy message read as %+v", m)
		}
		// ... and bytes in clear in sealed (which then do not open).
		mustSQL(t, s, `UPDATE notify_messages SET sealed = ? WHERE id = ?`, []byte("clear "+marker), sms.ID)
		if got := markerCounts(t, s, marker); got["sealed"] != 1 {
			t.Fatalf("the search found clear bytes in sealed %v times, want once (all: %v)", got["sealed"], got)
		}
		_, err = s.Notify.Message(e.Ctx, f.Practice.ID, sms.ID)
		if errs.KindOf(err) != errs.KindConflict {
			t.Fatalf("Message of a row whose sealed value is not a ciphertext: %v, want KindConflict", err)
		}
	})
}

// recordingSender is an SMS and email Sender that accepts every message and
// keeps what it was handed.
type recordingSender struct {
	ch   notify.Channel
	mu   sync.Mutex
	sent []notify.Message
}

func (r *recordingSender) Channel() notify.Channel { return r.ch }

func (r *recordingSender) Send(_ context.Context, out notify.Outgoing) (notify.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, *out.Message)
	return notify.Receipt{ProviderID: "P-" + out.Message.ID.String()}, nil
}

// TestMessageMovedCiphertext copies one message's sealed value onto another
// row: reading that row fails with KindConflict naming it, and the
// dispatcher makes it dead with that error while it sends the others; a
// message in doubt that does not open is made dead as delivery unknown.
func TestMessageMovedCiphertext(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		e := notifytest.NewEnv(t, notifyStores(s))
		f := e.MustFixture("Moved Clinic")
		m1, m2, m3 := markedMessage(e, f, notify.SMS), markedMessage(e, f, notify.SMS), markedMessage(e, f, notify.Email)
		m2.Text = "Another text"
		e.MustEnqueue(m1, m2, m3)
		move := func(from, to uuid.UUID) {
			t.Helper()
			mustSQL(t, s, `UPDATE notify_messages SET sealed = (SELECT sealed FROM notify_messages WHERE id = ?) WHERE id = ?`, from, to)
		}
		move(m1.ID, m2.ID)
		row := "notify_messages.sealed of row " + m2.ID.String()

		_, err := s.Notify.Message(e.Ctx, f.Practice.ID, m2.ID)
		if errs.KindOf(err) != errs.KindConflict || !strings.Contains(err.Error(), row) {
			t.Fatalf("Message of the moved row: %v, want KindConflict naming %q", err, row)
		}
		if _, err := s.Notify.Messages(e.Ctx, f.Practice.ID, notify.MessageFilter{}); errs.KindOf(err) != errs.KindConflict || !strings.Contains(err.Error(), row) {
			t.Fatalf("Messages with the moved row: %v, want KindConflict naming %q", err, row)
		}
		if got := e.MustMessage(f.Practice.ID, m1.ID); got.Text != m1.Text {
			t.Fatalf("the row the value came from reads %q, want %q", got.Text, m1.Text)
		}

		sms, mail := &recordingSender{ch: notify.SMS}, &recordingSender{ch: notify.Email}
		d := notify.NewDispatcher(s.Outbox, s.Notify, clock.NewFixed(notifytest.T0), notify.DispatcherConfig{}, sms, mail)
		st, err := d.RunOnce(e.Ctx)
		if err != nil {
			t.Fatalf("RunOnce: %v", err)
		}
		if st.Claimed != 2 || st.Sent != 2 {
			t.Fatalf("RunOnce: %+v, want the 2 messages that open claimed and sent", st)
		}
		if len(sms.sent) != 1 || sms.sent[0].ID != m1.ID || sms.sent[0].To != m1.To || sms.sent[0].Text != m1.Text ||
			len(mail.sent) != 1 || mail.sent[0].ID != m3.ID || mail.sent[0].HTML != m3.HTML || mail.sent[0].Subject != m3.Subject {
			t.Fatalf("sent %+v by SMS and %+v by email, want m1 and m3 as written", sms.sent, mail.sent)
		}
		status, lastErr := statusOf(t, s, m2.ID)
		if status != string(notify.StatusDead) || !strings.Contains(lastErr, row) {
			t.Fatalf("the moved message is %s (%q), want dead naming %q", status, lastErr, row)
		}
		// Retrying it fails and leaves it dead.
		if _, err := s.Notify.Retry(e.Ctx, f.Practice.ID, m2.ID, notifytest.T0); errs.KindOf(err) != errs.KindConflict {
			t.Fatalf("Retry of the moved message: %v, want KindConflict", err)
		}
		if status, _ := statusOf(t, s, m2.ID); status != string(notify.StatusDead) {
			t.Fatalf("after a failed Retry the moved message is %s, want dead", status)
		}

		// A message left sending past its lease, then moved onto.
		m4 := markedMessage(e, f, notify.SMS)
		e.MustEnqueue(m4)
		token, lease := uuid.New(), time.Minute
		if got, err := s.Outbox.Claim(e.Ctx, token, notifytest.T0, 10, lease); err != nil || len(got) != 1 || got[0].ID != m4.ID {
			t.Fatalf("Claim: %v, %v; want m4", got, err)
		}
		if _, err := s.Outbox.MarkSending(e.Ctx, token, []uuid.UUID{m4.ID}, notifytest.T0, lease); err != nil {
			t.Fatal(err)
		}
		move(m1.ID, m4.ID)
		doubt, err := s.Outbox.ClaimInDoubt(e.Ctx, uuid.New(), notifytest.T0.Add(2*lease), 10, lease)
		if err != nil || len(doubt) != 0 {
			t.Fatalf("ClaimInDoubt: %v, %v; want none (the one in doubt does not open)", doubt, err)
		}
		row4 := "notify_messages.sealed of row " + m4.ID.String()
		if status, lastErr := statusOf(t, s, m4.ID); status != string(notify.StatusDead) ||
			!strings.HasPrefix(lastErr, "delivery unknown") || !strings.Contains(lastErr, row4) {
			t.Fatalf("the moved message in doubt is %s (%q), want dead, delivery unknown, naming %q", status, lastErr, row4)
		}
	})
}

// TestMessagesSealedMigration takes notify_messages back to before sealing
// (the down migration), writes a message's content in clear as a row of then
// held it, and migrates up again: the row reads from its clear columns, in
// a lookup and in a claim, beside a message written sealed afterwards.
func TestMessagesSealedMigration(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		e := notifytest.NewEnv(t, notifyStores(s))
		f := e.MustFixture("Migrated Clinic")
		old := markedMessage(e, f, notify.Email)
		e.MustEnqueue(old)
		run(t, s, "20261202000600_messages_sealed.tx.down.sql")
		mustSQL(t, s, `UPDATE notify_messages SET to_addr = ?, subject = ?, text = ?, html = ? WHERE id = ?`,
			old.To, old.Subject, old.Text, old.HTML, old.ID)
		run(t, s, "20261202000600_messages_sealed.tx.up.sql")
		if got := markerCounts(t, s, marker); got["sealed"] != 0 || got["text"] != 1 {
			t.Fatalf("after the migration the marker is in %v, want in the clear columns of the old row only", got)
		}
		fresh := markedMessage(e, f, notify.SMS)
		e.MustEnqueue(fresh)
		got := e.MustMessage(f.Practice.ID, old.ID)
		if got.To != old.To || got.Subject != old.Subject || got.Text != old.Text || got.HTML != old.HTML {
			t.Fatalf("the row from before sealing reads %+v, want the content of %+v", got, old)
		}
		claimed, err := s.Outbox.Claim(e.Ctx, uuid.New(), notifytest.T0, 10, time.Minute)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("Claim: %v, %v; want both messages", claimed, err)
		}
		for _, m := range claimed {
			w := map[uuid.UUID]*notify.Message{old.ID: old, fresh.ID: fresh}[m.ID]
			if w == nil || m.To != w.To || m.Text != w.Text || m.HTML != w.HTML || m.Subject != w.Subject {
				t.Fatalf("Claim returned %+v, want the content of %+v", m, w)
			}
		}
	})
}
