package sqlstore

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// The dispatcher's methods serve every practice: they are not filtered by
// practice_id, and run on the indexes notify_messages_due,
// notify_messages_sending and notify_messages_provider. None costs a round
// trip per message.

// optedOutSMS is the LastError of an SMS message Claim drops because its
// patient opted out of SMS.
const optedOutSMS = "the patient opted out of SMS"

// claimable is the condition on m of a message Claim may take: an SMS or
// email message that is pending and due, or claimed under an expired lease
// (a claimed message was due when claimed). Its arguments are now, twice.
const claimable = `m.status IN ('pending', 'claimed') AND m.due_at <= ?
	AND (m.status = 'pending' OR m.lease_until < ?) AND m.channel IN ('sms', 'email')`

// optedOut is the condition on m of an SMS message whose patient opted out
// of SMS.
const optedOut = `m.channel = 'sms' AND EXISTS (SELECT 1 FROM notify_preferences AS np
	WHERE np.practice_id = m.practice_id AND np.patient_id = m.patient_id AND np.sms_opt_out)`

// pgClaim is Claim on PostgreSQL, one statement: pick and lock the due
// messages (skipping those another claimer holds), drop the opted-out ones
// and claim the rest. Arguments: now, now, limit, the drop reason, now,
// token, lease end, now.
const pgClaim = `WITH picked AS (
	SELECT m.id, (` + optedOut + `) AS opted
	FROM notify_messages AS m
	WHERE ` + claimable + `
	ORDER BY m.due_at
	LIMIT ?
	FOR UPDATE OF m SKIP LOCKED
), dropped AS (
	UPDATE notify_messages AS m SET status = 'dropped', last_error = ?, last_error_sealed = NULL, claim_token = NULL,
		lease_until = NULL, updated_at = ?
	FROM picked AS p WHERE m.id = p.id AND p.opted
	RETURNING m.id
)
UPDATE notify_messages AS m SET status = 'claimed', claim_token = ?, lease_until = ?, updated_at = ?
FROM picked AS p WHERE m.id = p.id AND NOT p.opted
RETURNING m.*`

// Claim takes up to limit due SMS and email messages of any practice under
// token (see notify.Store), earliest due first. On PostgreSQL it is one
// statement with FOR UPDATE SKIP LOCKED; on SQLite three in one IMMEDIATE
// transaction, which already excludes other claimers. Each message is
// opened once; one whose sealed fields do not open (moved from another row,
// altered, or its practice's keys shredded) cannot be sent: it is made dead
// with the error as LastError, in one more statement, and left out, so
// that it holds up no other.
func (s *Outbox) Claim(ctx context.Context, token uuid.UUID, now time.Time, limit int, lease time.Duration) ([]*notify.Message, error) {
	const op = "sqlstore.Claim"
	if limit <= 0 {
		return []*notify.Message{}, nil
	}
	t, until := utc(now), utc(now.Add(lease))
	rows := []messageRow{}
	var err error
	if s.dialect == Postgres {
		err = s.idb(ctx).NewRaw(pgClaim, t, t, limit, optedOutSMS, t, token, until, t).Scan(ctx, &rows)
	} else {
		err = s.InTx(ctx, func(ctx context.Context) error {
			var err error
			rows, err = s.sqliteClaim(ctx, token, t, until, limit)
			return err
		})
	}
	if err != nil {
		return nil, failure(op, "message", err)
	}
	slices.SortFunc(rows, func(a, b messageRow) int {
		if c := a.DueAt.Time().Compare(b.DueAt.Time()); c != 0 {
			return c
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
	return s.openClaimed(ctx, op, token, t, rows, "")
}

// openClaimed opens rows, claimed under token, in their order. A row that
// does not open is made dead at now with why and the error as its
// LastError, all in one statement, and left out.
func (s *Outbox) openClaimed(ctx context.Context, op string, token uuid.UUID, now utcTime, rows []messageRow, why string) ([]*notify.Message, error) {
	out := make([]*notify.Message, 0, len(rows))
	var dead [][]any
	for i := range rows {
		m, err := rows[i].message(ctx, s.conn, op)
		if err != nil {
			dead = append(dead, []any{rows[i].ID, why + err.Error()})
			continue
		}
		out = append(out, m)
	}
	if len(dead) == 0 {
		return out, nil
	}
	from, args := s.valuesTable("v", []valuesColumn{{"id", "uuid"}, {"error", "text"}}, dead)
	args = append([]any{string(notify.StatusDead), now}, args...)
	args = append(args, token)
	if _, err := s.idb(ctx).ExecContext(ctx, `UPDATE notify_messages AS m SET status = ?, last_error = v.error,
	last_error_sealed = NULL, claim_token = NULL, lease_until = NULL, updated_at = ?
FROM `+from+` WHERE m.id = v.id AND m.claim_token = ?`, args...); err != nil {
		return nil, failure(op, "message", err)
	}
	return out, nil
}

// sqliteClaim is Claim's body on SQLite, run in a transaction.
func (s *Outbox) sqliteClaim(ctx context.Context, token uuid.UUID, now, until utcTime, limit int) ([]messageRow, error) {
	picked := []struct {
		ID    uuid.UUID `bun:"id"`
		Opted bool      `bun:"opted"`
	}{}
	if err := s.idb(ctx).NewRaw(`SELECT m.id, (`+optedOut+`) AS opted FROM notify_messages AS m
WHERE `+claimable+` ORDER BY m.due_at, m.id LIMIT ?`, now, now, limit).Scan(ctx, &picked); err != nil {
		return nil, err
	}
	var claim, drop []uuid.UUID
	for _, p := range picked {
		if p.Opted {
			drop = append(drop, p.ID)
		} else {
			claim = append(claim, p.ID)
		}
	}
	rows := []messageRow{}
	if len(drop) > 0 {
		if _, err := s.idb(ctx).NewUpdate().Table("notify_messages").
			Set("status = ?", string(notify.StatusDropped)).Set("last_error = ?", optedOutSMS).Set("last_error_sealed = NULL").
			Set("claim_token = NULL").Set("lease_until = NULL").Set("updated_at = ?", now).
			Where("id IN (?)", bun.List(drop)).Exec(ctx); err != nil {
			return nil, err
		}
	}
	if len(claim) == 0 {
		return rows, nil
	}
	_, err := s.idb(ctx).NewUpdate().Table("notify_messages").
		Set("status = ?", string(notify.StatusClaimed)).Set("claim_token = ?", token).
		Set("lease_until = ?", until).Set("updated_at = ?", now).
		Where("id IN (?)", bun.List(claim)).Returning("*").Exec(ctx, &rows)
	return rows, err
}

// MarkSending moves the messages among ids still claimed under token to
// StatusSending, in one statement, and returns the IDs it moved, in order.
func (s *Outbox) MarkSending(ctx context.Context, token uuid.UUID, ids []uuid.UUID, now time.Time, lease time.Duration) ([]uuid.UUID, error) {
	out := []uuid.UUID{}
	if len(ids) == 0 {
		return out, nil
	}
	_, err := s.idb(ctx).NewUpdate().Table("notify_messages").
		Set("status = ?", string(notify.StatusSending)).Set("lease_until = ?", utc(now.Add(lease))).
		Set("attempts = attempts + 1").Set("updated_at = ?", utc(now)).
		Where("id IN (?) AND status = ? AND claim_token = ?", bun.List(ids), string(notify.StatusClaimed), token).
		Returning("id").Exec(ctx, &out)
	if err != nil {
		return nil, failure("sqlstore.MarkSending", "message", err)
	}
	slices.SortFunc(out, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return out, nil
}

// recordSet is what Record writes from v, its table of results: the status
// and error (sealed), the provider's ID on a sent message, the new due time
// on a pending one, the attempt given back by an unsent one; the claim and
// lease end.
const recordSet = `status = v.status, last_error = '', last_error_sealed = v.error,
	provider_id = CASE WHEN v.status = 'sent' THEN v.provider_id ELSE m.provider_id END,
	due_at = COALESCE(v.due_at, m.due_at), sent_at = COALESCE(v.sent_at, m.sent_at),
	attempts = CASE WHEN v.unsent = 1 AND m.attempts > 0 THEN m.attempts - 1 ELSE m.attempts END,
	claim_token = NULL, lease_until = NULL, updated_at = v.at`

// Record stores results of sends in one statement (UPDATE ... FROM a table
// of the results); each applies only to a message that is StatusSending
// under token. Errors are sealed (they may quote the recipient): when some
// result has one, one statement before reads the practices of the
// messages.
func (s *Outbox) Record(ctx context.Context, token uuid.UUID, results []notify.Result) error {
	const op = "sqlstore.Record"
	if len(results) == 0 {
		return nil
	}
	practices, err := s.practicesOf(ctx, op, token, results)
	if err != nil {
		return err
	}
	rows := make([][]any, len(results))
	for i, r := range results {
		var due, sent any // NULL unless set
		switch r.Status {
		case notify.StatusSent:
			sent = utc(r.At)
		case notify.StatusPending:
			due = utc(r.DueAt)
		case notify.StatusDead:
		default:
			return errs.Invalid(op, "status", "a send's result is sent, pending or dead, not "+string(r.Status))
		}
		unsent := 0
		if r.Unsent {
			unsent = 1
		}
		var sealed any // NULL: no error, or a message not sending under token
		if p, ok := practices[r.ID]; ok && r.Error != "" {
			ct, err := s.sealError(ctx, op, p, r.ID, r.Error)
			if err != nil {
				return err
			}
			sealed = ct
		}
		rows[i] = []any{r.ID, string(r.Status), r.ProviderID, sealed, due, sent, utc(r.At), unsent}
	}
	from, args := s.valuesTable("v", []valuesColumn{{"id", "uuid"}, {"status", "text"}, {"provider_id", "text"},
		{"error", "bytea"}, {"due_at", "timestamptz"}, {"sent_at", "timestamptz"}, {"at", "timestamptz"}, {"unsent", "integer"}}, rows)
	args = append(args, string(notify.StatusSending), token)
	return s.InTx(ctx, func(ctx context.Context) error {
		// SQLite's RETURNING names the updated table's columns alone, and
		// unqualified; PostgreSQL's must qualify them past v's.
		returning := "practice_id, id, channel, status, sent_at"
		if s.dialect == Postgres {
			returning = "m.practice_id, m.id, m.channel, m.status, m.sent_at"
		}
		var marked []markedRow
		err := s.idb(ctx).NewRaw(`UPDATE notify_messages AS m SET `+recordSet+`
FROM `+from+` WHERE m.id = v.id AND m.status = ? AND m.claim_token = ?
RETURNING `+returning, args...).Scan(ctx, &marked)
		if err != nil {
			return failure(op, "message", err)
		}
		return s.countSent(ctx, op, marked)
	})
}

// markedRow is a message Record changed, as it left it.
type markedRow struct {
	PracticeID uuid.UUID `bun:"practice_id"`
	ID         uuid.UUID `bun:"id"`
	Channel    string    `bun:"channel"`
	Status     string    `bun:"status"`
	SentAt     *utcTime  `bun:"sent_at"`
}

// sentMeters are the usage meters of the channels whose sends are billed.
var sentMeters = map[notify.Channel]billing.Meter{notify.SMS: billing.MeterSMSSent, notify.Email: billing.MeterEmailsSent}

// countSent records a usage event (billing's sms_sent or emails_sent) of
// each message Record marked sent, keyed by the message, in Record's
// transaction: a send is counted once, when it is marked sent.
func (s *Outbox) countSent(ctx context.Context, op string, marked []markedRow) error {
	rows := make([]usageRow, 0, len(marked))
	for _, m := range marked {
		meter, ok := sentMeters[notify.Channel(m.Channel)]
		if !ok || m.Status != string(notify.StatusSent) || m.SentAt == nil {
			continue
		}
		rows = append(rows, usageRow{PracticeID: m.PracticeID, Meter: string(meter), Key: "message:" + m.ID.String(), Units: 1, At: *m.SentAt})
	}
	if len(rows) == 0 {
		return nil
	}
	_, err := s.idb(ctx).NewInsert().Model(&rows).On("CONFLICT DO NOTHING").Exec(ctx)
	return failure(op, "usage event", err)
}

// practicesOf returns the practices of the messages, sending under token,
// of the results that carry an error (none, without a query, if no result
// does).
func (s *Outbox) practicesOf(ctx context.Context, op string, token uuid.UUID, results []notify.Result) (map[uuid.UUID]uuid.UUID, error) {
	var ids []uuid.UUID
	for _, r := range results {
		if r.Error != "" {
			ids = append(ids, r.ID)
		}
	}
	out := make(map[uuid.UUID]uuid.UUID, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows := []struct {
		ID         uuid.UUID `bun:"id"`
		PracticeID uuid.UUID `bun:"practice_id"`
	}{}
	if err := s.idb(ctx).NewSelect().Table("notify_messages").Column("id", "practice_id").
		Where("id IN (?) AND status = ? AND claim_token = ?", bun.List(ids), string(notify.StatusSending), token).
		Scan(ctx, &rows); err != nil {
		return nil, failure(op, "message", err)
	}
	for _, r := range rows {
		out[r.ID] = r.PracticeID
	}
	return out, nil
}

// valuesColumn is a column of a valuesTable: its name and PostgreSQL type.
type valuesColumn struct{ name, pgType string }

// valuesTable returns a FROM item named alias holding rows, and its
// arguments: on PostgreSQL (VALUES (CAST(? AS type), ...), ...) AS
// alias (columns); on SQLite, whose VALUES names its columns column1, ...,
// a SELECT renaming them.
func (s *Outbox) valuesTable(alias string, cols []valuesColumn, rows [][]any) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, len(cols)*len(rows))
	b.WriteString("(")
	if s.dialect == SQLite {
		b.WriteString("SELECT ")
		for i, c := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("column" + strconv.Itoa(i+1) + " AS " + c.name)
		}
		b.WriteString(" FROM (")
	}
	b.WriteString("VALUES ")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		for j := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			if s.dialect == Postgres {
				b.WriteString("CAST(? AS " + cols[j].pgType + ")")
			} else {
				b.WriteString("?")
			}
		}
		b.WriteString(")")
		args = append(args, r...)
	}
	b.WriteString(")")
	if s.dialect == SQLite {
		b.WriteString(") AS " + alias)
		return b.String(), args
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	b.WriteString(" AS " + alias + " (" + strings.Join(names, ", ") + ")")
	return b.String(), args
}

// inDoubt is the condition of a message ClaimInDoubt may take: sending,
// its lease ended before now (the argument).
const inDoubt = `status = 'sending' AND lease_until < ?`

// inDoubtUnopened begins the LastError of a message in doubt that does not
// open.
const inDoubtUnopened = "delivery unknown: a dispatcher stopped while sending it, and it cannot be read to ask its provider: "

// pgClaimInDoubt is ClaimInDoubt on PostgreSQL, one statement; it leaves
// updated_at, the time the message was marked sending. Arguments: token,
// lease end, now, limit.
const pgClaimInDoubt = `UPDATE notify_messages AS m SET claim_token = ?, lease_until = ?
FROM (SELECT id FROM notify_messages WHERE ` + inDoubt + `
	ORDER BY lease_until LIMIT ? FOR UPDATE SKIP LOCKED) AS p
WHERE m.id = p.id
RETURNING m.*`

// ClaimInDoubt takes up to limit messages left sending past their lease
// under token (see notify.Store), on the index notify_messages_sending. On
// PostgreSQL it is one statement with FOR UPDATE SKIP LOCKED; on SQLite two
// in one IMMEDIATE transaction. A message whose sealed fields do not open
// cannot be asked about: as in Claim, it is made dead (delivery unknown,
// and why) and left out.
func (s *Outbox) ClaimInDoubt(ctx context.Context, token uuid.UUID, now time.Time, limit int, lease time.Duration) ([]*notify.Message, error) {
	const op = "sqlstore.ClaimInDoubt"
	if limit <= 0 {
		return []*notify.Message{}, nil
	}
	rows := []messageRow{}
	t, until := utc(now), utc(now.Add(lease))
	var err error
	if s.dialect == Postgres {
		err = s.idb(ctx).NewRaw(pgClaimInDoubt, token, until, t, limit).Scan(ctx, &rows)
	} else {
		err = s.InTx(ctx, func(ctx context.Context) error {
			ids := []uuid.UUID{}
			if err := s.idb(ctx).NewRaw(`SELECT id FROM notify_messages WHERE `+inDoubt+` ORDER BY lease_until, id LIMIT ?`,
				t, limit).Scan(ctx, &ids); err != nil || len(ids) == 0 {
				return err
			}
			_, err := s.idb(ctx).NewUpdate().Table("notify_messages").
				Set("claim_token = ?", token).Set("lease_until = ?", until).
				Where("id IN (?)", bun.List(ids)).Returning("*").Exec(ctx, &rows)
			return err
		})
	}
	if err != nil {
		return nil, failure(op, "message", err)
	}
	slices.SortFunc(rows, func(a, b messageRow) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return s.openClaimed(ctx, op, token, t, rows, inDoubtUnopened)
}
