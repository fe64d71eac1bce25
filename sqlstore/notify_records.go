package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

type notifySettingsRow struct {
	bun.BaseModel `bun:"table:notify_settings,alias:ns"`

	PracticeID      uuid.UUID       `bun:"practice_id,pk"`
	ReminderOffsets jsonList[int64] `bun:"reminder_offsets_us"`
	QuietStart      int             `bun:"quiet_start"`
	QuietEnd        int             `bun:"quiet_end"`
	SMSFrom         string          `bun:"sms_from"`
	EmailFrom       string          `bun:"email_from"`
	EmailFromName   string          `bun:"email_from_name"`
	UpdatedAt       utcTime         `bun:"updated_at"`
}

// Settings returns the practice's notification settings, or
// notify.DefaultSettings if it stored none.
func (s *Notify) Settings(ctx context.Context, practice tenant.PracticeID) (notify.Settings, error) {
	var row notifySettingsRow
	err := s.idb(ctx).NewSelect().Model(&row).Where("ns.practice_id = ?", practice).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notify.DefaultSettings(practice), nil
	case err != nil:
		return notify.Settings{}, failure("sqlstore.Settings", "settings", err)
	}
	return row.settings(), nil
}

// settings converts a stored row.
func (row *notifySettingsRow) settings() notify.Settings {
	offsets := make([]time.Duration, len(row.ReminderOffsets))
	for i, us := range row.ReminderOffsets {
		offsets[i] = micros(us).Duration()
	}
	return notify.Settings{
		PracticeID:      row.PracticeID,
		ReminderOffsets: offsets,
		QuietStart:      row.QuietStart,
		QuietEnd:        row.QuietEnd,
		SMSFrom:         row.SMSFrom,
		EmailFrom:       row.EmailFrom,
		EmailFromName:   row.EmailFromName,
		UpdatedAt:       row.UpdatedAt.Time(),
	}
}

// PutSettings stores the practice's settings, replacing any; KindNotFound
// if the practice is unknown.
func (s *Notify) PutSettings(ctx context.Context, st notify.Settings) error {
	offsets := make(jsonList[int64], len(st.ReminderOffsets))
	for i, d := range st.ReminderOffsets {
		offsets[i] = int64(us(d))
	}
	row := &notifySettingsRow{
		PracticeID:      st.PracticeID,
		ReminderOffsets: offsets,
		QuietStart:      st.QuietStart,
		QuietEnd:        st.QuietEnd,
		SMSFrom:         st.SMSFrom,
		EmailFrom:       st.EmailFrom,
		EmailFromName:   st.EmailFromName,
		UpdatedAt:       utc(st.UpdatedAt),
	}
	return s.upsert(ctx, "sqlstore.PutSettings", "settings", row, "practice_id")
}

// upsert inserts row, or replaces every other column of the row with the
// same key columns.
func (s *Notify) upsert(ctx context.Context, op, what string, row any, key ...string) error {
	q := s.idb(ctx).NewInsert().Model(row)
	keys := make(map[string]bool, len(key))
	for _, k := range key {
		keys[k] = true
	}
	set := ""
	for _, f := range q.DB().Table(reflect.TypeOf(row).Elem()).Fields {
		if keys[f.Name] {
			continue
		}
		if set != "" {
			set += ", "
		}
		set += f.Name + " = excluded." + f.Name
	}
	_, err := q.On("CONFLICT (" + joinNonEmpty(", ", key...) + ") DO UPDATE SET " + set).Exec(ctx)
	return failure(op, what, err)
}

type notifyTemplateRow struct {
	bun.BaseModel `bun:"table:notify_templates,alias:nt"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	Kind       string    `bun:"kind,pk"`
	Channel    string    `bun:"channel,pk"`
	Language   string    `bun:"language,pk"`
	Subject    string    `bun:"subject"`
	Text       string    `bun:"text"`
	HTML       string    `bun:"html"`
	UpdatedAt  utcTime   `bun:"updated_at"`
	UpdatedBy  string    `bun:"updated_by"`
}

func (r *notifyTemplateRow) template() *notify.Template {
	return &notify.Template{
		PracticeID: r.PracticeID,
		Kind:       notify.Kind(r.Kind),
		Channel:    notify.Channel(r.Channel),
		Language:   r.Language,
		Subject:    r.Subject,
		Text:       r.Text,
		HTML:       r.HTML,
		UpdatedAt:  r.UpdatedAt.Time(),
		UpdatedBy:  r.UpdatedBy,
	}
}

// templateWhere is the WHERE condition naming one template, with the
// arguments templateKey returns.
const templateWhere = "practice_id = ? AND kind = ? AND channel = ? AND language = ?"

func templateKey(practice tenant.PracticeID, kind notify.Kind, ch notify.Channel, language string) []any {
	return []any{practice, string(kind), string(ch), language}
}

// Template returns one of the practice's templates, KindNotFound if absent.
func (s *Notify) Template(ctx context.Context, practice tenant.PracticeID, kind notify.Kind, ch notify.Channel, language string) (*notify.Template, error) {
	var row notifyTemplateRow
	q := s.idb(ctx).NewSelect().Model(&row).Where(templateWhere, templateKey(practice, kind, ch, language)...)
	if err := q.Scan(ctx); err != nil {
		return nil, failure("sqlstore.Template", "template", err)
	}
	return row.template(), nil
}

// Templates lists the practice's own templates by kind, channel and
// language.
func (s *Notify) Templates(ctx context.Context, practice tenant.PracticeID) ([]*notify.Template, error) {
	rows := []notifyTemplateRow{}
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("nt.practice_id = ?", practice).
		OrderExpr("nt.kind, nt.channel, nt.language").Scan(ctx); err != nil {
		return nil, failure("sqlstore.Templates", "template", err)
	}
	out := make([]*notify.Template, len(rows))
	for i := range rows {
		out[i] = rows[i].template()
	}
	return out, nil
}

// PutTemplate creates or replaces a template; KindNotFound if the practice
// is unknown.
func (s *Notify) PutTemplate(ctx context.Context, t *notify.Template) error {
	row := &notifyTemplateRow{
		PracticeID: t.PracticeID,
		Kind:       string(t.Kind),
		Channel:    string(t.Channel),
		Language:   t.Language,
		Subject:    t.Subject,
		Text:       t.Text,
		HTML:       t.HTML,
		UpdatedAt:  utc(t.UpdatedAt),
		UpdatedBy:  t.UpdatedBy,
	}
	return s.upsert(ctx, "sqlstore.PutTemplate", "template", row, "practice_id", "kind", "channel", "language")
}

// DeleteTemplate removes one of the practice's templates, KindNotFound if
// absent.
func (s *Notify) DeleteTemplate(ctx context.Context, practice tenant.PracticeID, kind notify.Kind, ch notify.Channel, language string) error {
	res, err := s.idb(ctx).NewDelete().Table("notify_templates").
		Where(templateWhere, templateKey(practice, kind, ch, language)...).Exec(ctx)
	return affected("sqlstore.DeleteTemplate", "template", res, err)
}

type notifyPreferencesRow struct {
	bun.BaseModel `bun:"table:notify_preferences,alias:np"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	PatientID  uuid.UUID `bun:"patient_id,pk"`
	SMS        bool      `bun:"sms"`
	Email      bool      `bun:"email"`
	SMSOptOut  bool      `bun:"sms_opt_out"`
	Language   string    `bun:"language"`
	Marketing  bool      `bun:"marketing"`
	UpdatedAt  utcTime   `bun:"updated_at"`
}

// Preferences returns a patient's preferences, notify.DefaultPreferences if
// they stored none, and KindNotFound if the patient is not the practice's:
// one query, the patient LEFT JOIN its preferences.
func (s *Notify) Preferences(ctx context.Context, practice tenant.PracticeID, patient uuid.UUID) (notify.Preferences, error) {
	var row prefsRow
	err := s.idb(ctx).NewRaw(`SELECT np.sms AS pref_sms, COALESCE(np.email, TRUE) AS pref_email,
	COALESCE(np.sms_opt_out, FALSE) AS pref_sms_opt_out, COALESCE(np.language, '') AS pref_language,
	COALESCE(np.marketing, FALSE) AS pref_marketing, np.updated_at AS pref_updated_at
FROM patients AS p
LEFT JOIN notify_preferences AS np ON np.practice_id = p.practice_id AND np.patient_id = p.id
WHERE p.practice_id = ? AND p.id = ?`, practice, patient).Scan(ctx, &row)
	if err != nil {
		return notify.Preferences{}, failure("sqlstore.Preferences", "patient", err)
	}
	return row.preferences(practice, patient), nil
}

// prefsRow is a patient's row of notify_preferences, all NULL (SMS nil) if
// there is none, as Preferences and factsQuery read it.
type prefsRow struct {
	SMS       *bool    `bun:"pref_sms"`
	Email     bool     `bun:"pref_email"`
	SMSOptOut bool     `bun:"pref_sms_opt_out"`
	Language  string   `bun:"pref_language"`
	Marketing bool     `bun:"pref_marketing"`
	UpdatedAt *utcTime `bun:"pref_updated_at"`
}

// preferences converts the row of patient, the defaults if there was none.
func (row *prefsRow) preferences(practice tenant.PracticeID, patient uuid.UUID) notify.Preferences {
	if row.SMS == nil {
		return notify.DefaultPreferences(practice, patient)
	}
	return notify.Preferences{
		PracticeID: practice,
		PatientID:  patient,
		SMS:        *row.SMS,
		Email:      row.Email,
		SMSOptOut:  row.SMSOptOut,
		Language:   row.Language,
		Marketing:  row.Marketing,
		UpdatedAt:  row.UpdatedAt.Time(),
	}
}

type consentChangeRow struct {
	bun.BaseModel `bun:"table:notify_consent_changes,alias:cc"`

	PracticeID uuid.UUID `bun:"practice_id,pk"`
	ID         uuid.UUID `bun:"id,pk"`
	PatientID  uuid.UUID `bun:"patient_id"`
	Field      string    `bun:"field"`
	Value      string    `bun:"value"`
	Source     string    `bun:"source"`
	At         utcTime   `bun:"at"`
}

// PutPreferences stores p and appends changes to the consent history, in
// one transaction; KindNotFound if the patient is not the practice's.
func (s *Notify) PutPreferences(ctx context.Context, p notify.Preferences, changes []notify.ConsentChange) error {
	const op = "sqlstore.PutPreferences"
	row := &notifyPreferencesRow{
		PracticeID: p.PracticeID,
		PatientID:  p.PatientID,
		SMS:        p.SMS,
		Email:      p.Email,
		SMSOptOut:  p.SMSOptOut,
		Language:   p.Language,
		Marketing:  p.Marketing,
		UpdatedAt:  utc(p.UpdatedAt),
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.upsert(ctx, op, "patient", row, "practice_id", "patient_id"); err != nil {
			return err
		}
		if len(changes) == 0 {
			return nil
		}
		rows := make([]consentChangeRow, len(changes))
		for i, c := range changes {
			if c.PracticeID != p.PracticeID || c.PatientID != p.PatientID {
				return errs.Invalid(op, "changes", "a consent change is about another patient")
			}
			rows[i] = consentChangeRow{
				PracticeID: c.PracticeID, ID: c.ID, PatientID: c.PatientID,
				Field: c.Field, Value: c.Value, Source: c.Source, At: utc(c.At),
			}
		}
		_, err := s.idb(ctx).NewInsert().Model(&rows).Exec(ctx)
		return failure(op, "consent change", err)
	})
}

// ConsentHistory returns a patient's consent changes, oldest first (then
// by ID).
func (s *Notify) ConsentHistory(ctx context.Context, practice tenant.PracticeID, patient uuid.UUID) ([]*notify.ConsentChange, error) {
	rows := []consentChangeRow{}
	if err := s.idb(ctx).NewSelect().Model(&rows).Where("cc.practice_id = ? AND cc.patient_id = ?", practice, patient).
		OrderExpr("cc.at, cc.id").Scan(ctx); err != nil {
		return nil, failure("sqlstore.ConsentHistory", "consent change", err)
	}
	out := make([]*notify.ConsentChange, len(rows))
	for i, r := range rows {
		out[i] = &notify.ConsentChange{
			ID: r.ID, PracticeID: r.PracticeID, PatientID: r.PatientID,
			Field: r.Field, Value: r.Value, Source: r.Source, At: r.At.Time(),
		}
	}
	return out, nil
}

// factsRow is one row of factsQuery.
type factsRow struct {
	PracticeID    uuid.UUID `bun:"practice_id"`
	PracticeName  string    `bun:"practice_name"`
	AppointmentID uuid.UUID `bun:"appointment_id"`
	Status        string    `bun:"status"`
	Start         utcTime   `bun:"start_at"`
	End           utcTime   `bun:"end_at"`
	PatientID     uuid.UUID `bun:"patient_id"`
	sealedPatient
	Language       string `bun:"language"`
	ProviderGiven  string `bun:"provider_given"`
	ProviderFamily string `bun:"provider_family"`
	VisitTypeName  string `bun:"visit_type_name"`
	LocationName   string `bun:"location_name"`
	LocationZone   string `bun:"location_zone"`
	Line1          string `bun:"line1"`
	Line2          string `bun:"line2"`
	City           string `bun:"city"`
	CancelCutoffUS micros `bun:"cancel_cutoff_us"`
	prefsRow
	HasSettings     bool            `bun:"has_settings"`
	ReminderOffsets jsonList[int64] `bun:"settings_reminder_offsets_us"`
	QuietStart      int             `bun:"settings_quiet_start"`
	QuietEnd        int             `bun:"settings_quiet_end"`
	SMSFrom         string          `bun:"settings_sms_from"`
	EmailFrom       string          `bun:"settings_email_from"`
	EmailFromName   string          `bun:"settings_email_from_name"`
	SettingsUpdated utcTime         `bun:"settings_updated_at"`
}

// factsQuery reads an appointment with its practice (and the practice's
// cancellation cut-off), patient, provider, visit type and location, the
// patient's notification preferences and the practice's notification
// settings (as Preferences and Settings read them) in one statement; the
// caller adds the WHERE conditions on a (the appointment) after it.
const factsQuery = `SELECT a.practice_id, pr.name AS practice_name, pr.cancel_cutoff_us, a.id AS appointment_id, a.status,
	a.start_at, a.end_at, a.patient_id, pt.sealed, pt.given_name, pt.family_name, pt.birth_date, pt.phone, pt.email, pt.language,
	pv.given_name AS provider_given, pv.family_name AS provider_family, vt.name AS visit_type_name,
	COALESCE(l.name, '') AS location_name, COALESCE(l.time_zone, '') AS location_zone,
	COALESCE(l.line1, '') AS line1, COALESCE(l.line2, '') AS line2, COALESCE(l.city, '') AS city,
	np.sms AS pref_sms, COALESCE(np.email, TRUE) AS pref_email,
	COALESCE(np.sms_opt_out, FALSE) AS pref_sms_opt_out, COALESCE(np.language, '') AS pref_language,
	COALESCE(np.marketing, FALSE) AS pref_marketing, np.updated_at AS pref_updated_at,
	ns.practice_id IS NOT NULL AS has_settings, COALESCE(ns.reminder_offsets_us, '[]') AS settings_reminder_offsets_us,
	COALESCE(ns.quiet_start, 0) AS settings_quiet_start, COALESCE(ns.quiet_end, 0) AS settings_quiet_end,
	COALESCE(ns.sms_from, '') AS settings_sms_from, COALESCE(ns.email_from, '') AS settings_email_from,
	COALESCE(ns.email_from_name, '') AS settings_email_from_name, COALESCE(ns.updated_at, a.created_at) AS settings_updated_at
FROM appointments AS a
JOIN practices AS pr ON pr.id = a.practice_id
JOIN patients AS pt ON pt.practice_id = a.practice_id AND pt.id = a.patient_id
JOIN providers AS pv ON pv.practice_id = a.practice_id AND pv.id = a.provider_id
JOIN visit_types AS vt ON vt.practice_id = a.practice_id AND vt.id = a.visit_type_id
LEFT JOIN locations AS l ON l.practice_id = a.practice_id AND l.id = a.location_id
LEFT JOIN notify_preferences AS np ON np.practice_id = a.practice_id AND np.patient_id = a.patient_id
LEFT JOIN notify_settings AS ns ON ns.practice_id = a.practice_id
WHERE a.practice_id = ? `

// facts returns the row's facts, the patient's sealed fields opened.
func (r *factsRow) facts(ctx context.Context, c *conn, op string) (*notify.Facts, error) {
	phi, err := r.open(ctx, c, op, r.PracticeID, r.PatientID)
	if err != nil {
		return nil, err
	}
	prefs, set := r.preferences(r.PracticeID, r.PatientID), r.settings()
	return &notify.Facts{
		PracticeID:     r.PracticeID,
		PracticeName:   r.PracticeName,
		AppointmentID:  r.AppointmentID,
		Status:         r.Status,
		Start:          r.Start.Time(),
		End:            r.End.Time(),
		PatientID:      r.PatientID,
		GivenName:      phi.GivenName,
		FamilyName:     phi.FamilyName,
		Phone:          phi.Phone,
		Email:          phi.Email,
		Language:       r.Language,
		ProviderName:   joinNonEmpty(" ", r.ProviderGiven, r.ProviderFamily),
		VisitTypeName:  r.VisitTypeName,
		LocationName:   r.LocationName,
		LocationZone:   r.LocationZone,
		LocationStreet: joinNonEmpty(", ", r.Line1, r.Line2),
		LocationCity:   r.City,
		CancelCutoff:   r.CancelCutoffUS.Duration(),
		Preferences:    &prefs,
		Settings:       &set,
	}, nil
}

// settings converts the practice's settings row, or returns
// notify.DefaultSettings if it stored none.
func (r *factsRow) settings() notify.Settings {
	if !r.HasSettings {
		return notify.DefaultSettings(r.PracticeID)
	}
	row := notifySettingsRow{PracticeID: r.PracticeID, ReminderOffsets: r.ReminderOffsets, QuietStart: r.QuietStart, QuietEnd: r.QuietEnd,
		SMSFrom: r.SMSFrom, EmailFrom: r.EmailFrom, EmailFromName: r.EmailFromName, UpdatedAt: r.SettingsUpdated}
	return row.settings()
}

// AppointmentFacts reads what messages about an appointment may say, in one
// query; KindNotFound if the appointment is not the practice's. The
// provider's name is "given family"; the street is line 1, then line 2.
func (s *Notify) AppointmentFacts(ctx context.Context, practice tenant.PracticeID, appointment uuid.UUID) (*notify.Facts, error) {
	const op = "sqlstore.AppointmentFacts"
	var row factsRow
	var err error
	if s.dialect == Postgres {
		err = s.pgAppointmentFacts(ctx, practice, appointment, &row)
	} else {
		err = s.idb(ctx).NewRaw(factsQuery+`AND a.id = ?`, practice, appointment).Scan(ctx, &row)
	}
	if err != nil {
		return nil, failure(op, "appointment", err)
	}
	return row.facts(ctx, s.conn, op)
}

// pgFactsQuery is AppointmentFacts' query on PostgreSQL, of fixed text (see
// queryPrepared): every booking and change reads it for its messages, and
// planning its six-table join costs some ten times running it. $1 is the
// practice, $2 the appointment.
var pgFactsQuery = strings.Replace(factsQuery, "?", "$1", 1) + `AND a.id = $2`

// pgAppointmentFacts reads pgFactsQuery's one row into row, or
// sql.ErrNoRows.
func (s *Notify) pgAppointmentFacts(ctx context.Context, practice tenant.PracticeID, appointment uuid.UUID, row *factsRow) error {
	rows, err := s.queryPrepared(ctx, pgFactsQuery, practice.String(), appointment.String())
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(&row.PracticeID, &row.PracticeName, &row.CancelCutoffUS, &row.AppointmentID, &row.Status,
		&row.Start, &row.End, &row.PatientID, &row.Sealed, &row.patientPHI.GivenName, &row.patientPHI.FamilyName, &row.patientPHI.BirthDate,
		&row.patientPHI.Phone, &row.patientPHI.Email, &row.Language,
		&row.ProviderGiven, &row.ProviderFamily, &row.VisitTypeName,
		&row.LocationName, &row.LocationZone, &row.Line1, &row.Line2, &row.City,
		&row.prefsRow.SMS, &row.prefsRow.Email, &row.prefsRow.SMSOptOut, &row.prefsRow.Language, &row.prefsRow.Marketing, &row.prefsRow.UpdatedAt,
		&row.HasSettings, &row.ReminderOffsets, &row.QuietStart, &row.QuietEnd,
		&row.SMSFrom, &row.EmailFrom, &row.EmailFromName, &row.SettingsUpdated); err != nil {
		return err
	}
	return rows.Close()
}

// NextAppointment returns the facts of the earliest new or confirmed
// appointment of one of patients starting after after, KindNotFound if
// there is none.
func (s *Notify) NextAppointment(ctx context.Context, practice tenant.PracticeID, patients []uuid.UUID, after time.Time) (*notify.Facts, error) {
	const op = "sqlstore.NextAppointment"
	if len(patients) == 0 {
		return nil, errs.NotFound(op, "appointment")
	}
	var row factsRow
	if err := s.idb(ctx).NewRaw(factsQuery+`AND a.patient_id IN (?) AND a.status IN ('new', 'confirmed') AND a.start_at > ?
ORDER BY a.start_at, a.id LIMIT 1`, practice, bun.List(patients), utc(after)).Scan(ctx, &row); err != nil {
		return nil, failure(op, "appointment", err)
	}
	return row.facts(ctx, s.conn, op)
}

// PatientsByPhone returns the IDs of the practice's patients with that
// phone, in ID order.
func (s *Notify) PatientsByPhone(ctx context.Context, practice tenant.PracticeID, phone string) ([]uuid.UUID, error) {
	const op = "sqlstore.PatientsByPhone"
	out := []uuid.UUID{}
	if phone == "" {
		return out, nil
	}
	ps, err := (&Scheduling{s.conn}).ListPatients(ctx, practice, scheduling.PatientFilter{Phone: phone})
	if err != nil {
		return nil, errs.Wrap(errs.KindOf(err), op, "cannot find the patients of the phone", err)
	}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out, nil
}

// MarketingAudience returns up to limit patients of the practice with
// marketing consent who can be reached on ch, by patient ID after the
// cursor (see notify.Store). A Recipient's Language is the patient's
// preferred one if set, else the patient record's.
func (s *Notify) MarketingAudience(ctx context.Context, practice tenant.PracticeID, ch notify.Channel, after uuid.UUID, limit int) ([]notify.Recipient, error) {
	const op = "sqlstore.MarketingAudience"
	var reach string
	switch ch {
	case notify.SMS:
		reach = "(p.phone_index IS NOT NULL OR p.sealed IS NULL AND p.phone <> '') AND NOT np.sms_opt_out"
	case notify.Email:
		reach = "(p.email_index IS NOT NULL OR p.sealed IS NULL AND p.email <> '')"
	default:
		return nil, errs.Invalid(op, "channel", "campaigns go by SMS or email")
	}
	rows := []struct {
		PatientID uuid.UUID `bun:"patient_id"`
		sealedPatient
		Language string `bun:"language"`
	}{}
	q := `SELECT p.id AS patient_id, p.sealed, p.given_name, p.family_name, p.birth_date, p.phone, p.email,
	CASE WHEN np.language <> '' THEN np.language ELSE p.language END AS language
FROM notify_preferences AS np
JOIN patients AS p ON p.practice_id = np.practice_id AND p.id = np.patient_id
WHERE np.practice_id = ? AND np.marketing AND np.patient_id > ? AND ` + reach + `
ORDER BY np.patient_id`
	args := []any{practice, after}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	if err := s.idb(ctx).NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, failure(op, "patient", err)
	}
	out := make([]notify.Recipient, len(rows))
	for i, r := range rows {
		phi, err := r.open(ctx, s.conn, op, practice, r.PatientID)
		if err != nil {
			return nil, err
		}
		out[i] = notify.Recipient{PatientID: r.PatientID, GivenName: phi.GivenName, FamilyName: phi.FamilyName,
			Phone: phi.Phone, Email: phi.Email, Language: r.Language}
	}
	return out, nil
}
