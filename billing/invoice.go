package billing

import (
	"context"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// InvoiceID identifies an invoice (UUIDv7).
type InvoiceID = uuid.UUID

// InvoiceStatus is where an invoice stands with its payment.
type InvoiceStatus string

// The statuses of an invoice.
const (
	InvoiceOpen   InvoiceStatus = "open"   // not charged yet
	InvoicePaid   InvoiceStatus = "paid"   // charged, or nothing to charge
	InvoiceFailed InvoiceStatus = "failed" // the last charge failed; Dunning says when it is tried again
)

// Valid reports whether s is one of the statuses.
func (s InvoiceStatus) Valid() bool {
	return s == InvoiceOpen || s == InvoicePaid || s == InvoiceFailed
}

// LineKind is what one line of an invoice bills.
type LineKind string

// The kinds of invoice line.
const (
	LineBase            LineKind = "base"             // the plan's base fee for the period (prorated after a trial)
	LineUsage           LineKind = "usage"            // a meter's units beyond the included ones
	LineProrationCredit LineKind = "proration_credit" // the unused part of the old plan's base fee: negative
	LineProrationCharge LineKind = "proration_charge" // the rest of the period at the new plan's base fee
)

// InvoiceLine is one line of an invoice. Amount is in signed minor units of
// the invoice's currency: a credit is negative.
type InvoiceLine struct {
	Kind     LineKind `json:"kind"`
	Plan     PlanID   `json:"plan,omitempty"`  // the plan whose fee the line bills
	Meter    Meter    `json:"meter,omitempty"` // a usage line's meter
	Quantity int64    `json:"quantity"`        // billable units, or days of a prorated fee
	Of       int64    `json:"of,omitempty"`    // a prorated line's days in the period; a usage line's units used
	Unit     int64    `json:"unit"`            // the price per unit, or the whole fee a prorated line takes a part of
	Amount   int64    `json:"amount"`
}

// Attempt is one charge of an invoice: when, with which key, and whether
// it was paid.
type Attempt struct {
	At         time.Time `json:"at"`
	Key        Key       `json:"key,omitempty"`
	Paid       bool      `json:"paid"`
	Error      string    `json:"error,omitempty"` // why it failed
	ProviderTx string    `json:"provider_tx,omitempty"`
}

// Invoice is what a practice owes the operator for one period of its
// subscription: exactly one per practice and period.
type Invoice struct {
	ID          InvoiceID
	Practice    tenant.PracticeID
	Plan        PlanID // the plan at the period's end
	PeriodStart time.Time
	PeriodEnd   time.Time
	Lines       []InvoiceLine
	Total       Money // the sum of Lines; never negative
	Status      InvoiceStatus
	Attempts    []Attempt
	// NextAttempt is when the invoice is charged (again); zero once it is
	// paid or its retries are spent.
	NextAttempt time.Time
	CreatedAt   time.Time
	PaidAt      time.Time // zero until paid
}

// Failures counts the failed attempts since the last paid one.
func (inv *Invoice) Failures() int {
	n := 0
	for _, a := range inv.Attempts {
		if !a.Paid {
			n++
		}
	}
	return n
}

// PlanChange is a subscription's move from one plan to another within a
// period, with the proration it adds to the period's invoice: the credit
// of the unused part of the old base fee and the charge of the rest of the
// new one (see Prorate). The fees are those in force at the change.
type PlanChange struct {
	Practice    tenant.PracticeID
	PeriodStart time.Time
	At          time.Time
	From, To    PlanID
	FromFee     int64
	ToFee       int64
	Currency    Currency
	Days        int64 // whole days left in the period after the change
	PeriodDays  int64
	Credit      int64 // not negative: shown negated on the invoice
	Charge      int64
}

// PeriodDays returns the number of days of the period [start, end): a
// period runs from one day of the month to the same day (clamped) of the
// next at the same time of day in UTC, so it is a whole number of days,
// 28 to 31.
func PeriodDays(start, end time.Time) int64 {
	return int64(math.Round(end.Sub(start).Hours() / 24))
}

// DaysLeft returns the whole days from at to end (none before at's own
// day is over counts): the day a change is made in is billed at the plan
// it had when the day began, partly used.
func DaysLeft(at, end time.Time) int64 {
	if !end.After(at) {
		return 0
	}
	return int64(end.Sub(at) / (24 * time.Hour))
}

// Prorate returns fee × days / of in minor units, rounded half up: the
// share of a period's fee for days of its of days. Each prorated line is
// rounded alone, so what a plan keeps of its fee and its credit add up to
// the fee exactly. days is clamped to 0..of; of below 1 gives 0.
func Prorate(fee, days, of int64) int64 {
	if of < 1 || fee <= 0 {
		return 0
	}
	days = max(0, min(days, of))
	// (2·fee·days + of) / (2·of): fee·days may pass int64, not the result.
	n := new(big.Int).Mul(big.NewInt(fee), big.NewInt(days))
	n.Lsh(n, 1).Add(n, big.NewInt(of))
	n.Quo(n, big.NewInt(2*of))
	return n.Int64()
}

// NewPlanChange computes the proration of a move from plan from to plan to
// at at, within the period [start, end): a credit of from's fee for the
// days left and a charge of to's fee for the same days. Plans in two
// currencies cannot be prorated: KindInvalid naming "plan".
func NewPlanChange(practice tenant.PracticeID, from, to *Plan, start, end, at time.Time) (PlanChange, error) {
	if from.Currency != to.Currency {
		return PlanChange{}, errs.Invalid("billing.NewPlanChange", "plan", "the plan is in "+string(to.Currency)+
			", the current one in "+string(from.Currency)+": change it at the period's end")
	}
	c := PlanChange{Practice: practice, PeriodStart: start, At: at, From: from.ID, To: to.ID, FromFee: from.BaseFee,
		ToFee: to.BaseFee, Currency: from.Currency, Days: DaysLeft(at, end), PeriodDays: PeriodDays(start, end)}
	c.Credit = Prorate(c.FromFee, c.Days, c.PeriodDays)
	c.Charge = Prorate(c.ToFee, c.Days, c.PeriodDays)
	return c, nil
}

// InvoiceDraft is what NewInvoice bills: one practice's period under its
// plan, with the usage of the period and its plan changes.
type InvoiceDraft struct {
	ID          InvoiceID
	Practice    tenant.PracticeID
	Plan        *Plan // the plan at the period's end: it prices the usage
	PeriodStart time.Time
	PeriodEnd   time.Time
	// BilledFrom is when billing starts in the period: its start, or the
	// end of a trial that ends inside it (the base fee is then prorated).
	BilledFrom time.Time
	Used       map[Meter]int64
	Changes    []PlanChange // the period's, in the order made
	CreatedAt  time.Time
}

// NewInvoice bills d: the base fee of the plan the period began with
// (prorated by days when a trial ended inside it), a credit and a charge
// per plan change, then one line per meter the current plan prices with
// the units beyond those included times the unit price. Its total is the
// sum of its lines in integer minor units; a sum beyond int64 is
// KindInvalid naming "usage", negative usage too.
func NewInvoice(d InvoiceDraft) (*Invoice, error) {
	const op = "billing.NewInvoice"
	p := d.Plan
	usage, _, err := p.Charge(d.Used)
	if err != nil {
		return nil, err
	}
	base := LineBase
	first, fee := p.ID, p.BaseFee
	if len(d.Changes) > 0 {
		first, fee = d.Changes[0].From, d.Changes[0].FromFee
	}
	days := PeriodDays(d.PeriodStart, d.PeriodEnd)
	billed := days
	if d.BilledFrom.After(d.PeriodStart) {
		billed = DaysLeft(d.BilledFrom, d.PeriodEnd)
	}
	lines := []InvoiceLine{{Kind: base, Plan: first, Quantity: billed, Of: days, Unit: fee, Amount: Prorate(fee, billed, days)}}
	for _, c := range d.Changes {
		if c.Currency != p.Currency {
			return nil, errs.Invalid(op, "plan", "a plan change in "+string(c.Currency)+" on an invoice in "+string(p.Currency))
		}
		lines = append(lines,
			InvoiceLine{Kind: LineProrationCredit, Plan: c.From, Quantity: c.Days, Of: c.PeriodDays, Unit: c.FromFee, Amount: -c.Credit},
			InvoiceLine{Kind: LineProrationCharge, Plan: c.To, Quantity: c.Days, Of: c.PeriodDays, Unit: c.ToFee, Amount: c.Charge})
	}
	for _, l := range usage[1:] {
		lines = append(lines, InvoiceLine{Kind: LineUsage, Plan: p.ID, Meter: l.Meter, Quantity: l.Billable, Of: l.Used, Unit: l.Unit, Amount: l.Amount.Amount})
	}
	total, err := SumLines(lines)
	if err != nil {
		return nil, err
	}
	return &Invoice{ID: d.ID, Practice: d.Practice, Plan: p.ID, PeriodStart: d.PeriodStart, PeriodEnd: d.PeriodEnd, Lines: lines,
		Total: Money{Amount: total, Currency: p.Currency}, Status: InvoiceOpen, NextAttempt: d.CreatedAt, CreatedAt: d.CreatedAt}, nil
}

// SumLines adds the lines' amounts: a sum, or a partial sum, beyond int64
// is KindInvalid naming "usage", and so is a negative total.
func SumLines(lines []InvoiceLine) (int64, error) {
	const op = "billing.SumLines"
	var total int64
	for i, l := range lines {
		if (l.Amount > 0 && total > math.MaxInt64-l.Amount) || (l.Amount < 0 && total < math.MinInt64-l.Amount) {
			return 0, errs.Invalid(op, "usage", "the invoice is too large at line "+strconv.Itoa(i+1))
		}
		total += l.Amount
	}
	if total < 0 {
		return 0, errs.Invalid(op, "usage", "the invoice's lines add up to less than zero")
	}
	return total, nil
}

// InvoiceKey is the idempotency key of the attempt-th charge (from 1) of
// invoice id: a retry of an attempt whose answer was never recorded sends
// the same key, so the provider answers it again and charges once.
func InvoiceKey(id InvoiceID, attempt int) Key {
	return Key("carebook-invoice-" + id.String() + "-" + string(OpPurchase) + "-" + strconv.Itoa(attempt))
}

// InvoiceStore keeps the invoices of the practices' periods and the plan
// changes within them. Every method is scoped to a practice except
// Subscriptions and DueInvoices, which the billing job runs across
// practices. Implementations run on the transaction InTx puts
// in the context, and pass billingtest.RunInvoices.
type InvoiceStore interface {
	// InTx runs fn in a transaction carried by the context it is given.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error

	// Subscriptions lists, across practices, the subscriptions of
	// practices after after (uuid.Nil: from the first), by practice, at
	// most limit.
	Subscriptions(ctx context.Context, after tenant.PracticeID, limit int) ([]*Subscription, error)
	// CreateInvoice writes inv and reports true, or false (writing
	// nothing) when the practice has an invoice of that period start
	// already: one invoice per practice and period, however many
	// replicas close it at once.
	CreateInvoice(ctx context.Context, inv *Invoice) (bool, error)
	// Invoice reads invoice id of practice, or errs.KindNotFound.
	Invoice(ctx context.Context, practice tenant.PracticeID, id InvoiceID) (*Invoice, error)
	// LockInvoice is Invoice, holding the invoice's row until the
	// transaction in ctx ends.
	LockInvoice(ctx context.Context, practice tenant.PracticeID, id InvoiceID) (*Invoice, error)
	// Invoices lists the practice's invoices, the latest period first, at
	// most limit (0: all).
	Invoices(ctx context.Context, practice tenant.PracticeID, limit int) ([]*Invoice, error)
	// UpdateInvoice writes inv's status, attempts, next attempt and
	// paid time.
	UpdateInvoice(ctx context.Context, inv *Invoice) error
	// DueInvoices lists, across practices, the invoices not paid whose
	// next attempt is at or before now, the earliest first, at most limit.
	DueInvoices(ctx context.Context, now time.Time, limit int) ([]*Invoice, error)

	// AddPlanChange writes c.
	AddPlanChange(ctx context.Context, c PlanChange) error
	// PlanChanges lists the practice's plan changes in the period starting
	// at periodStart, in the order made.
	PlanChanges(ctx context.Context, practice tenant.PracticeID, periodStart time.Time) ([]PlanChange, error)
}
