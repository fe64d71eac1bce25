package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Visit payments (billing.Store): billing_payments holds each payment, and
// billing_entries its ledger, one row an entry, numbered from 1 and never
// updated; the primary key (payment, seq) and the unique idempotency key
// per payment make two racing steps record one entry. LockPayment holds the
// payment's row (FOR UPDATE on PostgreSQL; SQLite's one writer) while a
// step or a webhook event is recorded. billing_events remembers every
// webhook event by the provider's ID, in the transaction of its effect.

type paymentRow struct {
	bun.BaseModel `bun:"table:billing_payments,alias:bp"`

	PracticeID      uuid.UUID  `bun:"practice_id,pk"`
	ID              uuid.UUID  `bun:"id,pk"`
	Provider        string     `bun:"provider"`
	Ref             string     `bun:"ref"`
	Amount          int64      `bun:"amount"`
	Currency        string     `bun:"currency"`
	MethodKind      string     `bun:"method_kind"`
	MethodToken     string     `bun:"method_token"`
	MethodReference string     `bun:"method_reference"`
	OffSession      bool       `bun:"off_session"`
	Purpose         string     `bun:"purpose"`
	PatientID       *uuid.UUID `bun:"patient_id"`
	AppointmentID   *uuid.UUID `bun:"appointment_id"`
	Declines        int        `bun:"declines"`
	CreatedAt       utcTime    `bun:"created_at"`
	CreatedBy       string     `bun:"created_by"`
}

type entryRow struct {
	bun.BaseModel `bun:"table:billing_entries,alias:be"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	PaymentID  uuid.UUID `bun:"payment_id,pk"`
	Seq        int       `bun:"seq,pk"`
	Kind       string    `bun:"kind"`
	Amount     int64     `bun:"amount"`
	At         utcTime   `bun:"at"`
	By         string    `bun:"by_actor"`
	Key        string    `bun:"idem_key"`
	ProviderTx string    `bun:"provider_tx"`
	Reverses   int       `bun:"reverses"`
	Reason     string    `bun:"reason"`
}

func (r *paymentRow) payment() *billing.Payment {
	cur := billing.Currency(r.Currency)
	return &billing.Payment{ID: r.ID, Practice: r.PracticeID, Amount: billing.Money{Amount: r.Amount, Currency: cur},
		Method: billing.Method{Kind: billing.MethodKind(r.MethodKind), Token: r.MethodToken, Reference: r.MethodReference, OffSession: r.OffSession},
		Ref:    billing.Ref(r.Ref), Declines: r.Declines, Provider: r.Provider, Purpose: billing.Purpose(r.Purpose),
		Patient: r.PatientID, Appointment: r.AppointmentID, CreatedAt: r.CreatedAt.Time(), CreatedBy: actor.Parse(r.CreatedBy)}
}

func (r *entryRow) entry(cur billing.Currency) billing.Entry {
	return billing.Entry{Seq: r.Seq, Kind: billing.EntryKind(r.Kind), Amount: billing.Money{Amount: r.Amount, Currency: cur},
		At: r.At.Time(), By: actor.Parse(r.By), Key: billing.Key(r.Key), ProviderTx: r.ProviderTx, Reverses: r.Reverses, Reason: r.Reason}
}

// CreatePayment writes p with an empty ledger (billing.Store); a second
// fee of one purpose for an appointment is KindConflict, an unknown
// patient or appointment KindNotFound.
func (s *Billing) CreatePayment(ctx context.Context, p *billing.Payment) error {
	const op = "sqlstore.CreatePayment"
	if p == nil || p.ID == uuid.Nil || p.Practice == uuid.Nil {
		return errs.Invalid(op, "payment", "a payment with its ID and practice is required")
	}
	if len(p.Ledger) > 0 {
		return errs.Invalid(op, "ledger", "a new payment has no entries yet")
	}
	row := &paymentRow{PracticeID: p.Practice, ID: p.ID, Provider: p.Provider, Ref: string(p.Ref), Amount: p.Amount.Amount,
		Currency: string(p.Amount.Currency), MethodKind: string(p.Method.Kind), MethodToken: p.Method.Token,
		MethodReference: p.Method.Reference, OffSession: p.Method.OffSession, Purpose: string(p.Purpose),
		PatientID: p.Patient, AppointmentID: p.Appointment, Declines: p.Declines, CreatedAt: utc(p.CreatedAt), CreatedBy: p.CreatedBy.String()}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	if errs.Is(failure(op, "payment", err), errs.KindConflict) && p.Purpose.Fee() {
		return &errs.Error{Kind: errs.KindConflict, Op: op, Field: "purpose", Msg: "this appointment's " + string(p.Purpose) + " was charged already", Err: err}
	}
	return failure(op, "payment", err)
}

// Payment reads payment id of practice with its ledger (billing.Store).
func (s *Billing) Payment(ctx context.Context, practice tenant.PracticeID, id billing.PaymentID) (*billing.Payment, error) {
	return s.readPayment(ctx, "sqlstore.Payment", practice, id, false)
}

// LockPayment reads payment id and holds its row until the transaction
// in ctx ends (billing.Store); outside a transaction it is KindInternal.
func (s *Billing) LockPayment(ctx context.Context, practice tenant.PracticeID, id billing.PaymentID) (*billing.Payment, error) {
	const op = "sqlstore.LockPayment"
	if !s.HasTx(ctx) {
		return nil, errs.E(errs.KindInternal, op, "LockPayment called outside InTx")
	}
	return s.readPayment(ctx, op, practice, id, true)
}

func (s *Billing) readPayment(ctx context.Context, op string, practice tenant.PracticeID, id billing.PaymentID, lock bool) (*billing.Payment, error) {
	var row paymentRow
	q := s.idb(ctx).NewSelect().Model(&row).Where("bp.practice_id = ? AND bp.id = ?", practice, id)
	if lock && s.dialect == Postgres {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure(op, "payment", err)
	}
	ps, err := s.withLedgers(ctx, op, practice, []paymentRow{row})
	if err != nil {
		return nil, err
	}
	return ps[0], nil
}

// withLedgers returns the payments of rows, each with its ledger, read in
// one query.
func (s *Billing) withLedgers(ctx context.Context, op string, practice tenant.PracticeID, rows []paymentRow) ([]*billing.Payment, error) {
	out := make([]*billing.Payment, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]uuid.UUID, len(rows))
	byID := make(map[uuid.UUID]*billing.Payment, len(rows))
	for i := range rows {
		out[i] = rows[i].payment()
		ids[i] = rows[i].ID
		byID[rows[i].ID] = out[i]
	}
	var entries []entryRow
	if err := s.idb(ctx).NewSelect().Model(&entries).Where("be.practice_id = ?", practice).
		Where("be.payment_id IN (?)", bun.List(ids)).OrderExpr("be.payment_id, be.seq").Scan(ctx); err != nil {
		return nil, failure(op, "payment", err)
	}
	for i := range entries {
		p := byID[entries[i].PaymentID]
		p.Ledger = append(p.Ledger, entries[i].entry(p.Amount.Currency))
	}
	return out, nil
}

// PaymentByRef finds the payment provider knows as ref, in any practice
// (billing.Store).
func (s *Billing) PaymentByRef(ctx context.Context, provider string, ref billing.Ref) (*billing.Payment, error) {
	const op = "sqlstore.PaymentByRef"
	if ref == "" {
		return nil, errs.NotFound(op, "payment")
	}
	var row paymentRow
	if err := s.idb(ctx).NewSelect().Model(&row).Column("practice_id", "id").
		Where("bp.provider = ? AND bp.ref = ? AND bp.ref <> ''", provider, string(ref)).Limit(1).Scan(ctx); err != nil {
		return nil, failure(op, "payment", err)
	}
	return s.readPayment(ctx, op, row.PracticeID, row.ID, false)
}

// AppendEntry writes e, p's next entry, with p's Ref and Declines
// (billing.Store).
func (s *Billing) AppendEntry(ctx context.Context, p *billing.Payment, e billing.Entry) error {
	const op = "sqlstore.AppendEntry"
	if e.Seq < 1 {
		return errs.Invalid(op, "seq", "entries are numbered from 1")
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		row := &entryRow{PracticeID: p.Practice, PaymentID: p.ID, Seq: e.Seq, Kind: string(e.Kind), Amount: e.Amount.Amount,
			At: utc(e.At), By: e.By.String(), Key: string(e.Key), ProviderTx: e.ProviderTx, Reverses: e.Reverses, Reason: e.Reason}
		if _, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx); err != nil {
			if ferr := failure(op, "entry", err); errs.Is(ferr, errs.KindConflict) {
				return &errs.Error{Kind: errs.KindConflict, Op: op, Field: "seq", Msg: "the payment's ledger changed meanwhile: try again", Err: err}
			}
			return failure(op, "entry", err)
		}
		res, err := s.idb(ctx).NewUpdate().Model((*paymentRow)(nil)).Set("ref = ?", string(p.Ref)).Set("declines = ?", p.Declines).
			Where("bp.practice_id = ? AND bp.id = ?", p.Practice, p.ID).Exec(ctx)
		return oneRow(op, "payment", res, err)
	})
}

// oneRow fails unless a statement changed exactly one row: none is
// KindNotFound.
func oneRow(op, what string, res interface{ RowsAffected() (int64, error) }, err error) error {
	if err != nil {
		return failure(op, what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return failure(op, what, err)
	}
	if n != 1 {
		return errs.NotFound(op, what)
	}
	return nil
}

// noEntries is the condition of a payment with an empty ledger.
const noEntries = `NOT EXISTS (SELECT 1 FROM billing_entries AS be WHERE be.practice_id = bp.practice_id AND be.payment_id = bp.id)`

// SetMethod changes how a payment with an empty ledger is taken
// (billing.Store).
func (s *Billing) SetMethod(ctx context.Context, practice tenant.PracticeID, id billing.PaymentID, provider string, m billing.Method) error {
	const op = "sqlstore.SetMethod"
	res, err := s.idb(ctx).NewUpdate().Model((*paymentRow)(nil)).Set("provider = ?", provider).Set("method_kind = ?", string(m.Kind)).
		Set("method_token = ?", m.Token).Set("method_reference = ?", m.Reference).Set("off_session = ?", m.OffSession).
		Where("bp.practice_id = ? AND bp.id = ?", practice, id).Where(noEntries).Exec(ctx)
	if err := oneRow(op, "payment", res, err); !errs.Is(err, errs.KindNotFound) {
		return err
	}
	if _, err := s.Payment(ctx, practice, id); err != nil {
		return err
	}
	return errs.Conflict(op, "the payment was taken already: its method cannot change")
}

// OwedOnline lists the fees to charge online written before before, with
// an empty ledger and no decline, oldest first (billing.Store).
func (s *Billing) OwedOnline(ctx context.Context, before time.Time, limit int) ([]*billing.Payment, error) {
	const op = "sqlstore.OwedOnline"
	var rows []paymentRow
	if err := s.idb(ctx).NewSelect().Model(&rows).
		Where("bp.purpose IN ('no_show_fee', 'late_cancel') AND bp.provider <> ? AND bp.declines = 0", billing.ProviderDesk).
		Where("bp.created_at < ?", utc(before)).Where(noEntries).
		OrderExpr("bp.created_at, bp.id").Limit(int64(max(limit, 1))).Scan(ctx); err != nil {
		return nil, failure(op, "payment", err)
	}
	out := make([]*billing.Payment, len(rows))
	for i := range rows {
		out[i] = rows[i].payment()
	}
	return out, nil
}

// SetDeclines records the payment's count of declines (billing.Store).
func (s *Billing) SetDeclines(ctx context.Context, practice tenant.PracticeID, id billing.PaymentID, declines int) error {
	const op = "sqlstore.SetDeclines"
	res, err := s.idb(ctx).NewUpdate().Model((*paymentRow)(nil)).Set("declines = ?", declines).
		Where("bp.practice_id = ? AND bp.id = ?", practice, id).Exec(ctx)
	return oneRow(op, "payment", res, err)
}

// Payments lists the practice's payments matching f, newest first
// (billing.Store).
func (s *Billing) Payments(ctx context.Context, practice tenant.PracticeID, f billing.PaymentFilter) ([]*billing.Payment, error) {
	const op = "sqlstore.Payments"
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	if f.Appointments != nil && f.Limit <= 0 {
		// Bounded by the appointments named: a calendar page's.
		limit = 0
	}
	var rows []paymentRow
	q := s.idb(ctx).NewSelect().Model(&rows).Where("bp.practice_id = ?", practice)
	if f.Patient != nil {
		q = q.Where("bp.patient_id = ?", *f.Patient)
	}
	if f.Appointment != nil {
		q = q.Where("bp.appointment_id = ?", *f.Appointment)
	}
	if f.Appointments != nil {
		if len(f.Appointments) == 0 {
			return []*billing.Payment{}, nil
		}
		q = q.Where("bp.appointment_id IN (?)", bun.List(f.Appointments))
	}
	if !f.From.IsZero() {
		q = q.Where("bp.created_at >= ?", utc(f.From))
	}
	if !f.To.IsZero() {
		q = q.Where("bp.created_at < ?", utc(f.To))
	}
	q = q.OrderExpr("bp.created_at DESC, bp.id DESC")
	if limit > 0 {
		q = q.Limit(int64(limit))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure(op, "payment", err)
	}
	return s.withLedgers(ctx, op, practice, rows)
}

type eventRow struct {
	bun.BaseModel `bun:"table:billing_events,alias:bv"`

	Provider   string     `bun:"provider,pk"`
	EventID    string     `bun:"event_id,pk"`
	Type       string     `bun:"type"`
	Ref        string     `bun:"ref"`
	PracticeID *uuid.UUID `bun:"practice_id"`
	PaymentID  *uuid.UUID `bun:"payment_id"`
	State      string     `bun:"state"`
	Effect     string     `bun:"effect"`
	ArrivedAt  utcTime    `bun:"arrived_at"`
	SettledAt  *utcTime   `bun:"settled_at"`
}

// effect is an event's ledger effect as kept in billing_events.effect.
type effect struct {
	Kind       billing.EntryKind `json:"kind"`
	Amount     int64             `json:"amount"`
	Currency   string            `json:"currency"`
	ProviderTx string            `json:"provider_tx,omitempty"`
	At         time.Time         `json:"at"`
}

// RememberEvent records the event (billing.Store); false when the
// provider's ID was recorded before.
func (s *Billing) RememberEvent(ctx context.Context, ev billing.StoredEvent) (bool, error) {
	const op = "sqlstore.RememberEvent"
	if ev.Provider == "" || ev.Event.ID == "" {
		return false, errs.Invalid(op, "id", "an event's provider and ID are required")
	}
	row := &eventRow{Provider: ev.Provider, EventID: ev.Event.ID, Type: ev.Event.Type, Ref: string(ev.Event.Ref),
		PaymentID: ev.Payment, State: string(ev.State), ArrivedAt: utc(ev.At)}
	if ev.Practice != uuid.Nil {
		row.PracticeID = &ev.Practice
	}
	if r := ev.Event.Result; r.Kind != "" {
		b, err := json.Marshal(effect{Kind: r.Kind, Amount: r.Amount.Amount, Currency: string(r.Amount.Currency), ProviderTx: r.ProviderTx, At: r.At.UTC()})
		if err != nil {
			return false, errs.Wrap(errs.KindInternal, op, "the event's effect does not encode", err)
		}
		row.Effect = string(b)
	}
	if ev.State == billing.EventApplied {
		now := utc(ev.At)
		row.SettledAt = &now
	}
	res, err := s.idb(ctx).NewInsert().Model(row).On("CONFLICT (provider, event_id) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, failure(op, "event", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, failure(op, "event", err)
	}
	return n == 1, nil
}

// WaitingEvents lists payment's waiting events, oldest first
// (billing.Store).
func (s *Billing) WaitingEvents(ctx context.Context, practice tenant.PracticeID, payment billing.PaymentID) ([]billing.StoredEvent, error) {
	const op = "sqlstore.WaitingEvents"
	var rows []eventRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("bv.practice_id = ? AND bv.payment_id = ? AND bv.state = 'waiting'", practice, payment).
		OrderExpr("bv.arrived_at, bv.event_id").Scan(ctx); err != nil {
		return nil, failure(op, "event", err)
	}
	out := make([]billing.StoredEvent, len(rows))
	for i, r := range rows {
		var ef effect
		if err := json.Unmarshal([]byte(r.Effect), &ef); err != nil {
			return nil, errs.Wrap(errs.KindInternal, op, "a waiting event's effect does not decode", err)
		}
		out[i] = billing.StoredEvent{Provider: r.Provider, Practice: practice, Payment: r.PaymentID, State: billing.EventState(r.State), At: r.ArrivedAt.Time(),
			Event: billing.Event{ID: r.EventID, Type: r.Type, Ref: billing.Ref(r.Ref), Result: billing.Result{Ref: billing.Ref(r.Ref), Kind: ef.Kind,
				Amount: billing.Money{Amount: ef.Amount, Currency: billing.Currency(ef.Currency)}, ProviderTx: ef.ProviderTx, At: ef.At}}}
	}
	return out, nil
}

// SettleEvent marks a waiting event applied (billing.Store).
func (s *Billing) SettleEvent(ctx context.Context, provider, id string, at time.Time) error {
	const op = "sqlstore.SettleEvent"
	res, err := s.idb(ctx).NewUpdate().Model((*eventRow)(nil)).Set("state = 'applied'").Set("settled_at = ?", utc(at)).
		Where("bv.provider = ? AND bv.event_id = ? AND bv.state = 'waiting'", provider, id).Exec(ctx)
	return oneRow(op, "event", res, err)
}

type policyRow struct {
	bun.BaseModel `bun:"table:billing_policies,alias:bpo"`

	PracticeID        uuid.UUID `bun:"practice_id,pk"`
	VisitTypeID       uuid.UUID `bun:"visit_type_id,pk"`
	Collect           string    `bun:"collect"`
	FirstVisit        string    `bun:"first_visit"`
	Currency          string    `bun:"currency"`
	Price             int64     `bun:"price"`
	Deposit           int64     `bun:"deposit"`
	NoShowFixed       int64     `bun:"no_show_fixed"`
	NoShowPercent     int       `bun:"no_show_percent"`
	LateCancelFixed   int64     `bun:"late_cancel_fixed"`
	LateCancelPercent int       `bun:"late_cancel_percent"`
	UpdatedAt         utcTime   `bun:"updated_at"`
	UpdatedBy         string    `bun:"updated_by"`
}

func (r *policyRow) policy() *billing.Policy {
	cur := billing.Currency(r.Currency)
	m := func(n int64) billing.Money { return billing.Money{Amount: n, Currency: cur} }
	p := &billing.Policy{Practice: r.PracticeID, Collect: billing.Collect(r.Collect), FirstVisit: billing.Collect(r.FirstVisit),
		Price: m(r.Price), Deposit: m(r.Deposit), NoShow: billing.Fee{Fixed: m(r.NoShowFixed), Percent: r.NoShowPercent},
		LateCancel: billing.Fee{Fixed: m(r.LateCancelFixed), Percent: r.LateCancelPercent}, UpdatedAt: r.UpdatedAt.Time(), UpdatedBy: actor.Parse(r.UpdatedBy)}
	if r.VisitTypeID != uuid.Nil {
		vt := r.VisitTypeID
		p.VisitType = &vt
	}
	return p
}

// policyCurrency is the one currency of p's amounts ("" when it has none).
func policyCurrency(p *billing.Policy) billing.Currency {
	for _, m := range []billing.Money{p.Price, p.Deposit, p.NoShow.Fixed, p.LateCancel.Fixed} {
		if m.Currency != "" {
			return m.Currency
		}
	}
	return ""
}

// Policy returns the policy of visitType (nil: the practice's default)
// in practice, or KindNotFound (billing.Store).
func (s *Billing) Policy(ctx context.Context, practice tenant.PracticeID, visitType *uuid.UUID) (*billing.Policy, error) {
	var vt uuid.UUID
	if visitType != nil {
		vt = *visitType
	}
	var row policyRow
	if err := s.idb(ctx).NewSelect().Model(&row).Where("bpo.practice_id = ? AND bpo.visit_type_id = ?", practice, vt).Scan(ctx); err != nil {
		return nil, failure("sqlstore.Policy", "policy", err)
	}
	return row.policy(), nil
}

// Policies lists the practice's policies, its default first
// (billing.Store).
func (s *Billing) Policies(ctx context.Context, practice tenant.PracticeID) ([]*billing.Policy, error) {
	var rows []policyRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("bpo.practice_id = ?", practice).OrderExpr("bpo.visit_type_id").Scan(ctx); err != nil {
		return nil, failure("sqlstore.Policies", "policy", err)
	}
	out := make([]*billing.Policy, len(rows))
	for i := range rows {
		out[i] = rows[i].policy()
	}
	return out, nil
}

// PutPolicy writes p, replacing its visit type's policy (billing.Store).
func (s *Billing) PutPolicy(ctx context.Context, p *billing.Policy) error {
	const op = "sqlstore.PutPolicy"
	if p == nil || p.Practice == uuid.Nil {
		return errs.Invalid(op, "practice", "a policy names its practice")
	}
	row := &policyRow{PracticeID: p.Practice, Collect: string(p.Collect), FirstVisit: string(p.FirstVisit), Currency: string(policyCurrency(p)),
		Price: p.Price.Amount, Deposit: p.Deposit.Amount, NoShowFixed: p.NoShow.Fixed.Amount, NoShowPercent: p.NoShow.Percent,
		LateCancelFixed: p.LateCancel.Fixed.Amount, LateCancelPercent: p.LateCancel.Percent, UpdatedAt: utc(p.UpdatedAt), UpdatedBy: p.UpdatedBy.String()}
	if p.VisitType != nil {
		row.VisitTypeID = *p.VisitType
	}
	_, err := s.idb(ctx).NewInsert().Model(row).On("CONFLICT (practice_id, visit_type_id) DO UPDATE").
		Set("collect = EXCLUDED.collect, first_visit = EXCLUDED.first_visit, currency = EXCLUDED.currency, price = EXCLUDED.price").
		Set("deposit = EXCLUDED.deposit, no_show_fixed = EXCLUDED.no_show_fixed, no_show_percent = EXCLUDED.no_show_percent").
		Set("late_cancel_fixed = EXCLUDED.late_cancel_fixed, late_cancel_percent = EXCLUDED.late_cancel_percent").
		Set("updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by").Exec(ctx)
	return failure(op, "policy", err)
}

type cardRow struct {
	bun.BaseModel `bun:"table:billing_cards,alias:bc"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	PatientID  uuid.UUID `bun:"patient_id,pk"`
	Provider   string    `bun:"provider,pk"`
	Token      string    `bun:"token"`
	Label      string    `bun:"label"`
	SavedAt    utcTime   `bun:"saved_at"`
}

// SaveCard records a patient's card on file, replacing an earlier one
// (billing.Store).
func (s *Billing) SaveCard(ctx context.Context, c billing.Card) error {
	const op = "sqlstore.SaveCard"
	if c.Token == "" {
		return errs.Invalid(op, "token", "a card's token is required")
	}
	row := &cardRow{PracticeID: c.Practice, PatientID: c.Patient, Provider: c.Provider, Token: c.Token, Label: c.Label, SavedAt: utc(c.SavedAt)}
	_, err := s.idb(ctx).NewInsert().Model(row).On("CONFLICT (practice_id, patient_id, provider) DO UPDATE").
		Set("token = EXCLUDED.token, label = EXCLUDED.label, saved_at = EXCLUDED.saved_at").Exec(ctx)
	return failure(op, "card", err)
}

// CardOnFile returns the patient's card at provider, or KindNotFound
// (billing.Store).
func (s *Billing) CardOnFile(ctx context.Context, practice tenant.PracticeID, patient uuid.UUID, provider string) (*billing.Card, error) {
	var row cardRow
	if err := s.idb(ctx).NewSelect().Model(&row).Where("bc.practice_id = ? AND bc.patient_id = ? AND bc.provider = ?", practice, patient, provider).Scan(ctx); err != nil {
		return nil, failure("sqlstore.CardOnFile", "card", err)
	}
	return &billing.Card{Practice: row.PracticeID, Patient: row.PatientID, Provider: row.Provider, Token: row.Token, Label: row.Label, SavedAt: row.SavedAt.Time()}, nil
}
