package sqlstore

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Patients' names, birth date, phone and email are sealed in the column
// sealed of patients (see sealed.go); the blind indexes beside it find them.
// The index names are part of every token: renaming one orphans its tokens.
const (
	patientsTable       = "patients"
	patientSealedColumn = "sealed"
	indexPhone          = "patients.phone"
	indexEmail          = "patients.email"
	indexFamilyBirth    = "patients.family+birth_date"
	indexGiven2         = "patients.given_name/2"
	indexGiven3         = "patients.given_name/3"
	indexFamily2        = "patients.family_name/2"
	indexFamily3        = "patients.family_name/3"
	// prefixTokenSize is the length of a name-prefix token: 2 bytes, 65,536
	// buckets, so that a token tells little about the name and a search
	// opens few rows that do not match.
	prefixTokenSize = 2
)

// patientBinding is where patient id's sealed fields live.
func patientBinding(id uuid.UUID) keys.Binding {
	return keys.Binding{Table: patientsTable, Column: patientSealedColumn, Row: id.String()}
}

// nameKey is a name as the indexes and the name filter compare it.
func nameKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// familyBirthKey is what the family-name-and-birth-date index tokenises.
func familyBirthKey(family, birth string) string {
	if family == "" || birth == "" {
		return ""
	}
	return nameKey(family) + "\x00" + birth
}

// patientPHI is what a patient row seals, or holds in clear in the columns
// of a row written before sealing (sealed NULL).
type patientPHI struct {
	GivenName  string `bun:"given_name"`
	FamilyName string `bun:"family_name"`
	BirthDate  string `bun:"birth_date"`
	Phone      string `bun:"phone"`
	Email      string `bun:"email"`
}

// sealedPatient is a patient's sealed fields as a query reads them: the
// ciphertext, and the clear columns that only rows from before sealing
// fill.
type sealedPatient struct {
	Sealed []byte `bun:"sealed"`
	patientPHI
}

// open returns the patient's fields: the ciphertext's, opened, or the
// clear columns of a row from before sealing.
func (sp *sealedPatient) open(ctx context.Context, c *conn, op string, practice, id uuid.UUID) (patientPHI, error) {
	if sp.Sealed == nil {
		return sp.patientPHI, nil
	}
	f, err := c.openFields(ctx, op, practice, patientBinding(id), sp.Sealed, 5)
	if err != nil {
		return patientPHI{}, err
	}
	return patientPHI{GivenName: f[0], FamilyName: f[1], BirthDate: f[2], Phone: f[3], Email: f[4]}, nil
}

type patientRow struct {
	bun.BaseModel `bun:"table:patients,alias:pt"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	ID         uuid.UUID `bun:"id,pk"`
	sealedPatient
	SealedKey  int64   `bun:"sealed_key"`
	Language   string  `bun:"language"`
	CreatedAt  utcTime `bun:"created_at"`
	UpdatedAt  utcTime `bun:"updated_at"`
	GivenKey   string  `bun:"given_key"`
	FamilyKey  string  `bun:"family_key"`
	PhoneIndex []byte  `bun:"phone_index"`
	EmailIndex []byte  `bun:"email_index"`
	FamilyDOB  []byte  `bun:"family_birth_index"`
	Given2     []byte  `bun:"given_prefix2"`
	Given3     []byte  `bun:"given_prefix3"`
	Family2    []byte  `bun:"family_prefix2"`
	Family3    []byte  `bun:"family_prefix3"`
}

// patientColumns are what reading a patient needs of its row.
var patientColumns = []string{"practice_id", "id", "sealed", "given_name", "family_name", "birth_date",
	"phone", "email", "language", "created_at", "updated_at"}

// patientWriteColumns are what UpdatePatient and resealing rewrite.
var patientWriteColumns = []string{"sealed", "sealed_key", "given_name", "family_name", "given_key", "family_key",
	"birth_date", "phone", "email", "phone_index", "email_index", "family_birth_index",
	"given_prefix2", "given_prefix3", "family_prefix2", "family_prefix3", "language", "updated_at"}

// newPatientRow returns p's row: its fields sealed, its index tokens made,
// its clear columns empty.
func (c *conn) newPatientRow(ctx context.Context, op string, p *scheduling.Patient) (*patientRow, error) {
	r := &patientRow{PracticeID: p.PracticeID, ID: p.ID, Language: p.Language,
		CreatedAt: utc(p.CreatedAt), UpdatedAt: utc(p.UpdatedAt)}
	var err error
	if r.Sealed, r.SealedKey, err = c.sealFields(ctx, op, p.PracticeID, patientBinding(p.ID),
		p.GivenName, p.FamilyName, p.BirthDate, p.Phone, p.Email); err != nil {
		return nil, err
	}
	given, family := nameKey(p.GivenName), nameKey(p.FamilyName)
	for _, t := range []struct {
		dst         *[]byte
		name, value string
		n           int
	}{
		{&r.PhoneIndex, indexPhone, p.Phone, keys.IndexSize},
		{&r.EmailIndex, indexEmail, p.Email, keys.IndexSize},
		{&r.FamilyDOB, indexFamilyBirth, familyBirthKey(p.FamilyName, p.BirthDate), keys.IndexSize},
		{&r.Given2, indexGiven2, prefix(given, 2), prefixTokenSize},
		{&r.Given3, indexGiven3, prefix(given, 3), prefixTokenSize},
		{&r.Family2, indexFamily2, prefix(family, 2), prefixTokenSize},
		{&r.Family3, indexFamily3, prefix(family, 3), prefixTokenSize},
	} {
		if *t.dst, err = c.token(ctx, op, p.PracticeID, t.name, t.value, t.n); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// patient returns the row's patient, opening its sealed fields.
func (r *patientRow) patient(ctx context.Context, c *conn, op string) (*scheduling.Patient, error) {
	phi, err := r.open(ctx, c, op, r.PracticeID, r.ID)
	if err != nil {
		return nil, err
	}
	return &scheduling.Patient{
		ID:         r.ID,
		PracticeID: r.PracticeID,
		GivenName:  phi.GivenName,
		FamilyName: phi.FamilyName,
		BirthDate:  phi.BirthDate,
		Phone:      phi.Phone,
		Email:      phi.Email,
		Language:   r.Language,
		CreatedAt:  r.CreatedAt.Time(),
		UpdatedAt:  r.UpdatedAt.Time(),
	}, nil
}

// CreatePatient stores p as given, its names and contact details sealed.
func (s *Scheduling) CreatePatient(ctx context.Context, p *scheduling.Patient) error {
	const op = "sqlstore.CreatePatient"
	row, err := s.newPatientRow(ctx, op, p)
	if err != nil {
		return err
	}
	_, err = s.idb(ctx).NewInsert().Model(row).Exec(ctx)
	return failure(op, "patient", err)
}

// GetPatient returns patient id of practice, or KindNotFound; KindConflict
// if its sealed fields do not open (they were moved or altered).
func (s *Scheduling) GetPatient(ctx context.Context, practice tenant.PracticeID, id scheduling.PatientID) (*scheduling.Patient, error) {
	const op = "sqlstore.GetPatient"
	var row patientRow
	if err := s.idb(ctx).NewSelect().Model(&row).Column(patientColumns...).
		Where("pt.practice_id = ? AND pt.id = ?", practice, id).Scan(ctx); err != nil {
		return nil, failure(op, "patient", err)
	}
	return row.patient(ctx, s.conn, op)
}

// UpdatePatient replaces every field of the stored patient but ID,
// PracticeID and CreatedAt; KindNotFound if there is none.
func (s *Scheduling) UpdatePatient(ctx context.Context, p *scheduling.Patient) error {
	const op = "sqlstore.UpdatePatient"
	row, err := s.newPatientRow(ctx, op, p)
	if err != nil {
		return err
	}
	res, err := s.idb(ctx).NewUpdate().Model(row).Column(patientWriteColumns...).WherePK().Exec(ctx)
	return affected(op, "patient", res, err)
}

// ListPatients returns the patients of practice that pass f, in ID order.
// Phone, Email, and FamilyName with BirthDate, are found through their
// blind indexes; Name, a case-insensitive prefix (Unicode lower case) of the
// given or family name, through the tokens of the first 2 or 3 letters of
// each name (a one-letter Name opens every patient of the practice). The
// candidates are opened and filtered on what they hold, so that a token
// shared by other values lets nothing through.
func (s *Scheduling) ListPatients(ctx context.Context, practice tenant.PracticeID, f scheduling.PatientFilter) ([]*scheduling.Patient, error) {
	const op = "sqlstore.ListPatients"
	var rows []patientRow
	q := s.idb(ctx).NewSelect().Model(&rows).Column(patientColumns...).Where("pt.practice_id = ?", practice)
	// indexed is set once an index narrows the rows: they are then sorted
	// here, so that no planner prefers walking the primary key in order
	// (the whole practice) to the index.
	indexed := len(f.IDs) > 0
	if indexed {
		q = q.Where("pt.id IN (?)", bun.List(f.IDs))
	}
	name := nameKey(f.Name)
	// Rows from before sealing have no tokens: a lookup takes them too
	// (through the partial index patients_unsealed) and filters them in
	// clear, unless the practice has none, as once Reseal has run.
	unsealed, err := s.hasUnsealedPatients(ctx, op, practice)
	if err != nil {
		return nil, err
	}
	orUnsealed := ""
	if unsealed {
		orUnsealed = " OR pt.sealed IS NULL"
	}
	exact := []struct{ column, index, value string }{
		{"phone_index", indexPhone, f.Phone},
		{"email_index", indexEmail, f.Email},
		{"family_birth_index", indexFamilyBirth, familyBirthKey(f.FamilyName, f.BirthDate)},
	}
	post := name != "" || f.FamilyName != "" || f.BirthDate != "" || f.Phone != "" || f.Email != ""
	for _, e := range exact {
		if e.value == "" {
			continue
		}
		t, err := s.token(ctx, op, practice, e.index, e.value, keys.IndexSize)
		if err != nil {
			return nil, notFoundIsEmpty(err)
		}
		q = q.Where("(pt."+e.column+" = ?"+orUnsealed+")", t)
		indexed = true
	}
	if n := utf8.RuneCountInString(name); n >= 2 {
		given, family := indexGiven2, indexFamily2
		col := "2"
		if n >= 3 {
			given, family, col = indexGiven3, indexFamily3, "3"
		}
		gt, err := s.token(ctx, op, practice, given, prefix(name, min(n, 3)), prefixTokenSize)
		if err != nil {
			return nil, notFoundIsEmpty(err)
		}
		ft, err := s.token(ctx, op, practice, family, prefix(name, min(n, 3)), prefixTokenSize)
		if err != nil {
			return nil, notFoundIsEmpty(err)
		}
		q = q.Where("(pt.given_prefix"+col+" = ? OR pt.family_prefix"+col+" = ?"+orUnsealed+")", gt, ft)
		indexed = true
	}
	if f.After != nil {
		q = q.Where("pt.id > ?", *f.After)
	}
	if !indexed {
		q = q.OrderExpr("pt.id")
		if f.Limit > 0 && !post {
			q = q.Limit(int64(f.Limit))
		}
	}
	if err := q.Scan(ctx); err != nil {
		return nil, failure(op, "patient", err)
	}
	if indexed {
		slices.SortFunc(rows, func(a, b patientRow) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	}
	out := make([]*scheduling.Patient, 0, len(rows))
	for i := range rows {
		p, err := rows[i].patient(ctx, s.conn, op)
		if err != nil {
			return nil, err
		}
		if post && !f.Matches(p) {
			continue
		}
		out = append(out, p)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// hasUnsealedPatients reports whether practice has patient rows from
// before sealing, remembering a practice that has none (see
// conn.allSealed).
func (s *Scheduling) hasUnsealedPatients(ctx context.Context, op string, practice uuid.UUID) (bool, error) {
	if _, ok := s.allSealed.Load(practice); ok {
		return false, nil
	}
	var found bool
	if err := s.idb(ctx).QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM patients WHERE practice_id = ? AND sealed IS NULL)`,
		practice).Scan(&found); err != nil {
		return false, failure(op, "patient", err)
	}
	if !found {
		s.allSealed.Store(practice, true)
	}
	return found, nil
}

// notFoundIsEmpty turns the KindNotFound of a practice without keys (none
// made yet, or shredded) into no error: no patient can match.
func notFoundIsEmpty(err error) error {
	if errs.KindOf(err) == errs.KindNotFound {
		return nil
	}
	return err
}

// ResealPatients seals again, with practice's primary key, up to limit of
// its patients whose row an older key sealed (after keys.Service.Rotate)
// or that an earlier release left in clear, and returns how many it
// rewrote: 0 when none is left (see resealRows).
func (s *Scheduling) ResealPatients(ctx context.Context, practice tenant.PracticeID, limit int) (int, error) {
	const op = "sqlstore.ResealPatients"
	return resealRows(ctx, s.conn, op, practice, limit, "pt", patientColumns, func(ctx context.Context, r *patientRow) error {
		p, err := r.patient(ctx, s.conn, op)
		if err != nil {
			return err
		}
		row, err := s.newPatientRow(ctx, op, p)
		if err != nil {
			return err
		}
		_, err = s.idb(ctx).NewUpdate().Model(row).Column(patientWriteColumns...).WherePK().Exec(ctx)
		return failure(op, "patient", err)
	})
}
