package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
)

// The hot reads of searching and booking run on PostgreSQL as prepared
// statements of fixed text with $n parameters, which pgx prepares once per
// connection and PostgreSQL then runs without planning again. Everything else
// goes through bun, which writes arguments into the SQL text.

// queryPrepared runs query as a cached prepared statement, in ctx's
// transaction if it has one. PostgreSQL only.
func (c *conn) queryPrepared(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	args = append([]any{pgx.QueryExecModeCacheStatement}, args...)
	switch db := c.idb(ctx).(type) {
	case *bun.DB:
		return db.DB.QueryContext(ctx, query, args...)
	case bun.Tx:
		return db.Tx.QueryContext(ctx, query, args...)
	}
	return nil, fmt.Errorf("sqlstore: no prepared statements on %T", c.idb(ctx))
}

// uuidTexts renders IDs for a uuid[] parameter.
func uuidTexts(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// pgSlotQuery is slotQuery's PostgreSQL twin, of fixed text. $1 practice,
// $2 providers, $3 resources, $4 from, $5 to, $6 from less MaxHold, $7 with
// blocks, and for BookingInputs $8 a patient (or NULL) and $9 the start of
// its visits: those rows are kind 3, with the patient as id, the provider as
// owner_id, the start as hold_start and the provider's specialties in the
// exdates column; and one row of kind 4 (with the patient as id) if the
// patient is the practice's.
const pgSlotQuery = `SELECT 2 AS kind, b.id, NULL::uuid AS owner_id, b.id AS block_id, b.capacity AS seat,
	b.start_at AS hold_start, b.end_at AS hold_end, b.provider_id, b.location_id, b.time_zone, b.rrule,
	b.exdates, b.overrides, b.span_end, b.created_at, b.updated_at
FROM blocks AS b
WHERE $7::boolean AND b.practice_id = $1 AND b.provider_id = ANY($2::uuid[]) AND b.start_at < $5
	AND (b.span_end IS NULL OR b.span_end > $4)
UNION ALL
SELECT 0, a.id, a.provider_id, a.block_id, a.seat, a.hold_start, a.hold_end,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM appointments AS a
WHERE a.practice_id = $1 AND a.provider_id = ANY($2::uuid[]) AND a.hold_start < $5 AND a.hold_start > $6
	AND a.hold_end > $4 AND a.status IN ('new', 'confirmed', 'arrived', 'out')
UNION ALL
SELECT 1, ar.appointment_id, ar.resource_id, ar.block_id, 0, ar.hold_start, ar.hold_end,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM appointment_resources AS ar
WHERE ar.practice_id = $1 AND ar.resource_id = ANY($3::uuid[]) AND ar.hold_start < $5 AND ar.hold_start > $6
	AND ar.hold_end > $4 AND ar.active
UNION ALL
SELECT 3, a.patient_id, a.provider_id, a.block_id, 0, a.start_at, a.start_at,
	NULL, NULL, NULL, NULL, p.specialties, NULL, NULL, NULL, NULL
FROM appointments AS a
JOIN providers AS p ON p.practice_id = a.practice_id AND p.id = a.provider_id
WHERE a.practice_id = $1 AND a.patient_id = $8::uuid AND a.start_at >= $9 AND a.start_at < $4
	AND a.status = 'out'
UNION ALL
SELECT 4, p.id, NULL, p.id, 0, $4, $4,
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM patients AS p
WHERE p.practice_id = $1 AND p.id = $8::uuid`

func (s *Scheduling) pgSlotRows(ctx context.Context, practice tenant.PracticeID, providers []scheduling.ProviderID, resources []scheduling.ResourceID, from, to time.Time, withBlocks bool, patient *scheduling.PatientID, visitsFrom time.Time) ([]slotRow, error) {
	if !from.Before(to) {
		return nil, nil
	}
	var pat any // NULL: no visits
	if patient != nil {
		pat = patient.String()
	}
	rows, err := s.queryPrepared(ctx, pgSlotQuery, practice.String(), uuidTexts(providers), uuidTexts(resources),
		from.UTC(), to.UTC(), from.Add(-MaxHold).UTC(), withBlocks, pat, visitsFrom.UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []slotRow
	for rows.Next() {
		var (
			r     slotRow
			owner uuid.NullUUID
			prov  uuid.NullUUID
			loc   uuid.NullUUID
			zone  sql.NullString
			rule  sql.NullString
		)
		if err := rows.Scan(&r.Kind, &r.ID, &owner, &r.BlockID, &r.Seat, &r.HoldStart, &r.HoldEnd,
			&prov, &loc, &zone, &rule, &r.ExDates, &r.Overrides, &r.SpanEnd, &r.CreatedAt, &r.UpdatedAt); err != nil {
			return nil, err
		}
		r.OwnerID, r.ProviderID, r.LocationID = owner.UUID, prov.UUID, loc.UUID
		r.TimeZone, r.RRule = zone.String, rule.String
		out = append(out, r)
	}
	return out, rows.Err()
}

// pgFinishedQuery is FinishedVisits' query, of fixed text.
const pgFinishedQuery = `SELECT a.patient_id, a.provider_id, a.start_at, p.specialties
FROM appointments AS a
JOIN providers AS p ON p.practice_id = a.practice_id AND p.id = a.provider_id
WHERE a.practice_id = $1 AND a.patient_id = ANY($2::uuid[]) AND a.start_at >= $3 AND a.start_at < $4
	AND a.status = 'out'
ORDER BY a.start_at, a.id`

func (s *Scheduling) pgFinishedVisits(ctx context.Context, practice tenant.PracticeID, patients []scheduling.PatientID, from, to time.Time) ([]scheduling.FinishedVisit, error) {
	rows, err := s.queryPrepared(ctx, pgFinishedQuery, practice.String(), uuidTexts(patients), from.UTC(), to.UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []scheduling.FinishedVisit{}
	for rows.Next() {
		var (
			v     scheduling.FinishedVisit
			start utcTime
			specs jsonList[string]
		)
		if err := rows.Scan(&v.PatientID, &v.ProviderID, &start, &specs); err != nil {
			return nil, err
		}
		v.Start, v.Specialties = start.Time(), slice(specs)
		out = append(out, v)
	}
	return out, rows.Err()
}
