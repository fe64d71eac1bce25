package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

var _ billing.InvoiceStore = (*Billing)(nil)

// Invoices (billing.InvoiceStore): billing_invoices holds one row an
// invoice, its lines and attempts as JSON; its unique key (practice,
// period start) makes CreateInvoice write one invoice per period however
// many replicas close it at once (INSERT … ON CONFLICT DO NOTHING).
// LockInvoice holds the row (FOR UPDATE on PostgreSQL; SQLite's one
// writer) while a charge's outcome is recorded. billing_plan_changes keeps
// the plan changes within a period with their proration.

type invoiceRow struct {
	bun.BaseModel `bun:"table:billing_invoices,alias:bi"`

	PracticeID  uuid.UUID `bun:"practice_id,pk"`
	ID          uuid.UUID `bun:"id,pk"`
	PlanID      string    `bun:"plan_id"`
	PeriodStart utcTime   `bun:"period_start"`
	PeriodEnd   utcTime   `bun:"period_end"`
	Currency    string    `bun:"currency"`
	Total       int64     `bun:"total"`
	Lines       string    `bun:"lines"`
	Status      string    `bun:"status"`
	Attempts    string    `bun:"attempts"`
	NextAttempt *utcTime  `bun:"next_attempt"`
	CreatedAt   utcTime   `bun:"created_at"`
	PaidAt      *utcTime  `bun:"paid_at"`
}

type planChangeRow struct {
	bun.BaseModel `bun:"table:billing_plan_changes,alias:bpc"`

	PracticeID  uuid.UUID `bun:"practice_id,pk"`
	PeriodStart utcTime   `bun:"period_start,pk"`
	At          utcTime   `bun:"at,pk"`
	FromPlan    string    `bun:"from_plan"`
	ToPlan      string    `bun:"to_plan"`
	FromFee     int64     `bun:"from_fee"`
	ToFee       int64     `bun:"to_fee"`
	Currency    string    `bun:"currency"`
	Days        int64     `bun:"days"`
	PeriodDays  int64     `bun:"period_days"`
	Credit      int64     `bun:"credit"`
	Charge      int64     `bun:"charge"`
}

// unlessZero converts an instant whose zero means none for storage.
func unlessZero(t time.Time) *utcTime {
	if t.IsZero() {
		return nil
	}
	u := utc(t)
	return &u
}

// orZero converts an optional stored instant back, none as zero.
func (t *utcTime) orZero() time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time()
}

func invoiceToRow(inv *billing.Invoice) (*invoiceRow, error) {
	lines, err := json.Marshal(inv.Lines)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, "sqlstore.invoice", "encoding the lines", err)
	}
	attempts := inv.Attempts
	if attempts == nil {
		attempts = []billing.Attempt{}
	}
	att, err := json.Marshal(attempts)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, "sqlstore.invoice", "encoding the attempts", err)
	}
	return &invoiceRow{PracticeID: inv.Practice, ID: inv.ID, PlanID: string(inv.Plan), PeriodStart: utc(inv.PeriodStart),
		PeriodEnd: utc(inv.PeriodEnd), Currency: string(inv.Total.Currency), Total: inv.Total.Amount, Lines: string(lines),
		Status: string(inv.Status), Attempts: string(att), NextAttempt: unlessZero(inv.NextAttempt), CreatedAt: utc(inv.CreatedAt),
		PaidAt: unlessZero(inv.PaidAt)}, nil
}

func (r *invoiceRow) invoice() (*billing.Invoice, error) {
	inv := &billing.Invoice{ID: r.ID, Practice: r.PracticeID, Plan: billing.PlanID(r.PlanID), PeriodStart: r.PeriodStart.Time(),
		PeriodEnd: r.PeriodEnd.Time(), Total: billing.Money{Amount: r.Total, Currency: billing.Currency(r.Currency)},
		Status: billing.InvoiceStatus(r.Status), NextAttempt: r.NextAttempt.orZero(), CreatedAt: r.CreatedAt.Time(), PaidAt: r.PaidAt.orZero()}
	if err := json.Unmarshal([]byte(r.Lines), &inv.Lines); err != nil {
		return nil, errs.Wrap(errs.KindInternal, "sqlstore.invoice", "a stored invoice's lines do not decode", err)
	}
	if err := json.Unmarshal([]byte(r.Attempts), &inv.Attempts); err != nil {
		return nil, errs.Wrap(errs.KindInternal, "sqlstore.invoice", "a stored invoice's attempts do not decode", err)
	}
	if len(inv.Attempts) == 0 {
		inv.Attempts = nil // none charged yet, as written
	}
	for i := range inv.Attempts {
		inv.Attempts[i].At = inv.Attempts[i].At.UTC()
	}
	return inv, nil
}

func invoices(rows []invoiceRow) ([]*billing.Invoice, error) {
	out := make([]*billing.Invoice, 0, len(rows))
	for i := range rows {
		inv, err := rows[i].invoice()
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, nil
}

// Subscriptions lists the subscriptions after a practice, by practice
// (billing.InvoiceStore).
func (s *Billing) Subscriptions(ctx context.Context, after tenant.PracticeID, limit int) ([]*billing.Subscription, error) {
	var rows []subscriptionRow
	q := s.idb(ctx).NewSelect().Model(&rows).Where("bsu.practice_id > ?", after).Order("bsu.practice_id")
	if limit > 0 {
		q = q.Limit(int64(limit))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure("sqlstore.Subscriptions", "subscription", err)
	}
	out := make([]*billing.Subscription, len(rows))
	for i := range rows {
		out[i] = rows[i].subscription()
	}
	return out, nil
}

// CreateInvoice writes inv unless its period has one (billing.InvoiceStore).
func (s *Billing) CreateInvoice(ctx context.Context, inv *billing.Invoice) (bool, error) {
	const op = "sqlstore.CreateInvoice"
	if inv == nil || inv.ID == uuid.Nil || inv.Practice == uuid.Nil {
		return false, errs.Invalid(op, "invoice", "an invoice with its ID and practice is required")
	}
	row, err := invoiceToRow(inv)
	if err != nil {
		return false, err
	}
	res, err := s.idb(ctx).NewInsert().Model(row).On("CONFLICT (practice_id, period_start) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, failure(op, "invoice", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, failure(op, "invoice", err)
	}
	return n == 1, nil
}

// Invoice reads invoice id of practice (billing.InvoiceStore).
func (s *Billing) Invoice(ctx context.Context, practice tenant.PracticeID, id billing.InvoiceID) (*billing.Invoice, error) {
	return s.readInvoice(ctx, "sqlstore.Invoice", practice, id, false)
}

// LockInvoice reads invoice id of practice and holds its row until the
// transaction ends (billing.InvoiceStore).
func (s *Billing) LockInvoice(ctx context.Context, practice tenant.PracticeID, id billing.InvoiceID) (*billing.Invoice, error) {
	const op = "sqlstore.LockInvoice"
	if !s.HasTx(ctx) {
		return nil, errs.E(errs.KindInternal, op, "LockInvoice called outside InTx")
	}
	return s.readInvoice(ctx, op, practice, id, true)
}

func (s *Billing) readInvoice(ctx context.Context, op string, practice tenant.PracticeID, id billing.InvoiceID, lock bool) (*billing.Invoice, error) {
	var row invoiceRow
	q := s.idb(ctx).NewSelect().Model(&row).Where("bi.practice_id = ? AND bi.id = ?", practice, id)
	if lock && s.dialect == Postgres {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure(op, "invoice", err)
	}
	return row.invoice()
}

// Invoices lists the practice's invoices, the latest period first
// (billing.InvoiceStore).
func (s *Billing) Invoices(ctx context.Context, practice tenant.PracticeID, limit int) ([]*billing.Invoice, error) {
	var rows []invoiceRow
	q := s.idb(ctx).NewSelect().Model(&rows).Where("bi.practice_id = ?", practice).Order("bi.period_start DESC")
	if limit > 0 {
		q = q.Limit(int64(limit))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure("sqlstore.Invoices", "invoice", err)
	}
	return invoices(rows)
}

// UpdateInvoice writes inv's status, attempts, next attempt and paid time
// (billing.InvoiceStore).
func (s *Billing) UpdateInvoice(ctx context.Context, inv *billing.Invoice) error {
	const op = "sqlstore.UpdateInvoice"
	row, err := invoiceToRow(inv)
	if err != nil {
		return err
	}
	res, err := s.idb(ctx).NewUpdate().Model(row).Column("status", "attempts", "next_attempt", "paid_at").WherePK().Exec(ctx)
	if err != nil {
		return failure(op, "invoice", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errs.NotFound(op, "invoice")
	}
	return nil
}

// DueInvoices lists the unpaid invoices due at now, across practices
// (billing.InvoiceStore).
func (s *Billing) DueInvoices(ctx context.Context, now time.Time, limit int) ([]*billing.Invoice, error) {
	var rows []invoiceRow
	err := s.idb(ctx).NewSelect().Model(&rows).
		Where("bi.next_attempt IS NOT NULL AND bi.next_attempt <= ? AND bi.status <> ?", utc(now), string(billing.InvoicePaid)).
		Order("bi.next_attempt", "bi.practice_id", "bi.id").Limit(int64(max(limit, 1))).Scan(ctx)
	if err != nil {
		return nil, failure("sqlstore.DueInvoices", "invoice", err)
	}
	return invoices(rows)
}

// AddPlanChange writes c (billing.InvoiceStore).
func (s *Billing) AddPlanChange(ctx context.Context, c billing.PlanChange) error {
	row := &planChangeRow{PracticeID: c.Practice, PeriodStart: utc(c.PeriodStart), At: utc(c.At), FromPlan: string(c.From), ToPlan: string(c.To),
		FromFee: c.FromFee, ToFee: c.ToFee, Currency: string(c.Currency), Days: c.Days, PeriodDays: c.PeriodDays, Credit: c.Credit, Charge: c.Charge}
	_, err := s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure("sqlstore.AddPlanChange", "plan change", err)
}

// PlanChanges lists the practice's plan changes in one period, in the
// order made (billing.InvoiceStore).
func (s *Billing) PlanChanges(ctx context.Context, practice tenant.PracticeID, periodStart time.Time) ([]billing.PlanChange, error) {
	var rows []planChangeRow
	err := s.idb(ctx).NewSelect().Model(&rows).Where("bpc.practice_id = ? AND bpc.period_start = ?", practice, utc(periodStart)).
		Order("bpc.at").Scan(ctx)
	if err != nil {
		return nil, failure("sqlstore.PlanChanges", "plan change", err)
	}
	out := make([]billing.PlanChange, len(rows))
	for i, r := range rows {
		out[i] = billing.PlanChange{Practice: r.PracticeID, PeriodStart: r.PeriodStart.Time(), At: r.At.Time(), From: billing.PlanID(r.FromPlan),
			To: billing.PlanID(r.ToPlan), FromFee: r.FromFee, ToFee: r.ToFee, Currency: billing.Currency(r.Currency), Days: r.Days,
			PeriodDays: r.PeriodDays, Credit: r.Credit, Charge: r.Charge}
	}
	return out, nil
}
