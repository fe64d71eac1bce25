package scheduling

import (
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// IDs of scheduling records. All are UUIDv7.
type (
	ProviderID    = uuid.UUID
	ResourceID    = uuid.UUID
	PatientID     = uuid.UUID
	VisitTypeID   = uuid.UUID
	BlockID       = uuid.UUID
	AppointmentID = uuid.UUID
)

// Provider is a doctor or other clinician who sees patients.
type Provider struct {
	ID          ProviderID          `json:"id"`
	PracticeID  tenant.PracticeID   `json:"practice_id"`
	NPI         string              `json:"npi"` // 10 digits, check digit verified
	GivenName   string              `json:"given_name"`
	FamilyName  string              `json:"family_name"`
	Specialties []string            `json:"specialties"`  // lower-case codes, such as "cardiology"
	LocationIDs []tenant.LocationID `json:"location_ids"` // where the provider works
	CreatedAt   time.Time           `json:"created_at"`
}

// ResourceKind says what a resource is.
type ResourceKind string

// The kinds of resource.
const (
	Room      ResourceKind = "room"
	Equipment ResourceKind = "equipment"
)

// Resource is a room or a piece of equipment at one location, booked together
// with the visits that need it.
type Resource struct {
	ID         ResourceID        `json:"id"`
	PracticeID tenant.PracticeID `json:"practice_id"`
	LocationID tenant.LocationID `json:"location_id"`
	Name       string            `json:"name"`
	Kind       ResourceKind      `json:"kind"`
	CreatedAt  time.Time         `json:"created_at"`
}

// Patient is a patient in a practice's registry. The EHR extends it.
type Patient struct {
	ID         PatientID         `json:"id"`
	PracticeID tenant.PracticeID `json:"practice_id"`
	GivenName  string            `json:"given_name"`
	FamilyName string            `json:"family_name"`
	BirthDate  string            `json:"birth_date"`         // YYYY-MM-DD
	Phone      string            `json:"phone,omitempty"`    // E.164, such as +12025550143
	Email      string            `json:"email,omitempty"`    // lower-cased
	Language   string            `json:"language,omitempty"` // BCP 47, such as "en" or "es-MX"
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// Audience says which patients a visit type is for.
type Audience string

// The audiences of a visit type.
const (
	AnyPatient      Audience = "any"
	NewOnly         Audience = "new"
	EstablishedOnly Audience = "established"
)

// VisitType is a kind of visit: how long it takes, the buffers around it, the
// resources it needs and whom it is for.
type VisitType struct {
	ID           VisitTypeID       `json:"id"`
	PracticeID   tenant.PracticeID `json:"practice_id"`
	Name         string            `json:"name"`
	Duration     time.Duration     `json:"-"`
	BufferBefore time.Duration     `json:"-"`
	BufferAfter  time.Duration     `json:"-"`
	// Step is the spacing of offered start times; 0 means Duration.
	Step        time.Duration `json:"-"`
	ResourceIDs []ResourceID  `json:"resource_ids"` // all of them are held by each visit
	Audience    Audience      `json:"audience"`
	// PriceMinor and Currency are the list price, for billing: integer minor units
	// and an ISO 4217 code. Zero and "" mean no price.
	PriceMinor int64     `json:"price_minor"`
	Currency   string    `json:"currency,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Override changes one day of a recurring block: on Date (local), the
// occurrence runs from Start to End (local "15:04") instead, or is added if the
// rule has none that day.
type Override struct {
	Date  string `json:"date"`  // YYYY-MM-DD
	Start string `json:"start"` // HH:MM
	End   string `json:"end"`   // HH:MM
}

// Block is published availability: a provider at a location for a time range,
// once or recurring. Recurrence repeats the local wall-clock times of the first
// occurrence in TimeZone, so a 09:00 block stays at 09:00 across DST changes.
type Block struct {
	ID         BlockID           `json:"id"`
	PracticeID tenant.PracticeID `json:"practice_id"`
	ProviderID ProviderID        `json:"provider_id"`
	LocationID tenant.LocationID `json:"location_id"`
	TimeZone   string            `json:"time_zone"` // the location's, copied when the block is written
	// Start and End give the times of day (in TimeZone) and the earliest
	// date. A one-off block is exactly [Start, End); a recurring block has an
	// occurrence on each date its rule yields from Start on, at Start's and
	// End's local times. An occurrence that a DST gap would turn inside out
	// is skipped that day.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// RRule is an RFC 5545 RRULE value without DTSTART (such as
	// "FREQ=WEEKLY;BYDAY=MO,WE"), or "" for a one-off block.
	RRule     string     `json:"rrule,omitempty"`
	ExDates   []string   `json:"exdates,omitempty"` // local dates (YYYY-MM-DD) without an occurrence
	Overrides []Override `json:"overrides,omitempty"`
	Capacity  int        `json:"capacity"` // seats; 1 unless a group visit
	// SpanEnd is the end of the last occurrence, or nil when the rule never ends.
	// It is derived by the Service and lets stores skip blocks by time.
	SpanEnd   *time.Time `json:"span_end,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Occurrence is one concrete interval of a block.
type Occurrence struct {
	BlockID    BlockID           `json:"block_id"`
	ProviderID ProviderID        `json:"provider_id"`
	LocationID tenant.LocationID `json:"location_id"`
	Start      time.Time         `json:"start"`
	End        time.Time         `json:"end"`
	Capacity   int               `json:"capacity"`
}

// Status is where an appointment stands.
type Status string

// The statuses of an appointment.
const (
	StatusNew       Status = "new"       // requested, waiting for the front desk
	StatusConfirmed Status = "confirmed" // confirmed by the practice
	StatusArrived   Status = "arrived"   // the patient is in
	StatusOut       Status = "out"       // the visit is over
	StatusCanceled  Status = "canceled"  // canceled by either side
	StatusNoVisit   Status = "no-visit"  // the patient did not come
)

// Holds reports whether an appointment in status s holds its time, its seat
// and its resources. Canceled and no-visit appointments free them.
func (s Status) Holds() bool {
	switch s {
	case StatusNew, StatusConfirmed, StatusArrived, StatusOut:
		return true
	}
	return false
}

// Valid reports whether s is one of the six statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusNew, StatusConfirmed, StatusArrived, StatusOut, StatusCanceled, StatusNoVisit:
		return true
	}
	return false
}

// ActiveStatuses are the statuses that hold time; stores use them in queries
// and constraints.
var ActiveStatuses = []Status{StatusNew, StatusConfirmed, StatusArrived, StatusOut}

// PatientKind tells new patients from established ones.
type PatientKind string

// The kinds of patient.
const (
	NewPatient         PatientKind = "new"
	EstablishedPatient PatientKind = "established"
)

// Appointment is a booked visit.
type Appointment struct {
	ID          AppointmentID     `json:"id"`
	PracticeID  tenant.PracticeID `json:"practice_id"`
	ProviderID  ProviderID        `json:"provider_id"`
	LocationID  tenant.LocationID `json:"location_id"`
	BlockID     BlockID           `json:"block_id"`
	VisitTypeID VisitTypeID       `json:"visit_type_id"`
	PatientID   PatientID         `json:"patient_id"`
	// Start and End bound the visit itself.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// HoldStart and HoldEnd add the visit type's buffers: the time the provider,
	// the seat and the resources are held.
	HoldStart   time.Time    `json:"hold_start"`
	HoldEnd     time.Time    `json:"hold_end"`
	Seat        int          `json:"seat"` // 1..block capacity
	Status      Status       `json:"status"`
	ResourceIDs []ResourceID `json:"resource_ids"`
	BookedBy    string       `json:"booked_by"` // actor, "kind:id"
	// AllowPatientOverlap exempts the appointment from the rule that a
	// patient is in one visit at a time: staff set it on purpose (a joint
	// visit of two providers, say), it is recorded in the history, and an
	// appointment that has it neither blocks nor is blocked by the patient's
	// other appointments. The provider's and resources' rules still hold.
	AllowPatientOverlap bool `json:"allow_patient_overlap,omitempty"`
	// PatientKind is computed when read by the Service, never stored.
	PatientKind PatientKind `json:"patient_kind,omitempty"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// Change is one entry of an appointment's history.
type Change struct {
	ID            uuid.UUID         `json:"id"`
	PracticeID    tenant.PracticeID `json:"practice_id"`
	AppointmentID AppointmentID     `json:"appointment_id"`
	Action        string            `json:"action"` // book, confirm, reschedule, move, cancel, arrive, out, no-visit, allow-patient-overlap
	From          Status            `json:"from,omitempty"`
	To            Status            `json:"to"`
	By            string            `json:"by"` // actor, "kind:id"
	At            time.Time         `json:"at"`
	Reason        string            `json:"reason,omitempty"`
	// PrevStart is the start before a reschedule or move, else nil.
	PrevStart *time.Time `json:"prev_start,omitempty"`
	// AllowPatientOverlap records that the change was made with the
	// patient's overlap rule waived (see Appointment.AllowPatientOverlap).
	AllowPatientOverlap bool `json:"allow_patient_overlap,omitempty"`
}

// Hold is time held by an active appointment: a provider's seat, or a resource.
type Hold struct {
	AppointmentID AppointmentID `json:"appointment_id"`
	// OwnerID is the provider (in Holds.Provider) or the resource (in Holds.Resource).
	OwnerID uuid.UUID `json:"owner_id"`
	BlockID BlockID   `json:"block_id"`
	Seat    int       `json:"seat"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// Holds are the held intervals found for a set of providers and resources.
type Holds struct {
	Provider []Hold
	Resource []Hold
}

// FinishedVisit is a past visit with status out, used to tell established
// patients from new ones.
type FinishedVisit struct {
	PatientID   PatientID
	ProviderID  ProviderID
	Specialties []string // the provider's
	Start       time.Time
}
