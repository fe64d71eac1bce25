package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// A message's recipient address, subject, text and HTML are sealed in the
// column sealed of notify_messages (see sealed.go): they name the patient
// and the visit. No query filters on them. The dispatcher opens each message
// it claims once (twice if it failed before: see below).
//
// The errors Record and ApplyDelivery write, a provider's words that may
// quote the recipient, are sealed apart in last_error_sealed, since those
// statements do not hold the message's content; the reasons Drop and Claim
// write (the engine's, naming no one) stay in last_error.
const (
	messagesTable       = "notify_messages"
	messageSealedColumn = "sealed"
	messageErrorColumn  = "last_error_sealed"
	// messageSealedFields is how many fields a message seals.
	messageSealedFields = 4
)

// messageBinding is where message id's sealed fields live.
func messageBinding(id uuid.UUID) keys.Binding {
	return keys.Binding{Table: messagesTable, Column: messageSealedColumn, Row: id.String()}
}

// messageErrorBinding is where message id's sealed error lives.
func messageErrorBinding(id uuid.UUID) keys.Binding {
	return keys.Binding{Table: messagesTable, Column: messageErrorColumn, Row: id.String()}
}

// sealError returns msg sealed for message id of practice, or nil for no
// error.
func (c *conn) sealError(ctx context.Context, op string, practice, id uuid.UUID, msg string) ([]byte, error) {
	if msg == "" {
		return nil, nil
	}
	ct, _, err := c.sealFields(ctx, op, practice, messageErrorBinding(id), msg)
	return ct, err
}

// messagePHI is what a message row seals, or holds in clear in the columns
// of a row written before sealing (sealed NULL).
type messagePHI struct {
	To      string `bun:"to_addr"`
	Subject string `bun:"subject"`
	Text    string `bun:"text"`
	HTML    string `bun:"html"`
}

type messageRow struct {
	bun.BaseModel `bun:"table:notify_messages,alias:m"`

	ID            uuid.UUID  `bun:"id,pk"`
	PracticeID    uuid.UUID  `bun:"practice_id"`
	Key           string     `bun:"key"`
	Kind          string     `bun:"kind"`
	Channel       string     `bun:"channel"`
	PatientID     *uuid.UUID `bun:"patient_id"`
	AppointmentID *uuid.UUID `bun:"appointment_id"`
	// Sealed holds the message's messagePHI; the clear columns only rows
	// from before sealing fill.
	Sealed    []byte `bun:"sealed"`
	SealedKey int64  `bun:"sealed_key"`
	messagePHI
	Language   string     `bun:"language"`
	Status     string     `bun:"status"`
	DueAt      utcTime    `bun:"due_at"`
	Attempts   int        `bun:"attempts"`
	LeaseUntil *utcTime   `bun:"lease_until"`
	ClaimToken *uuid.UUID `bun:"claim_token"`
	ProviderID string     `bun:"provider_id"`
	// LastError is an error the engine wrote, or "" when LastErrorSealed
	// holds one.
	LastError       string   `bun:"last_error"`
	LastErrorSealed []byte   `bun:"last_error_sealed"`
	SentAt          *utcTime `bun:"sent_at"`
	CreatedAt       utcTime  `bun:"created_at"`
	UpdatedAt       utcTime  `bun:"updated_at"`
}

// newMessageRow returns m's row: its recipient and content sealed, their
// clear columns empty.
func (c *conn) newMessageRow(ctx context.Context, op string, m *notify.Message) (messageRow, error) {
	r := messageRow{
		ID:            m.ID,
		PracticeID:    m.PracticeID,
		Key:           m.Key,
		Kind:          string(m.Kind),
		Channel:       string(m.Channel),
		PatientID:     m.PatientID,
		AppointmentID: m.AppointmentID,
		Language:      m.Language,
		Status:        string(m.Status),
		DueAt:         utc(m.DueAt),
		Attempts:      m.Attempts,
		LeaseUntil:    optTime(m.LeaseUntil),
		ProviderID:    m.ProviderID,
		SentAt:        optTime(m.SentAt),
		CreatedAt:     utc(m.CreatedAt),
		UpdatedAt:     utc(m.UpdatedAt),
	}
	var err error
	if r.Sealed, r.SealedKey, err = c.sealFields(ctx, op, m.PracticeID, messageBinding(m.ID), m.To, m.Subject, m.Text, m.HTML); err != nil {
		return r, err
	}
	r.LastErrorSealed, err = c.sealError(ctx, op, m.PracticeID, m.ID, m.LastError)
	return r, err
}

// message returns the row's message, opening its sealed fields: KindConflict
// naming the row if they do not open there (moved or altered), KindNotFound
// if the practice has no keys (shredded).
func (r *messageRow) message(ctx context.Context, c *conn, op string) (*notify.Message, error) {
	phi := r.messagePHI
	if r.Sealed != nil {
		f, err := c.openFields(ctx, op, r.PracticeID, messageBinding(r.ID), r.Sealed, messageSealedFields)
		if err != nil {
			return nil, err
		}
		phi = messagePHI{To: f[0], Subject: f[1], Text: f[2], HTML: f[3]}
	}
	lastError := r.LastError
	if r.LastErrorSealed != nil {
		f, err := c.openFields(ctx, op, r.PracticeID, messageErrorBinding(r.ID), r.LastErrorSealed, 1)
		if err != nil {
			return nil, err
		}
		lastError = f[0]
	}
	return &notify.Message{
		ID:            r.ID,
		PracticeID:    r.PracticeID,
		Key:           r.Key,
		Kind:          notify.Kind(r.Kind),
		Channel:       notify.Channel(r.Channel),
		PatientID:     r.PatientID,
		AppointmentID: r.AppointmentID,
		To:            phi.To,
		Subject:       phi.Subject,
		Text:          phi.Text,
		HTML:          phi.HTML,
		Language:      r.Language,
		Status:        notify.Status(r.Status),
		DueAt:         r.DueAt.Time(),
		Attempts:      r.Attempts,
		LeaseUntil:    r.LeaseUntil.timePtr(),
		ProviderID:    r.ProviderID,
		LastError:     lastError,
		SentAt:        r.SentAt.timePtr(),
		CreatedAt:     r.CreatedAt.Time(),
		UpdatedAt:     r.UpdatedAt.Time(),
	}, nil
}

// messages opens rows, in their order, into a non-nil slice; the first row
// that does not open fails them all.
func (c *conn) messages(ctx context.Context, op string, rows []messageRow) ([]*notify.Message, error) {
	out := make([]*notify.Message, len(rows))
	for i := range rows {
		m, err := rows[i].message(ctx, c, op)
		if err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

// enqueueConflict is Enqueue's ON CONFLICT clause: a key taken by a dropped
// message is revived with the new message's content and ID; any other is
// skipped.
const enqueueConflict = `CONFLICT (practice_id, key) DO UPDATE SET id = excluded.id, kind = excluded.kind,
	channel = excluded.channel, patient_id = excluded.patient_id, appointment_id = excluded.appointment_id,
	sealed = excluded.sealed, sealed_key = excluded.sealed_key,
	to_addr = excluded.to_addr, subject = excluded.subject, text = excluded.text, html = excluded.html,
	language = excluded.language, status = excluded.status, due_at = excluded.due_at,
	attempts = excluded.attempts, lease_until = excluded.lease_until, claim_token = excluded.claim_token,
	provider_id = excluded.provider_id, last_error = excluded.last_error,
	last_error_sealed = excluded.last_error_sealed, sent_at = excluded.sent_at,
	created_at = excluded.created_at, updated_at = excluded.updated_at`

// Enqueue writes msgs in one multi-row INSERT ... ON CONFLICT (see
// notify.Store). Of several messages of one call with the same practice and
// key, the first is written.
func (s *Notify) Enqueue(ctx context.Context, msgs ...*notify.Message) (int, error) {
	const op = "sqlstore.Enqueue"
	type pk struct {
		practice uuid.UUID
		key      string
	}
	seen := make(map[pk]bool, len(msgs))
	rows := make([]messageRow, 0, len(msgs))
	for _, m := range msgs {
		if !m.Channel.Valid() {
			return 0, errs.Invalid(op, "channel", "unknown channel "+string(m.Channel))
		}
		if m.Key == "" {
			return 0, errs.Invalid(op, "key", "a message needs an idempotency key")
		}
		k := pk{m.PracticeID, m.Key}
		if seen[k] {
			continue
		}
		seen[k] = true
		row, err := s.newMessageRow(ctx, op, m)
		if err != nil {
			return 0, err
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	res, err := s.idb(ctx).NewInsert().Model(&rows).ModelTableExpr("notify_messages").
		On(enqueueConflict+" WHERE notify_messages.status = ?", string(notify.StatusDropped)).Exec(ctx)
	return rowsAffected(op, "message", res, err)
}

// rowsAffected returns how many rows an UPDATE, INSERT or DELETE touched.
func rowsAffected(op, what string, res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, failure(op, what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, failure(op, what, err)
	}
	return int(n), nil
}

// Drop withdraws the practice's waiting messages that match f (see
// notify.Store).
func (s *Notify) Drop(ctx context.Context, practice tenant.PracticeID, f notify.DropFilter, reason string, at time.Time) (int, error) {
	const op = "sqlstore.Drop"
	if f.AppointmentID == nil && f.PatientID == nil {
		return 0, errs.Invalid(op, "filter", "Drop needs an appointment or a patient")
	}
	q := s.idb(ctx).NewUpdate().Table("notify_messages").
		Set("status = ?", string(notify.StatusDropped)).Set("last_error = ?", reason).Set("last_error_sealed = NULL").
		Set("claim_token = NULL").Set("lease_until = NULL").Set("updated_at = ?", utc(at)).
		Where("practice_id = ?", practice).
		Where("status IN (?)", bun.List([]string{string(notify.StatusPending), string(notify.StatusClaimed)}))
	if f.AppointmentID != nil {
		q = q.Where("appointment_id = ?", *f.AppointmentID)
	}
	if f.PatientID != nil {
		q = q.Where("patient_id = ?", *f.PatientID)
	}
	if f.Channel != "" {
		q = q.Where("channel = ?", string(f.Channel))
	}
	if len(f.Kinds) > 0 {
		q = q.Where("kind IN (?)", bun.List(f.Kinds))
	}
	res, err := q.Exec(ctx)
	return rowsAffected(op, "message", res, err)
}

// Message returns one message of the practice, KindNotFound if it has none
// with that ID.
func (s *Notify) Message(ctx context.Context, practice tenant.PracticeID, id uuid.UUID) (*notify.Message, error) {
	const op = "sqlstore.Message"
	var row messageRow
	if err := s.idb(ctx).NewSelect().Model(&row).Where("m.practice_id = ? AND m.id = ?", practice, id).Scan(ctx); err != nil {
		return nil, failure(op, "message", err)
	}
	return row.message(ctx, s.conn, op)
}

// Messages returns the practice's messages matching f, by ID; KindConflict
// naming the row if one of them does not open.
func (s *Notify) Messages(ctx context.Context, practice tenant.PracticeID, f notify.MessageFilter) ([]*notify.Message, error) {
	const op = "sqlstore.Messages"
	rows := []messageRow{}
	q := s.idb(ctx).NewSelect().Model(&rows).Where("m.practice_id = ?", practice)
	if len(f.Status) > 0 {
		q = q.Where("m.status IN (?)", bun.List(f.Status))
	}
	if f.Channel != "" {
		q = q.Where("m.channel = ?", string(f.Channel))
	}
	if f.Kind != "" {
		q = q.Where("m.kind = ?", string(f.Kind))
	}
	if f.PatientID != nil {
		q = q.Where("m.patient_id = ?", *f.PatientID)
	}
	if f.AppointmentID != nil {
		q = q.Where("m.appointment_id = ?", *f.AppointmentID)
	}
	if f.After != nil {
		q = q.Where("m.id > ?", *f.After)
	}
	q = q.OrderExpr("m.id")
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure(op, "message", err)
	}
	return s.messages(ctx, op, rows)
}

// transition moves one message of the practice from status from to what
// set says, returning it. When no message moved it returns the message as
// it is (ok false), or KindNotFound. It runs in a transaction, so that a
// message whose sealed fields do not open is left as it was.
func (s *Notify) transition(ctx context.Context, op string, practice tenant.PracticeID, id uuid.UUID,
	from notify.Status, set func(q *bun.UpdateQuery) *bun.UpdateQuery) (m *notify.Message, ok bool, err error) {
	err = s.InTx(ctx, func(ctx context.Context) error {
		rows := []messageRow{}
		q := s.idb(ctx).NewUpdate().Table("notify_messages").
			Where("practice_id = ? AND id = ? AND status = ?", practice, id, string(from))
		if _, err := set(q).Returning("*").Exec(ctx, &rows); err != nil {
			return failure(op, "message", err)
		}
		if len(rows) == 1 {
			m, err = rows[0].message(ctx, s.conn, op)
			ok = err == nil
			return err
		}
		m, err = s.Message(ctx, practice, id)
		if errs.KindOf(err) == errs.KindNotFound {
			return errs.Wrap(errs.KindNotFound, op, "message not found", err)
		}
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return m, ok, nil
}

// Retry makes a dead message pending again, due at at (see notify.Store).
// Attempts are kept.
func (s *Notify) Retry(ctx context.Context, practice tenant.PracticeID, id uuid.UUID, at time.Time) (*notify.Message, error) {
	const op = "sqlstore.Retry"
	m, ok, err := s.transition(ctx, op, practice, id, notify.StatusDead, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("status = ?", string(notify.StatusPending)).Set("due_at = ?", utc(at)).
			Set("claim_token = NULL").Set("lease_until = NULL").Set("updated_at = ?", utc(at))
	})
	if err != nil || ok {
		return m, err
	}
	return nil, errs.Conflict(op, "the message is "+string(m.Status)+", not dead")
}

// MarkRead marks an unread in-app message read; a read one is returned as
// it is, and any other is KindConflict.
func (s *Notify) MarkRead(ctx context.Context, practice tenant.PracticeID, id uuid.UUID, at time.Time) (*notify.Message, error) {
	const op = "sqlstore.MarkRead"
	m, ok, err := s.transition(ctx, op, practice, id, notify.StatusUnread, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("status = ?", string(notify.StatusRead)).Set("updated_at = ?", utc(at))
	})
	if err != nil || ok || m.Status == notify.StatusRead {
		return m, err
	}
	return nil, errs.Conflict(op, "the message is "+string(m.Status)+", not an in-app message")
}

// ResolveRequests marks the unread in-app requests about an appointment read.
func (s *Notify) ResolveRequests(ctx context.Context, practice tenant.PracticeID, appointment uuid.UUID, at time.Time) (int, error) {
	res, err := s.idb(ctx).NewUpdate().Table("notify_messages").
		Set("status = ?", string(notify.StatusRead)).Set("updated_at = ?", utc(at)).
		Where("practice_id = ? AND appointment_id = ?", practice, appointment).
		Where("channel = ? AND kind = ? AND status = ?",
			string(notify.InApp), string(notify.KindRequested), string(notify.StatusUnread)).
		Exec(ctx)
	return rowsAffected("sqlstore.ResolveRequests", "message", res, err)
}

// UnreadCount counts the practice's unread in-app messages.
func (s *Notify) UnreadCount(ctx context.Context, practice tenant.PracticeID) (int, error) {
	n, err := s.idb(ctx).NewSelect().Model((*messageRow)(nil)).
		Where("m.practice_id = ? AND m.status = ? AND m.channel = ?",
			practice, string(notify.StatusUnread), string(notify.InApp)).
		Count(ctx)
	if err != nil {
		return 0, failure("sqlstore.UnreadCount", "message", err)
	}
	return int(n), nil
}

// Usage counts the practice's SMS and email messages sent in [from, to),
// by channel name.
func (s *Notify) Usage(ctx context.Context, practice tenant.PracticeID, from, to time.Time) ([]notify.UsageCount, error) {
	out := []notify.UsageCount{}
	err := s.idb(ctx).NewSelect().Model((*messageRow)(nil)).
		ColumnExpr("m.channel AS channel, count(*) AS count").
		Where("m.practice_id = ? AND m.sent_at >= ? AND m.sent_at < ?", practice, utc(from), utc(to)).
		Where("m.channel IN (?)", bun.List([]string{string(notify.SMS), string(notify.Email)})).
		GroupExpr("m.channel").OrderExpr("m.channel").
		Scan(ctx, &out)
	if err != nil {
		return nil, failure("sqlstore.Usage", "message", err)
	}
	return out, nil
}

// UseLink records the single use of a link's nonce; KindConflict if it was
// used before, KindNotFound if the practice is unknown.
func (s *Notify) UseLink(ctx context.Context, practice tenant.PracticeID, nonce uuid.UUID, at time.Time) error {
	return s.insertOnce(ctx, "sqlstore.UseLink", "the link was already used",
		`INSERT INTO notify_link_uses (practice_id, nonce, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		practice, nonce, utc(at))
}

// insertOnce runs an INSERT ... ON CONFLICT DO NOTHING and turns a skipped
// row into KindConflict with msg. Skipping instead of failing keeps a
// PostgreSQL transaction usable after the conflict.
func (s *Notify) insertOnce(ctx context.Context, op, msg, query string, args ...any) error {
	res, err := s.idb(ctx).ExecContext(ctx, query, args...)
	n, err := rowsAffected(op, "record", res, err)
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.Conflict(op, msg)
	}
	return nil
}

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	keep := parts[:0:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

// ResealMessages seals again, with practice's primary key, up to limit of
// its outbox messages that an older key sealed or that an earlier release
// left in clear (their recipient, content and error), and returns how many
// it rewrote: 0 when none is left (see resealRows).
func (s *Notify) ResealMessages(ctx context.Context, practice tenant.PracticeID, limit int) (int, error) {
	const op = "sqlstore.ResealMessages"
	return resealRows(ctx, s.conn, op, practice, limit, "m", nil, func(ctx context.Context, r *messageRow) error {
		m, err := r.message(ctx, s.conn, op)
		if err != nil {
			return err
		}
		row, err := s.newMessageRow(ctx, op, m)
		if err != nil {
			return err
		}
		_, err = s.idb(ctx).NewUpdate().Model(&row).
			Column("sealed", "sealed_key", "to_addr", "subject", "text", "html", "last_error", "last_error_sealed").
			WherePK().Exec(ctx)
		return failure(op, "message", err)
	})
}
