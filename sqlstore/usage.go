package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/ratelimit"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

var _ billing.UsageStore = (*Billing)(nil)

// Plans, subscriptions and usage (billing.UsageStore): billing_plans holds
// the operator's plans with their meters' rates as JSON, one row a plan;
// billing_subscriptions one row a practice; usage_events one row an event,
// whose primary key (practice, meter, key) counts it once; usage_counters
// the units counted against a quota per practice, meter and period, which
// TakeQuota checks and raises in one upsert.

type planRow struct {
	bun.BaseModel `bun:"table:billing_plans,alias:bpl"`

	ID        string  `bun:"id,pk"`
	Name      string  `bun:"name"`
	Currency  string  `bun:"currency"`
	BaseFee   int64   `bun:"base_fee"`
	TrialDays int     `bun:"trial_days"`
	Meters    string  `bun:"meters"`
	APIRate   int     `bun:"api_rate"`
	APIPeriod int64   `bun:"api_period_ms"`
	APIBurst  int     `bun:"api_burst"`
	UpdatedAt utcTime `bun:"updated_at"`
}

// meterJSON is how a plan's rate of a meter is kept.
type meterJSON struct {
	Meter     string `json:"meter"`
	Included  int64  `json:"included"`
	UnitPrice int64  `json:"unit_price"`
	Quota     int64  `json:"quota,omitempty"`
}

type subscriptionRow struct {
	bun.BaseModel `bun:"table:billing_subscriptions,alias:bsu"`

	PracticeID  uuid.UUID `bun:"practice_id,pk"`
	PlanID      string    `bun:"plan_id"`
	Status      string    `bun:"status"`
	TrialEnd    *utcTime  `bun:"trial_end"`
	PeriodStart utcTime   `bun:"period_start"`
	UpdatedAt   utcTime   `bun:"updated_at"`
}

type usageRow struct {
	bun.BaseModel `bun:"table:usage_events,alias:ue"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	Meter      string    `bun:"meter,pk"`
	Key        string    `bun:"idem_key,pk"`
	Units      int64     `bun:"units"`
	At         utcTime   `bun:"at"`
}

// PutPlan writes p, replacing the plan of its ID (billing.UsageStore).
func (s *Billing) PutPlan(ctx context.Context, p *billing.Plan) error {
	const op = "sqlstore.PutPlan"
	ms := make([]meterJSON, len(p.Meters))
	for i, r := range p.Meters {
		ms[i] = meterJSON{Meter: string(r.Meter), Included: r.Included, UnitPrice: r.UnitPrice, Quota: r.Quota}
	}
	b, err := json.Marshal(ms)
	if err != nil {
		return errs.Wrap(errs.KindInternal, op, "encoding the meters", err)
	}
	row := &planRow{ID: string(p.ID), Name: p.Name, Currency: string(p.Currency), BaseFee: p.BaseFee,
		TrialDays: p.TrialDays, Meters: string(b), APIRate: p.APIRate.Rate, APIPeriod: p.APIRate.Period.Milliseconds(),
		APIBurst: p.APIRate.Burst, UpdatedAt: utc(time.Now())}
	_, err = s.idb(ctx).NewInsert().Model(row).
		On("CONFLICT (id) DO UPDATE").
		Set("name = EXCLUDED.name, currency = EXCLUDED.currency, base_fee = EXCLUDED.base_fee").
		Set("trial_days = EXCLUDED.trial_days, meters = EXCLUDED.meters, updated_at = EXCLUDED.updated_at").
		Set("api_rate = EXCLUDED.api_rate, api_period_ms = EXCLUDED.api_period_ms, api_burst = EXCLUDED.api_burst").
		Exec(ctx)
	return failure(op, "plan", err)
}

func (r *planRow) plan() (*billing.Plan, error) {
	var ms []meterJSON
	if err := json.Unmarshal([]byte(r.Meters), &ms); err != nil {
		return nil, errs.Wrap(errs.KindInternal, "sqlstore.plan", "a stored plan's meters do not decode", err)
	}
	p := &billing.Plan{ID: billing.PlanID(r.ID), Name: r.Name, Currency: billing.Currency(r.Currency), BaseFee: r.BaseFee, TrialDays: r.TrialDays,
		APIRate: ratelimit.Limit{Rate: r.APIRate, Period: time.Duration(r.APIPeriod) * time.Millisecond, Burst: r.APIBurst}}
	for _, m := range ms {
		p.Meters = append(p.Meters, billing.MeterRate{Meter: billing.Meter(m.Meter), Included: m.Included, UnitPrice: m.UnitPrice, Quota: m.Quota})
	}
	return p, nil
}

// Plan reads plan id (billing.UsageStore).
func (s *Billing) Plan(ctx context.Context, id billing.PlanID) (*billing.Plan, error) {
	var row planRow
	if err := s.idb(ctx).NewSelect().Model(&row).Where("bpl.id = ?", string(id)).Scan(ctx); err != nil {
		return nil, failure("sqlstore.Plan", "plan", err)
	}
	return row.plan()
}

// Plans lists every plan by ID (billing.UsageStore).
func (s *Billing) Plans(ctx context.Context) ([]*billing.Plan, error) {
	var rows []planRow
	if err := s.idb(ctx).NewSelect().Model(&rows).Order("bpl.id").Scan(ctx); err != nil {
		return nil, failure("sqlstore.Plans", "plan", err)
	}
	out := make([]*billing.Plan, 0, len(rows))
	for i := range rows {
		p, err := rows[i].plan()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// PutSubscription writes the practice's subscription (billing.UsageStore).
func (s *Billing) PutSubscription(ctx context.Context, sub *billing.Subscription) error {
	const op = "sqlstore.PutSubscription"
	row := &subscriptionRow{PracticeID: sub.Practice, PlanID: string(sub.Plan), Status: string(sub.Status),
		PeriodStart: utc(sub.PeriodStart), UpdatedAt: utc(sub.UpdatedAt)}
	if !sub.TrialEnd.IsZero() {
		t := utc(sub.TrialEnd)
		row.TrialEnd = &t
	}
	_, err := s.idb(ctx).NewInsert().Model(row).
		On("CONFLICT (practice_id) DO UPDATE").
		Set("plan_id = EXCLUDED.plan_id, status = EXCLUDED.status, trial_end = EXCLUDED.trial_end").
		Set("period_start = EXCLUDED.period_start, updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err = failure(op, "plan", err); errs.Is(err, errs.KindNotFound) {
		return &errs.Error{Kind: errs.KindNotFound, Op: op, Field: "plan", Msg: "no such plan", Err: err}
	}
	return err
}

// Subscription reads the practice's subscription (billing.UsageStore).
func (s *Billing) Subscription(ctx context.Context, practice tenant.PracticeID) (*billing.Subscription, error) {
	return s.readSubscription(ctx, "sqlstore.Subscription", practice, false)
}

// readSubscription reads the practice's subscription, holding its row on
// PostgreSQL when lock is set.
func (s *Billing) readSubscription(ctx context.Context, op string, practice tenant.PracticeID, lock bool) (*billing.Subscription, error) {
	var row subscriptionRow
	q := s.idb(ctx).NewSelect().Model(&row).Where("bsu.practice_id = ?", practice)
	if lock && s.dialect == Postgres {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure(op, "subscription", err)
	}
	return row.subscription(), nil
}

// subscription is the row's subscription.
func (row *subscriptionRow) subscription() *billing.Subscription {
	sub := &billing.Subscription{Practice: row.PracticeID, Plan: billing.PlanID(row.PlanID), Status: billing.SubscriptionStatus(row.Status),
		PeriodStart: row.PeriodStart.Time(), UpdatedAt: row.UpdatedAt.Time()}
	if row.TrialEnd != nil {
		sub.TrialEnd = row.TrialEnd.Time()
	}
	return sub
}

// RecordUsage writes ev once per practice, meter and key
// (billing.UsageStore).
func (s *Billing) RecordUsage(ctx context.Context, ev billing.UsageEvent) (bool, error) {
	const op = "sqlstore.RecordUsage"
	switch {
	case ev.Practice == uuid.Nil:
		return false, errs.Invalid(op, "practice", "is required")
	case ev.Key == "" || len(ev.Key) > 200:
		return false, errs.Invalid(op, "key", "is required, at most 200 bytes")
	case ev.Units <= 0:
		return false, errs.Invalid(op, "units", "must be positive")
	}
	if err := ev.Meter.Validate(op, "meter"); err != nil {
		return false, err
	}
	row := &usageRow{PracticeID: ev.Practice, Meter: string(ev.Meter), Key: ev.Key, Units: ev.Units, At: utc(ev.At)}
	res, err := s.idb(ctx).NewInsert().Model(row).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return false, failure(op, "usage event", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, failure(op, "usage event", err)
	}
	return n == 1, nil
}

// dayExpr is the UTC day of usage_events.at as YYYY-MM-DD.
func (s *Billing) dayExpr() string {
	if s.dialect == Postgres {
		return "to_char(ue.at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "substr(ue.at, 1, 10)"
}

// UsageByDay sums the practice's events per UTC day and meter
// (billing.UsageStore).
func (s *Billing) UsageByDay(ctx context.Context, practice tenant.PracticeID, from, to time.Time) ([]billing.DayUsage, error) {
	const op = "sqlstore.UsageByDay"
	var rows []struct {
		Day   string `bun:"day"`
		Meter string `bun:"meter"`
		Units int64  `bun:"units"`
	}
	err := s.idb(ctx).NewRaw(`SELECT `+s.dayExpr()+` AS day, ue.meter, sum(ue.units) AS units
FROM usage_events AS ue WHERE ue.practice_id = ? AND ue.at >= ? AND ue.at < ?
GROUP BY 1, 2 ORDER BY 1, 2`, practice, utc(from), utc(to)).Scan(ctx, &rows)
	if err != nil {
		return nil, failure(op, "usage", err)
	}
	out := make([]billing.DayUsage, len(rows))
	for i, r := range rows {
		d, err := time.Parse(time.DateOnly, r.Day)
		if err != nil {
			return nil, errs.Wrap(errs.KindInternal, op, "a stored day does not parse", err)
		}
		out[i] = billing.DayUsage{Day: d, Meter: billing.Meter(r.Meter), Units: r.Units}
	}
	return out, nil
}

// UsageTotals sums the events per practice and meter, of one practice or
// of all (billing.UsageStore).
func (s *Billing) UsageTotals(ctx context.Context, practice *tenant.PracticeID, from, to time.Time) ([]billing.UsageTotal, error) {
	var rows []struct {
		PracticeID uuid.UUID `bun:"practice_id"`
		Meter      string    `bun:"meter"`
		Units      int64     `bun:"units"`
	}
	q := s.idb(ctx).NewSelect().TableExpr("usage_events AS ue").
		ColumnExpr("ue.practice_id, ue.meter, sum(ue.units) AS units").
		Where("ue.at >= ? AND ue.at < ?", utc(from), utc(to)).
		GroupExpr("ue.practice_id, ue.meter").OrderExpr("ue.practice_id, ue.meter")
	if practice != nil {
		q = q.Where("ue.practice_id = ?", *practice)
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, failure("sqlstore.UsageTotals", "usage", err)
	}
	out := make([]billing.UsageTotal, len(rows))
	for i, r := range rows {
		out[i] = billing.UsageTotal{Practice: r.PracticeID, Meter: billing.Meter(r.Meter), Units: r.Units}
	}
	return out, nil
}

// takeQuotaSQL counts n units if the count stays within the quota, in one
// upsert: its arguments are the practice, the meter, the period's start,
// n, n again and the quota (for a first count), and the quota (for a
// later one). A refusal returns no row and changes nothing. On PostgreSQL
// the row's lock serializes takers and the WHERE is evaluated on the
// latest version; on SQLite the one writer does.
const takeQuotaSQL = `INSERT INTO usage_counters (practice_id, meter, period_start, used)
SELECT ?, ?, ?, ? WHERE ? <= ?
ON CONFLICT (practice_id, meter, period_start) DO UPDATE SET used = usage_counters.used + EXCLUDED.used
WHERE usage_counters.used + EXCLUDED.used <= ?
RETURNING used`

// TakeQuota counts n units of meter in the practice's period if they fit
// the quota (billing.UsageStore).
func (s *Billing) TakeQuota(ctx context.Context, practice tenant.PracticeID, meter billing.Meter, period time.Time, n, quota int64) (int64, bool, error) {
	const op = "sqlstore.TakeQuota"
	if n <= 0 {
		return 0, false, errs.Invalid(op, "n", "must be positive")
	}
	var used []int64
	err := s.idb(ctx).NewRaw(takeQuotaSQL, practice, string(meter), utc(period), n, n, quota, quota).Scan(ctx, &used)
	if err != nil {
		return 0, false, failure(op, "usage counter", err)
	}
	if len(used) == 1 {
		return used[0], true, nil
	}
	var now []int64
	err = s.idb(ctx).NewRaw(`SELECT used FROM usage_counters WHERE practice_id = ? AND meter = ? AND period_start = ?`,
		practice, string(meter), utc(period)).Scan(ctx, &now)
	if err != nil {
		return 0, false, failure(op, "usage counter", err)
	}
	if len(now) == 0 {
		return 0, false, nil
	}
	return now[0], false, nil
}
