package sqlstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
)

// MaxHold is the longest hold (HoldEnd - HoldStart) an appointment may have;
// InsertAppointment and UpdateAppointment reject longer ones with
// KindInvalid. The bound lets every overlap query scan the index on
// (practice_id, provider_id, hold_start) from from-MaxHold to to only: a hold
// that ends after from cannot start MaxHold or more before it.
const MaxHold = 24 * time.Hour

// activeStatuses are the statuses that hold time, as stored.
var activeStatuses = func() []string {
	out := make([]string, len(scheduling.ActiveStatuses))
	for i, s := range scheduling.ActiveStatuses {
		out[i] = string(s)
	}
	return out
}()

type appointmentRow struct {
	bun.BaseModel `bun:"table:appointments,alias:a"`

	PracticeID  uuid.UUID           `bun:"practice_id,pk"`
	ID          uuid.UUID           `bun:"id,pk"`
	ProviderID  uuid.UUID           `bun:"provider_id"`
	LocationID  uuid.UUID           `bun:"location_id"`
	BlockID     uuid.UUID           `bun:"block_id"`
	VisitTypeID uuid.UUID           `bun:"visit_type_id"`
	PatientID   uuid.UUID           `bun:"patient_id"`
	StartAt     utcTime             `bun:"start_at"`
	EndAt       utcTime             `bun:"end_at"`
	HoldStart   utcTime             `bun:"hold_start"`
	HoldEnd     utcTime             `bun:"hold_end"`
	Seat        int                 `bun:"seat"`
	Status      string              `bun:"status"`
	ResourceIDs jsonList[uuid.UUID] `bun:"resource_ids"`
	BookedBy    string              `bun:"booked_by"`
	// AllowPatientOverlap keeps the row out of the patient's overlap rule
	// (appointments_patient_no_overlap on PostgreSQL).
	AllowPatientOverlap bool    `bun:"allow_patient_overlap"`
	CreatedAt           utcTime `bun:"created_at"`
	UpdatedAt           utcTime `bun:"updated_at"`
}

func newAppointmentRow(a *scheduling.Appointment) *appointmentRow {
	return &appointmentRow{
		PracticeID:  a.PracticeID,
		ID:          a.ID,
		ProviderID:  a.ProviderID,
		LocationID:  a.LocationID,
		BlockID:     a.BlockID,
		VisitTypeID: a.VisitTypeID,
		PatientID:   a.PatientID,
		StartAt:     utc(a.Start),
		EndAt:       utc(a.End),
		HoldStart:   utc(a.HoldStart),
		HoldEnd:     utc(a.HoldEnd),
		Seat:        a.Seat,
		Status:      string(a.Status),
		ResourceIDs: list(a.ResourceIDs),
		BookedBy:    a.BookedBy,
		CreatedAt:   utc(a.CreatedAt),
		UpdatedAt:   utc(a.UpdatedAt),

		AllowPatientOverlap: a.AllowPatientOverlap,
	}
}

func (r *appointmentRow) appointment() *scheduling.Appointment {
	return &scheduling.Appointment{
		ID:          r.ID,
		PracticeID:  r.PracticeID,
		ProviderID:  r.ProviderID,
		LocationID:  r.LocationID,
		BlockID:     r.BlockID,
		VisitTypeID: r.VisitTypeID,
		PatientID:   r.PatientID,
		Start:       r.StartAt.Time(),
		End:         r.EndAt.Time(),
		HoldStart:   r.HoldStart.Time(),
		HoldEnd:     r.HoldEnd.Time(),
		Seat:        r.Seat,
		Status:      scheduling.Status(r.Status),
		ResourceIDs: slice(r.ResourceIDs),
		BookedBy:    r.BookedBy,
		CreatedAt:   r.CreatedAt.Time(),
		UpdatedAt:   r.UpdatedAt.Time(),

		AllowPatientOverlap: r.AllowPatientOverlap,
	}
}

type appointmentResourceRow struct {
	bun.BaseModel `bun:"table:appointment_resources,alias:ar"`

	PracticeID    uuid.UUID `bun:"practice_id,pk"`
	AppointmentID uuid.UUID `bun:"appointment_id,pk"`
	ResourceID    uuid.UUID `bun:"resource_id,pk"`
	BlockID       uuid.UUID `bun:"block_id"`
	HoldStart     utcTime   `bun:"hold_start"`
	HoldEnd       utcTime   `bun:"hold_end"`
	Active        bool      `bun:"active"`
}

// checkAppointment rejects what the schema cannot hold: an empty or reversed
// hold, one longer than MaxHold, a visit outside its hold, a resource listed
// twice.
func checkAppointment(op string, a *scheduling.Appointment) error {
	switch {
	case !a.HoldEnd.After(a.HoldStart):
		return errs.Invalid(op, "hold_end", "the hold must end after it starts")
	case a.HoldEnd.Sub(a.HoldStart) > MaxHold:
		return errs.Invalid(op, "hold_end", fmt.Sprintf("a hold may last at most %v", MaxHold))
	case a.End.Before(a.Start):
		return errs.Invalid(op, "end", "the visit must not end before it starts")
	case a.Start.Before(a.HoldStart) || a.End.After(a.HoldEnd):
		return errs.Invalid(op, "start", "the visit must lie within its hold")
	case !a.Status.Valid():
		return errs.Invalid(op, "status", "unknown status "+string(a.Status))
	}
	seen := make(map[uuid.UUID]bool, len(a.ResourceIDs))
	for _, id := range a.ResourceIDs {
		if seen[id] {
			return errs.Invalid(op, "resource_ids", "resource "+id.String()+" is listed twice")
		}
		seen[id] = true
	}
	return nil
}

// resourceRowsSQL returns the INSERT of a's resource rows, or "" if it has none.
func (s *Scheduling) resourceRowsSQL(a *scheduling.Appointment) string {
	if len(a.ResourceIDs) == 0 {
		return ""
	}
	rows := make([]appointmentResourceRow, len(a.ResourceIDs))
	for i, id := range a.ResourceIDs {
		rows[i] = appointmentResourceRow{
			PracticeID:    a.PracticeID,
			AppointmentID: a.ID,
			ResourceID:    id,
			BlockID:       a.BlockID,
			HoldStart:     utc(a.HoldStart),
			HoldEnd:       utc(a.HoldEnd),
			Active:        a.Status.Holds(),
		}
	}
	return s.db.NewInsert().Model(&rows).String()
}

// checkOverlap is SQLite's stand-in for PostgreSQL's exclusion constraints:
// it must run in the IMMEDIATE transaction that then writes a, and returns
// KindConflict if a's hold overlaps another active hold of its provider in
// the same seat or in another block, or of one of its resources by an
// appointment of another block, or if a's visit overlaps another active
// visit of its patient (unless a allows the overlap; a visit that allows it
// still keeps later ones that do not off its time; an empty visit overlaps
// nothing, as an empty tstzrange).
func (s *Scheduling) checkOverlap(ctx context.Context, op string, a *scheduling.Appointment) error {
	if !a.Status.Holds() {
		return nil
	}
	from, to, floor := utc(a.HoldStart), utc(a.HoldEnd), utc(a.HoldStart.Add(-MaxHold))
	var seat, resource, patient bool
	q := `SELECT EXISTS (SELECT 1 FROM appointments
	WHERE practice_id = ? AND provider_id = ? AND (seat = ? OR block_id <> ?) AND status IN (?)
	AND hold_start < ? AND hold_start > ? AND hold_end > ? AND id <> ?)`
	args := []any{a.PracticeID, a.ProviderID, a.Seat, a.BlockID, bun.List(activeStatuses), to, floor, from, a.ID}
	if len(a.ResourceIDs) > 0 {
		q += `, EXISTS (SELECT 1 FROM appointment_resources
	WHERE practice_id = ? AND resource_id IN (?) AND active
	AND hold_start < ? AND hold_start > ? AND hold_end > ? AND appointment_id <> ? AND block_id <> ?)`
		args = append(args, a.PracticeID, bun.List(a.ResourceIDs), to, floor, from, a.ID, a.BlockID)
	} else {
		q += `, 0 = 1`
	}
	if !a.AllowPatientOverlap && a.End.After(a.Start) {
		// A visit lies within its hold, so it starts less than MaxHold
		// before it ends: this bounds the scan of appointments_patient_start.
		q += `, EXISTS (SELECT 1 FROM appointments
	WHERE practice_id = ? AND patient_id = ? AND status IN (?)
	AND start_at < ? AND start_at > ? AND end_at > ? AND end_at > start_at AND id <> ?
	AND (NOT allow_patient_overlap OR NOT EXISTS (SELECT 1 FROM appointments
		WHERE practice_id = ? AND id = ? AND start_at = ? AND end_at = ? AND status IN (?))))`
		// A visit that allows an overlap keeps later ones off its time,
		// but not the stored visit it came over, while that visit keeps
		// its time (a status change): carebook_patient_free on PostgreSQL.
		args = append(args, a.PracticeID, a.PatientID, bun.List(activeStatuses),
			utc(a.End), utc(a.Start.Add(-MaxHold)), utc(a.Start), a.ID,
			a.PracticeID, a.ID, utc(a.Start), utc(a.End), bun.List(activeStatuses))
	} else {
		q += `, 0 = 1`
	}
	if err := s.idb(ctx).QueryRowContext(ctx, q, args...).Scan(&seat, &resource, &patient); err != nil {
		return failure(op, "appointment", err)
	}
	switch {
	case seat:
		return takenConflict(op, "the provider's seat")
	case resource:
		return takenConflict(op, "a resource")
	case patient:
		return patientBusy(op, nil)
	}
	return nil
}

// patientConstraint is the exclusion constraint of a patient's visits on
// PostgreSQL.
const patientConstraint = "appointments_patient_no_overlap"

// patientBusy is the error of an appointment whose visit overlaps another
// of its patient's; cause is the database's error, if any.
func patientBusy(op string, cause error) error {
	err := scheduling.ErrPatientBusy
	if cause != nil {
		err = fmt.Errorf("%w: %w", scheduling.ErrPatientBusy, cause)
	}
	return errs.Wrap(errs.KindConflict, op, "the patient has another visit at that time", err)
}

// appointmentFailure is failure for the writes of appointments: it tells
// the patient's overlap (by the constraint's name) from a taken time.
func appointmentFailure(op string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == pgExclusionViolation && pe.ConstraintName == patientConstraint {
		return patientBusy(op, err)
	}
	return failure(op, "appointment", err)
}

// InsertAppointment stores a new appointment with its resources. When its
// status holds time, it returns KindConflict if its hold overlaps another
// active appointment's hold of the same provider and seat, or of one of its
// resources: by exclusion constraint on PostgreSQL, by a check in the same
// IMMEDIATE transaction on SQLite. Holds must be at most MaxHold long.
//
// On PostgreSQL the appointment and its resources are written by one
// statement batch, atomic even outside InTx; inside InTx it runs in a
// savepoint, rolled back on failure, so that a conflict leaves the
// transaction usable.
func (s *Scheduling) InsertAppointment(ctx context.Context, a *scheduling.Appointment, history ...*scheduling.Change) error {
	const op = "sqlstore.InsertAppointment"
	if err := checkAppointment(op, a); err != nil {
		return err
	}
	stmts := s.idb(ctx).NewInsert().Model(newAppointmentRow(a)).String()
	if r := s.resourceRowsSQL(a); r != "" {
		stmts += ";\n" + r
	}
	if h := s.changeRowsSQL(history); h != "" {
		stmts += ";\n" + h
	}
	if s.dialect == Postgres {
		// The batch runs as one transaction. It first locks the provider
		// and resources, in a fixed order, so that concurrent writers of
		// the same ones queue instead of deadlocking in the exclusion
		// constraints' checks (which two inserts of overlapping rows can
		// do when each waits for the other).
		// Inside a caller's transaction, the batch runs in a savepoint, so
		// that a conflict leaves the transaction usable (see writeSavepoint).
		sp := s.writeSavepoint(ctx)
		_, err := s.idb(ctx).ExecContext(ctx, sp+lockSQL(holdKeys(a))+s.patientFreeSQL(a)+stmts)
		return s.undoWrite(ctx, sp, appointmentFailure(op, err))
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.checkOverlap(ctx, op, a); err != nil {
			return err
		}
		_, err := s.idb(ctx).ExecContext(ctx, stmts)
		return failure(op, "appointment", err)
	})
}

// patientFreeSQL is the statement that refuses a's visit, on PostgreSQL,
// when it overlaps an active visit of its patient that allows the overlap
// (outside the exclusion constraint, which sees only visits that keep the
// rule): it runs under the patient's advisory lock, before the write, and
// fails as the constraint does. "" when a allows the overlap itself, holds
// no time, or is empty.
func (s *Scheduling) patientFreeSQL(a *scheduling.Appointment) string {
	if a.AllowPatientOverlap || !a.Status.Holds() || !a.End.After(a.Start) {
		return ""
	}
	return s.db.NewRaw("SELECT carebook_patient_free(?, ?, ?, ?, ?)",
		a.PracticeID, a.PatientID, utc(a.Start), utc(a.End), a.ID).String() + ";\n"
}

// holdKeys returns the lock keys of what a holds: its provider, its
// resources and its patient, sorted, as the Service's callers of Lock sort
// them. Locking the patient makes concurrent writers of one patient queue
// too (two overlapping inserts that each wait in the other's constraint
// check would deadlock).
func holdKeys(a *scheduling.Appointment) []uuid.UUID {
	keys := append([]uuid.UUID{a.ProviderID, a.PatientID}, a.ResourceIDs...)
	slices.SortFunc(keys, func(x, y uuid.UUID) int { return bytes.Compare(x[:], y[:]) })
	return slices.Compact(keys)
}

// UpdateAppointment writes the provider, location, block, times, seat,
// status, resources and UpdatedAt of a stored appointment, under the rule of
// InsertAppointment; KindNotFound if there is none.
func (s *Scheduling) UpdateAppointment(ctx context.Context, a *scheduling.Appointment, history ...*scheduling.Change) error {
	const op = "sqlstore.UpdateAppointment"
	if err := checkAppointment(op, a); err != nil {
		return err
	}
	sp := s.writeSavepoint(ctx)
	err := s.InTx(ctx, func(ctx context.Context) error {
		if s.dialect == SQLite {
			if err := s.checkOverlap(ctx, op, a); err != nil {
				return err
			}
		}
		update := s.idb(ctx).NewUpdate().Model(newAppointmentRow(a)).
			Column("provider_id", "location_id", "block_id", "start_at", "end_at", "hold_start",
				"hold_end", "seat", "status", "resource_ids", "allow_patient_overlap", "updated_at").
			WherePK().String()
		if s.dialect == Postgres {
			// As in InsertAppointment: queue behind writers of the same
			// provider and resources. The result is the UPDATE's.
			update = sp + lockSQL(holdKeys(a)) + s.patientFreeSQL(a) + update
		}
		res, err := s.idb(ctx).ExecContext(ctx, update)
		if err != nil {
			return appointmentFailure(op, err)
		}
		if err := affected(op, "appointment", res, err); err != nil {
			return err
		}
		stmts := s.idb(ctx).NewDelete().TableExpr("appointment_resources").
			Where("practice_id = ? AND appointment_id = ?", a.PracticeID, a.ID).String()
		if r := s.resourceRowsSQL(a); r != "" {
			stmts += ";\n" + r
		}
		if h := s.changeRowsSQL(history); h != "" {
			stmts += ";\n" + h
		}
		_, err = s.idb(ctx).ExecContext(ctx, stmts)
		return failure(op, "appointment", err)
	})
	return s.undoWrite(ctx, sp, err)
}

// savepointName names the savepoint of an appointment write.
const savepointName = "carebook_write"

// writeSavepoint returns the statement that opens the savepoint of an
// appointment write, to run first in the write's batch, when s is bound to
// a transaction on PostgreSQL; otherwise "". There a failed statement (a
// 23P01 conflict of two bookings) aborts the whole transaction, and a
// caller that goes on after a conflict, as Book does when it tries another
// seat, could not even read; rolled back to the savepoint, the transaction
// stays usable. On SQLite a failed statement undoes only itself, and outside
// a caller's transaction the write has its own.
func (s *Scheduling) writeSavepoint(ctx context.Context) string {
	if !s.HasTx(ctx) || s.dialect != Postgres {
		return ""
	}
	return "SAVEPOINT " + savepointName + ";"
}

// undoWrite rolls s's transaction back to the savepoint opened by sp (the
// result of writeSavepoint) when the write failed with err, and returns err.
// A write that succeeded keeps its savepoint: it ends with the transaction.
func (s *Scheduling) undoWrite(ctx context.Context, sp string, err error) error {
	if err == nil || sp == "" {
		return err
	}
	if _, rerr := s.idb(ctx).ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+savepointName); rerr != nil {
		return fmt.Errorf("%w (and rolling back to savepoint %s failed, so the transaction is aborted: %v)", err, savepointName, rerr)
	}
	return err
}

// GetAppointment returns appointment id of practice, or KindNotFound.
func (s *Scheduling) GetAppointment(ctx context.Context, practice tenant.PracticeID, id scheduling.AppointmentID) (*scheduling.Appointment, error) {
	var row appointmentRow
	if err := s.idb(ctx).NewSelect().Model(&row).
		Where("a.practice_id = ? AND a.id = ?", practice, id).Scan(ctx); err != nil {
		return nil, failure("sqlstore.GetAppointment", "appointment", err)
	}
	return row.appointment(), nil
}

// ListAppointments returns the appointments of practice that pass f, by
// Start (or by CreatedAt when f.ByCreated), then ID.
func (s *Scheduling) ListAppointments(ctx context.Context, practice tenant.PracticeID, f scheduling.AppointmentFilter) ([]*scheduling.Appointment, error) {
	var rows []appointmentRow
	q := s.idb(ctx).NewSelect().Model(&rows).Where("a.practice_id = ?", practice)
	if len(f.IDs) > 0 {
		q = q.Where("a.id IN (?)", bun.List(f.IDs))
	}
	if len(f.ProviderIDs) > 0 {
		q = q.Where("a.provider_id IN (?)", bun.List(f.ProviderIDs))
	}
	if f.LocationID != nil {
		q = q.Where("a.location_id = ?", *f.LocationID)
	}
	if f.ResourceID != nil {
		q = q.Where(`EXISTS (SELECT 1 FROM appointment_resources ar
			WHERE ar.practice_id = a.practice_id AND ar.appointment_id = a.id AND ar.resource_id = ?)`, *f.ResourceID)
	}
	if f.PatientID != nil {
		q = q.Where("a.patient_id = ?", *f.PatientID)
	}
	if f.BlockID != nil {
		q = q.Where("a.block_id = ?", *f.BlockID)
	}
	if len(f.Status) > 0 {
		q = q.Where("a.status IN (?)", bun.List(f.Status))
	}
	if !f.To.IsZero() {
		q = q.Where("a.start_at < ?", utc(f.To))
	}
	if !f.From.IsZero() {
		// A visit lies within its hold, so it starts less than MaxHold before
		// it ends: this bounds the index scan on start_at.
		q = q.Where("a.end_at > ? AND a.start_at > ?", utc(f.From), utc(f.From.Add(-MaxHold)))
	}
	if f.ByCreated {
		q = q.OrderExpr("a.created_at, a.id")
	} else {
		q = q.OrderExpr("a.start_at, a.id")
	}
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure("sqlstore.ListAppointments", "appointment", err)
	}
	out := make([]*scheduling.Appointment, len(rows))
	for i := range rows {
		out[i] = rows[i].appointment()
	}
	return out, nil
}

type changeRow struct {
	bun.BaseModel `bun:"table:appointment_changes,alias:c"`

	PracticeID    uuid.UUID `bun:"practice_id,pk"`
	ID            uuid.UUID `bun:"id,pk"`
	AppointmentID uuid.UUID `bun:"appointment_id"`
	Action        string    `bun:"action"`
	FromStatus    string    `bun:"from_status"`
	ToStatus      string    `bun:"to_status"`
	ByActor       string    `bun:"by_actor"`
	At            utcTime   `bun:"at"`
	Reason        string    `bun:"reason"`
	PrevStart     *utcTime  `bun:"prev_start"`
	AllowOverlap  bool      `bun:"allow_patient_overlap"`
}

// AppendChange adds c to its appointment's history. The appointment must
// exist in c's practice (else KindNotFound).
func (s *Scheduling) AppendChange(ctx context.Context, c *scheduling.Change) error {
	_, err := s.idb(ctx).NewInsert().Model(newChangeRow(c)).Exec(ctx)
	return failure("sqlstore.AppendChange", "change", err)
}

func newChangeRow(c *scheduling.Change) *changeRow {
	return &changeRow{
		PracticeID:    c.PracticeID,
		ID:            c.ID,
		AppointmentID: c.AppointmentID,
		Action:        c.Action,
		FromStatus:    string(c.From),
		ToStatus:      string(c.To),
		ByActor:       c.By,
		At:            utc(c.At),
		Reason:        c.Reason,
		PrevStart:     optTime(c.PrevStart),
		AllowOverlap:  c.AllowPatientOverlap,
	}
}

// changeRowsSQL returns the INSERT of history entries, or "" if none.
func (s *Scheduling) changeRowsSQL(history []*scheduling.Change) string {
	if len(history) == 0 {
		return ""
	}
	rows := make([]*changeRow, len(history))
	for i, c := range history {
		rows[i] = newChangeRow(c)
	}
	return s.db.NewInsert().Model(&rows).String()
}

// ListChanges returns the history of appointment id, oldest first (by At,
// then ID). An unknown appointment has an empty history.
func (s *Scheduling) ListChanges(ctx context.Context, practice tenant.PracticeID, id scheduling.AppointmentID) ([]*scheduling.Change, error) {
	var rows []changeRow
	if err := s.idb(ctx).NewSelect().Model(&rows).
		Where("c.practice_id = ? AND c.appointment_id = ?", practice, id).
		OrderExpr("c.at, c.id").Scan(ctx); err != nil {
		return nil, failure("sqlstore.ListChanges", "change", err)
	}
	out := make([]*scheduling.Change, len(rows))
	for i, r := range rows {
		out[i] = &scheduling.Change{
			ID:            r.ID,
			PracticeID:    r.PracticeID,
			AppointmentID: r.AppointmentID,
			Action:        r.Action,
			From:          scheduling.Status(r.FromStatus),
			To:            scheduling.Status(r.ToStatus),
			By:            r.ByActor,
			At:            r.At.Time(),
			Reason:        r.Reason,
			PrevStart:     r.PrevStart.timePtr(),

			AllowPatientOverlap: r.AllowOverlap,
		}
	}
	return out, nil
}

// slotRow is one row of the Holds and SlotInputs queries: a provider hold
// (kind 0), a resource hold (kind 1) or, in SlotInputs only, a block (kind
// 2, whose block columns are set and whose owner_id is NULL).
type slotRow struct {
	Kind      int       `bun:"kind"`
	ID        uuid.UUID `bun:"id"` // the appointment, or the block
	OwnerID   uuid.UUID `bun:"owner_id"`
	BlockID   uuid.UUID `bun:"block_id"`
	Seat      int       `bun:"seat"` // a block's capacity
	HoldStart utcTime   `bun:"hold_start"`
	HoldEnd   utcTime   `bun:"hold_end"`

	ProviderID uuid.UUID                     `bun:"b_provider_id"`
	LocationID uuid.UUID                     `bun:"b_location_id"`
	TimeZone   string                        `bun:"b_time_zone"`
	RRule      string                        `bun:"b_rrule"`
	ExDates    jsonList[string]              `bun:"b_exdates"`
	Overrides  jsonList[scheduling.Override] `bun:"b_overrides"`
	SpanEnd    *utcTime                      `bun:"b_span_end"`
	CreatedAt  *utcTime                      `bun:"b_created_at"`
	UpdatedAt  *utcTime                      `bun:"b_updated_at"`
}

// slotQuery returns the query for the holds of providers and resources that
// overlap [from, to) and, if withBlocks, the blocks of providers that may
// overlap it: one UNION ALL of index range scans. It returns "" when there is
// nothing to ask.
func slotQuery(practice tenant.PracticeID, providers []scheduling.ProviderID, resources []scheduling.ResourceID, from, to time.Time, withBlocks bool) (string, []any) {
	if !from.Before(to) {
		return "", nil
	}
	lo, hi, floor := utc(from), utc(to), utc(from.Add(-MaxHold))
	nulls := ""
	if withBlocks {
		nulls = ", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
	}
	var (
		parts []string
		args  []any
	)
	if withBlocks && len(providers) > 0 {
		// First, so that its column types name the NULLs of the others.
		parts = append(parts, `SELECT 2 AS kind, b.id, NULL AS owner_id, b.id AS block_id, b.capacity AS seat,
	b.start_at AS hold_start, b.end_at AS hold_end, b.provider_id AS b_provider_id,
	b.location_id AS b_location_id, b.time_zone AS b_time_zone, b.rrule AS b_rrule,
	b.exdates AS b_exdates, b.overrides AS b_overrides, b.span_end AS b_span_end,
	b.created_at AS b_created_at, b.updated_at AS b_updated_at
FROM blocks AS b
WHERE b.practice_id = ? AND b.provider_id IN (?) AND b.start_at < ?
	AND (b.span_end IS NULL OR b.span_end > ?)`)
		args = append(args, practice, bun.List(providers), hi, lo)
	}
	if len(providers) > 0 {
		parts = append(parts, `SELECT 0 AS kind, a.id, a.provider_id AS owner_id, a.block_id, a.seat,
	a.hold_start, a.hold_end`+nulls+`
FROM appointments AS a
WHERE a.practice_id = ? AND a.provider_id IN (?) AND a.hold_start < ? AND a.hold_start > ?
	AND a.hold_end > ? AND a.status IN (?)`)
		args = append(args, practice, bun.List(providers), hi, floor, lo, bun.List(activeStatuses))
	}
	if len(resources) > 0 {
		parts = append(parts, `SELECT 1 AS kind, ar.appointment_id AS id, ar.resource_id AS owner_id, ar.block_id, 0 AS seat,
	ar.hold_start, ar.hold_end`+nulls+`
FROM appointment_resources AS ar
WHERE ar.practice_id = ? AND ar.resource_id IN (?) AND ar.hold_start < ? AND ar.hold_start > ?
	AND ar.hold_end > ? AND ar.active`)
		args = append(args, practice, bun.List(resources), hi, floor, lo)
	}
	if len(parts) == 0 {
		return "", nil
	}
	// Unordered: slotResults sorts, which is cheaper than a server-side sort
	// of the union.
	return strings.Join(parts, "\nUNION ALL\n"), args
}

// compareSlotRows orders rows by kind, start, owner, then ID. Blocks have no
// owner, so they come by start, then ID, as ListBlocks returns them.
func compareSlotRows(a, b slotRow) int {
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := a.HoldStart.Time().Compare(b.HoldStart.Time()); c != 0 {
		return c
	}
	if c := bytes.Compare(a.OwnerID[:], b.OwnerID[:]); c != 0 {
		return c
	}
	return bytes.Compare(a.ID[:], b.ID[:])
}

// slotResults sorts the rows of a slotQuery into blocks and holds.
func slotResults(practice tenant.PracticeID, rows []slotRow) ([]*scheduling.Block, scheduling.Holds) {
	slices.SortFunc(rows, compareSlotRows)
	blocks := []*scheduling.Block{}
	h := scheduling.Holds{Provider: []scheduling.Hold{}, Resource: []scheduling.Hold{}}
	for _, r := range rows {
		if r.Kind == 2 {
			b := &scheduling.Block{
				ID:         r.ID,
				PracticeID: practice,
				ProviderID: r.ProviderID,
				LocationID: r.LocationID,
				TimeZone:   r.TimeZone,
				Start:      r.HoldStart.Time(),
				End:        r.HoldEnd.Time(),
				RRule:      r.RRule,
				ExDates:    slice(r.ExDates),
				Overrides:  slice(r.Overrides),
				Capacity:   r.Seat,
				SpanEnd:    r.SpanEnd.timePtr(),
			}
			if r.CreatedAt != nil && r.UpdatedAt != nil {
				b.CreatedAt, b.UpdatedAt = r.CreatedAt.Time(), r.UpdatedAt.Time()
			}
			blocks = append(blocks, b)
			continue
		}
		hold := scheduling.Hold{
			AppointmentID: r.ID,
			OwnerID:       r.OwnerID,
			BlockID:       r.BlockID,
			Seat:          r.Seat,
			Start:         r.HoldStart.Time(),
			End:           r.HoldEnd.Time(),
		}
		switch r.Kind {
		case 0:
			h.Provider = append(h.Provider, hold)
		case 1:
			h.Resource = append(h.Resource, hold)
		}
	}
	return blocks, h
}

// Holds returns the holds of active appointments that overlap [from, to):
// one per appointment of providers (OwnerID is the provider), and one per
// appointment and resource of resources (OwnerID is the resource), each list
// ordered by Start, then OwnerID, then appointment ID. It is one query.
func (s *Scheduling) Holds(ctx context.Context, practice tenant.PracticeID, providers []scheduling.ProviderID, resources []scheduling.ResourceID, from, to time.Time) (scheduling.Holds, error) {
	_, h, err := s.slotInputs(ctx, practice, providers, resources, from, to, false)
	if err != nil {
		return scheduling.Holds{}, failure("sqlstore.Holds", "hold", err)
	}
	return h, nil
}

// SlotInputs returns what an open-slot search needs: the blocks of providers
// that may overlap [from, to), as ListBlocks, and the holds of providers and
// resources, as Holds. It is one query (one round trip) of index range
// scans.
func (s *Scheduling) SlotInputs(ctx context.Context, practice tenant.PracticeID, providers []scheduling.ProviderID, resources []scheduling.ResourceID, from, to time.Time) ([]*scheduling.Block, scheduling.Holds, error) {
	blocks, h, err := s.slotInputs(ctx, practice, providers, resources, from, to, true)
	if err != nil {
		return nil, scheduling.Holds{}, failure("sqlstore.SlotInputs", "slot input", err)
	}
	return blocks, h, nil
}

// BookingInputs returns SlotInputs for one provider and its resources over
// [from, to) and the FinishedVisits of patient in [visitsFrom, from), or
// KindNotFound if patient is not the practice's: on PostgreSQL in one round
// trip, on SQLite in three queries.
func (s *Scheduling) BookingInputs(ctx context.Context, practice tenant.PracticeID, provider scheduling.ProviderID, resources []scheduling.ResourceID, patient scheduling.PatientID, from, to, visitsFrom time.Time) ([]*scheduling.Block, scheduling.Holds, []scheduling.FinishedVisit, error) {
	const op = "sqlstore.BookingInputs"
	if s.dialect != Postgres {
		var known bool
		if err := s.idb(ctx).QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM patients WHERE practice_id = ? AND id = ?)`,
			practice, patient).Scan(&known); err != nil {
			return nil, scheduling.Holds{}, nil, failure(op, "patient", err)
		}
		if !known {
			return nil, scheduling.Holds{}, nil, errs.NotFound(op, "patient")
		}
		blocks, h, err := s.SlotInputs(ctx, practice, []scheduling.ProviderID{provider}, resources, from, to)
		if err != nil {
			return nil, scheduling.Holds{}, nil, err
		}
		visits, err := s.FinishedVisits(ctx, practice, []scheduling.PatientID{patient}, visitsFrom, from)
		return blocks, h, visits, err
	}
	rows, err := s.pgSlotRows(ctx, practice, []scheduling.ProviderID{provider}, resources, from, to, true, &patient, visitsFrom)
	if err != nil {
		return nil, scheduling.Holds{}, nil, failure(op, "slot input", err)
	}
	visits := []scheduling.FinishedVisit{}
	known := false
	for _, r := range rows {
		switch r.Kind {
		case 3:
			visits = append(visits, scheduling.FinishedVisit{PatientID: r.ID, ProviderID: r.OwnerID,
				Specialties: slice(r.ExDates), Start: r.HoldStart.Time()})
		case 4:
			known = true
		}
	}
	if !known {
		return nil, scheduling.Holds{}, nil, errs.NotFound(op, "patient")
	}
	slices.SortFunc(visits, func(a, b scheduling.FinishedVisit) int { return a.Start.Compare(b.Start) })
	blocks, h := slotResults(practice, rows)
	return blocks, h, visits, nil
}

func (s *Scheduling) slotInputs(ctx context.Context, practice tenant.PracticeID, providers []scheduling.ProviderID, resources []scheduling.ResourceID, from, to time.Time, withBlocks bool) ([]*scheduling.Block, scheduling.Holds, error) {
	var rows []slotRow
	if s.dialect == Postgres {
		var err error
		if rows, err = s.pgSlotRows(ctx, practice, providers, resources, from, to, withBlocks, nil, time.Time{}); err != nil {
			return nil, scheduling.Holds{}, err
		}
	} else if query, args := slotQuery(practice, providers, resources, from, to, withBlocks); query != "" {
		if err := s.idb(ctx).NewRaw(query, args...).Scan(ctx, &rows); err != nil {
			return nil, scheduling.Holds{}, err
		}
	}
	blocks, h := slotResults(practice, rows)
	return blocks, h, nil
}

// FinishedVisits returns the visits with status out of patients whose Start
// is in [from, to), by Start.
func (s *Scheduling) FinishedVisits(ctx context.Context, practice tenant.PracticeID, patients []scheduling.PatientID, from, to time.Time) ([]scheduling.FinishedVisit, error) {
	out := []scheduling.FinishedVisit{}
	if len(patients) == 0 {
		return out, nil
	}
	if s.dialect == Postgres {
		out, err := s.pgFinishedVisits(ctx, practice, patients, from, to)
		return out, failure("sqlstore.FinishedVisits", "visit", err)
	}
	var rows []struct {
		PatientID   uuid.UUID        `bun:"patient_id"`
		ProviderID  uuid.UUID        `bun:"provider_id"`
		StartAt     utcTime          `bun:"start_at"`
		Specialties jsonList[string] `bun:"specialties"`
	}
	err := s.idb(ctx).NewRaw(`SELECT a.patient_id, a.provider_id, a.start_at, p.specialties
FROM appointments AS a
JOIN providers AS p ON p.practice_id = a.practice_id AND p.id = a.provider_id
WHERE a.practice_id = ? AND a.patient_id IN (?) AND a.start_at >= ? AND a.start_at < ? AND a.status = ?
ORDER BY a.start_at, a.id`,
		practice, bun.List(patients), utc(from), utc(to), string(scheduling.StatusOut)).Scan(ctx, &rows)
	if err != nil {
		return nil, failure("sqlstore.FinishedVisits", "visit", err)
	}
	for _, r := range rows {
		out = append(out, scheduling.FinishedVisit{PatientID: r.PatientID, ProviderID: r.ProviderID,
			Specialties: slice(r.Specialties), Start: r.StartAt.Time()})
	}
	return out, nil
}
