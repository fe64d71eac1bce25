package api

import (
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The request and response bodies of the API that differ from the domain
// types: durations become whole minutes, IDs and times arrive as strings so
// that a bad one is refused naming its field.

// policyJSON is a tenant.BookingPolicy in whole minutes.
type policyJSON struct {
	AutoConfirm         bool  `json:"auto_confirm"`
	MinNoticeMinutes    int64 `json:"min_notice_minutes"`
	MaxAdvanceMinutes   int64 `json:"max_advance_minutes"`
	CancelCutoffMinutes int64 `json:"cancel_cutoff_minutes"`
	ArrivalEarlyMinutes int64 `json:"arrival_early_minutes"`
	ArrivalLateMinutes  int64 `json:"arrival_late_minutes"`
}

func policyOut(p tenant.BookingPolicy) policyJSON {
	return policyJSON{
		AutoConfirm:         p.AutoConfirm,
		MinNoticeMinutes:    int64(p.MinNotice / time.Minute),
		MaxAdvanceMinutes:   int64(p.MaxAdvance / time.Minute),
		CancelCutoffMinutes: int64(p.CancelCutoff / time.Minute),
		ArrivalEarlyMinutes: int64(p.ArrivalEarly / time.Minute),
		ArrivalLateMinutes:  int64(p.ArrivalLate / time.Minute),
	}
}

// policyIn converts a policy; prefix is put before field names in errors
// ("policy." inside a practice, "" on its own).
func (p policyJSON) policyIn(prefix string) (tenant.BookingPolicy, error) {
	out := tenant.BookingPolicy{AutoConfirm: p.AutoConfirm}
	var err error
	if out.MinNotice, err = refserver.Minutes(prefix+"min_notice_minutes", p.MinNoticeMinutes); err != nil {
		return out, err
	}
	if out.MaxAdvance, err = refserver.Minutes(prefix+"max_advance_minutes", p.MaxAdvanceMinutes); err != nil {
		return out, err
	}
	if out.CancelCutoff, err = refserver.Minutes(prefix+"cancel_cutoff_minutes", p.CancelCutoffMinutes); err != nil {
		return out, err
	}
	if out.ArrivalEarly, err = refserver.Minutes(prefix+"arrival_early_minutes", p.ArrivalEarlyMinutes); err != nil {
		return out, err
	}
	if out.ArrivalLate, err = refserver.Minutes(prefix+"arrival_late_minutes", p.ArrivalLateMinutes); err != nil {
		return out, err
	}
	return out, nil
}

// policyFields renames the tenant service's policy fields to the API's.
var policyFields = map[string]string{
	"policy.min_notice":    "min_notice_minutes",
	"policy.max_advance":   "max_advance_minutes",
	"policy.cancel_cutoff": "cancel_cutoff_minutes",
	"policy.arrival_early": "arrival_early_minutes",
	"policy.arrival_late":  "arrival_late_minutes",
}

// renamePolicyField rewrites the field of a policy validation error into the
// API's spelling, with prefix before it.
func renamePolicyField(err error, prefix string) error {
	names := make(map[string]string, len(policyFields))
	for from, to := range policyFields {
		names[from] = prefix + to
	}
	return renameField(err, names)
}

// renameField rewrites the field of an *errs.Error named in names (domain
// spelling to API spelling), keeping the rest of the error.
func renameField(err error, names map[string]string) error {
	e, ok := errs.As(err)
	if !ok {
		return err
	}
	name, ok := names[e.Field]
	if !ok {
		return err
	}
	c := *e
	c.Field, c.Err = name, e
	return &c
}

// practiceJSON is a tenant.Practice with its policy in minutes.
type practiceJSON struct {
	ID        tenant.PracticeID `json:"id"`
	GroupID   tenant.GroupID    `json:"group_id"`
	Name      string            `json:"name"`
	Policy    policyJSON        `json:"policy"`
	CreatedAt time.Time         `json:"created_at"`
}

func practiceOut(p *tenant.Practice) practiceJSON {
	return practiceJSON{ID: p.ID, GroupID: p.GroupID, Name: p.Name, Policy: policyOut(p.Policy), CreatedAt: p.CreatedAt}
}

type groupRequest struct {
	Name string `json:"name"`
}

type practiceRequest struct {
	GroupID string      `json:"group_id"`
	Name    string      `json:"name"`
	Policy  *policyJSON `json:"policy"`
}

type locationRequest struct {
	Name     string          `json:"name"`
	TimeZone string          `json:"time_zone"`
	Address  tenant.Address  `json:"address"`
	Geo      tenant.GeoPoint `json:"geo"`
}

type providerRequest struct {
	NPI         string   `json:"npi"`
	GivenName   string   `json:"given_name"`
	FamilyName  string   `json:"family_name"`
	Specialties []string `json:"specialties"`
	LocationIDs []string `json:"location_ids"`
}

type resourceRequest struct {
	LocationID string `json:"location_id"`
	Name       string `json:"name"`
	Kind       string `json:"kind"`
}

type patientRequest struct {
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	BirthDate  string `json:"birth_date"`
	Phone      string `json:"phone"`
	Email      string `json:"email"`
	Language   string `json:"language"`
}

func (p patientRequest) input() scheduling.PatientInput {
	return scheduling.PatientInput{GivenName: p.GivenName, FamilyName: p.FamilyName, BirthDate: p.BirthDate,
		Phone: p.Phone, Email: p.Email, Language: p.Language}
}

type visitTypeRequest struct {
	Name                string   `json:"name"`
	DurationMinutes     int64    `json:"duration_minutes"`
	BufferBeforeMinutes int64    `json:"buffer_before_minutes"`
	BufferAfterMinutes  int64    `json:"buffer_after_minutes"`
	StepMinutes         int64    `json:"step_minutes"`
	ResourceIDs         []string `json:"resource_ids"`
	Audience            string   `json:"audience"`
	PriceMinor          int64    `json:"price_minor"`
	Currency            string   `json:"currency"`
}

func (v visitTypeRequest) input() (scheduling.NewVisitType, error) {
	out := scheduling.NewVisitType{Name: v.Name, Audience: scheduling.Audience(v.Audience), PriceMinor: v.PriceMinor, Currency: v.Currency}
	var err error
	if out.Duration, err = refserver.Minutes("duration_minutes", v.DurationMinutes); err != nil {
		return out, err
	}
	if out.BufferBefore, err = refserver.Minutes("buffer_before_minutes", v.BufferBeforeMinutes); err != nil {
		return out, err
	}
	if out.BufferAfter, err = refserver.Minutes("buffer_after_minutes", v.BufferAfterMinutes); err != nil {
		return out, err
	}
	if out.Step, err = refserver.Minutes("step_minutes", v.StepMinutes); err != nil {
		return out, err
	}
	out.ResourceIDs, err = refserver.ParseIDs("resource_ids", v.ResourceIDs)
	return out, err
}

// visitTypeJSON is a scheduling.VisitType with its durations in minutes.
type visitTypeJSON struct {
	*scheduling.VisitType
	DurationMinutes     int64 `json:"duration_minutes"`
	BufferBeforeMinutes int64 `json:"buffer_before_minutes"`
	BufferAfterMinutes  int64 `json:"buffer_after_minutes"`
	StepMinutes         int64 `json:"step_minutes"`
}

func visitTypeOut(v *scheduling.VisitType) visitTypeJSON {
	return visitTypeJSON{VisitType: v,
		DurationMinutes:     int64(v.Duration / time.Minute),
		BufferBeforeMinutes: int64(v.BufferBefore / time.Minute),
		BufferAfterMinutes:  int64(v.BufferAfter / time.Minute),
		StepMinutes:         int64(v.Step / time.Minute),
	}
}

// blockRequest is the body of creating (with provider_id) or changing
// (without) a block.
type blockRequest struct {
	ProviderID string                `json:"provider_id,omitempty"`
	LocationID string                `json:"location_id"`
	Start      string                `json:"start"`
	End        string                `json:"end"`
	RRule      string                `json:"rrule"`
	ExDates    []string              `json:"exdates"`
	Overrides  []scheduling.Override `json:"overrides"`
	Capacity   int                   `json:"capacity"`
}

func (b blockRequest) input() (scheduling.BlockInput, error) {
	out := scheduling.BlockInput{RRule: b.RRule, ExDates: b.ExDates, Overrides: b.Overrides, Capacity: b.Capacity}
	var err error
	if out.LocationID, err = refserver.ParseID("location_id", b.LocationID); err != nil {
		return out, err
	}
	if out.Start, err = refserver.ParseTime("start", b.Start); err != nil {
		return out, err
	}
	if out.End, err = refserver.ParseTime("end", b.End); err != nil {
		return out, err
	}
	return out, nil
}

type moveRequest struct {
	ToBlockID string `json:"to_block_id"`
	Reason    string `json:"reason"`
}

// bookRequest is the body of a booking.
type bookRequest struct {
	PatientID   string  `json:"patient_id"`
	ProviderID  string  `json:"provider_id"`
	VisitTypeID string  `json:"visit_type_id"`
	Start       string  `json:"start"`
	LocationID  *string `json:"location_id,omitempty"`
	// AllowPatientOverlap books even if the patient has another visit then
	// (staff only).
	AllowPatientOverlap bool `json:"allow_patient_overlap,omitempty"`
}

// input converts the body into the domain's request, naming the field of a
// malformed ID or time.
func (b bookRequest) input() (scheduling.BookRequest, error) {
	var (
		out = scheduling.BookRequest{AllowPatientOverlap: b.AllowPatientOverlap}
		err error
	)
	if out.PatientID, err = refserver.ParseID("patient_id", b.PatientID); err != nil {
		return out, err
	}
	if out.ProviderID, err = refserver.ParseID("provider_id", b.ProviderID); err != nil {
		return out, err
	}
	if out.VisitTypeID, err = refserver.ParseID("visit_type_id", b.VisitTypeID); err != nil {
		return out, err
	}
	if b.Start == "" {
		return out, errs.Invalid("refserver.book", "start", "is required")
	}
	if out.Start, err = refserver.ParseTime("start", b.Start); err != nil {
		return out, err
	}
	if b.LocationID != nil {
		if out.LocationID, err = refserver.OptID("location_id", *b.LocationID); err != nil {
			return out, err
		}
	}
	return out, nil
}

// bookRequestOf renders a domain booking request as the API's body; it is
// the inverse of bookRequest.input.
func bookRequestOf(in scheduling.BookRequest) bookRequest {
	b := bookRequest{PatientID: in.PatientID.String(), ProviderID: in.ProviderID.String(),
		VisitTypeID: in.VisitTypeID.String(), Start: in.Start.Format(time.RFC3339Nano), AllowPatientOverlap: in.AllowPatientOverlap}
	if in.LocationID != nil {
		s := in.LocationID.String()
		b.LocationID = &s
	}
	return b
}

type rescheduleRequest struct {
	Start      string `json:"start"`
	ProviderID string `json:"provider_id"`
	LocationID string `json:"location_id"`
	Reason     string `json:"reason"`
	// AllowPatientOverlap moves even if the patient has another visit at
	// the new time (staff only).
	AllowPatientOverlap bool `json:"allow_patient_overlap"`
}

func (b rescheduleRequest) input() (scheduling.RescheduleRequest, error) {
	out := scheduling.RescheduleRequest{Reason: b.Reason, AllowPatientOverlap: b.AllowPatientOverlap}
	var err error
	if b.Start == "" {
		return out, errs.Invalid("refserver.reschedule", "start", "is required")
	}
	if out.Start, err = refserver.ParseTime("start", b.Start); err != nil {
		return out, err
	}
	if out.ProviderID, err = refserver.OptID("provider_id", b.ProviderID); err != nil {
		return out, err
	}
	if out.LocationID, err = refserver.OptID("location_id", b.LocationID); err != nil {
		return out, err
	}
	return out, nil
}

type statusRequest struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// list is the body of every list answer; NextAfter, when set, is the cursor
// for the next page (pass it as after=).
type list[T any] struct {
	Items     []T        `json:"items"`
	NextAfter *uuid.UUID `json:"next_after,omitempty"`
}

// page lists one page of items; a full page names its last ID as the
// cursor for the next.
func page[T any](items []T, limit int, id func(T) uuid.UUID) list[T] {
	out := listOf(items)
	if len(items) == limit && limit > 0 {
		last := id(items[len(items)-1])
		out.NextAfter = &last
	}
	return out
}

func listOf[T any](items []T) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items}
}
