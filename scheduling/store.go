package scheduling

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// ProviderFilter narrows ListProviders. Zero fields do not filter.
type ProviderFilter struct {
	IDs        []ProviderID
	LocationID *tenant.LocationID // works at this location
	Specialty  string             // has this specialty
	After      *ProviderID        // keyset cursor: IDs greater than this
	Limit      int                // 0: no limit
}

// PatientFilter narrows ListPatients. Zero fields do not filter.
//
// A store may keep patients' names and contact details sealed (sqlstore
// does): it then finds them through blind indexes and filters what the
// indexes let through after opening the candidates, so every filter means
// exactly what it says here.
type PatientFilter struct {
	IDs  []PatientID
	Name string // case-insensitive prefix of the given or family name
	// FamilyName and BirthDate match exactly (the family name
	// case-insensitively): the registry's identity match.
	FamilyName string
	BirthDate  string // YYYY-MM-DD
	Phone      string // exact E.164
	Email      string // exact, lower-case
	After      *PatientID
	Limit      int
}

// Matches reports whether p passes f, as ListPatients applies it (After
// and Limit aside, which page rather than filter).
func (f PatientFilter) Matches(p *Patient) bool {
	if len(f.IDs) > 0 && !slices.Contains(f.IDs, p.ID) {
		return false
	}
	if f.Name != "" {
		name := nameKey(f.Name)
		if !strings.HasPrefix(nameKey(p.GivenName), name) && !strings.HasPrefix(nameKey(p.FamilyName), name) {
			return false
		}
	}
	if f.FamilyName != "" && nameKey(f.FamilyName) != nameKey(p.FamilyName) {
		return false
	}
	return (f.BirthDate == "" || f.BirthDate == p.BirthDate) && (f.Phone == "" || f.Phone == p.Phone) &&
		(f.Email == "" || f.Email == p.Email)
}

// nameKey is a name as the name filters compare it: trimmed, in Unicode
// lower case.
func nameKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// BlockFilter narrows ListBlocks. Zero fields do not filter.
type BlockFilter struct {
	ProviderIDs []ProviderID
	LocationID  *tenant.LocationID
	// From and To, when set, keep blocks whose span [Start, SpanEnd) may
	// overlap [From, To): Start < To and (SpanEnd is nil or SpanEnd > From).
	From, To time.Time
}

// AppointmentFilter narrows ListAppointments. Zero fields do not filter.
type AppointmentFilter struct {
	IDs         []AppointmentID
	ProviderIDs []ProviderID
	LocationID  *tenant.LocationID
	ResourceID  *ResourceID // holds this resource
	PatientID   *PatientID
	BlockID     *BlockID
	Status      []Status
	// From and To, when set, keep appointments whose visit [Start, End)
	// overlaps [From, To).
	From, To time.Time
	// ByCreated orders by creation time, oldest first; otherwise by Start.
	// Ties are broken by ID.
	ByCreated bool
	Limit     int
}

// ErrPatientBusy is in the chain of the KindConflict error that
// InsertAppointment and UpdateAppointment return when the appointment's
// visit overlaps another visit of the same patient (see Store). Test for it
// with errors.Is.
var ErrPatientBusy = errors.New("the patient has another visit at that time")

// Store keeps providers, resources, patients, visit types, blocks and
// appointments. It is the one interface a storage adapter implements for
// scheduling; scheduling/schedtest checks every implementation.
//
// The contract every implementation keeps:
//   - It is safe for concurrent use, also by several processes on one database.
//   - Every method is scoped by the practice: a record of another practice is
//     never returned, changed or deleted, and reads as not found.
//   - Get, Update and Delete methods return an *errs.Error of KindNotFound for
//     unknown IDs. Create and Insert methods store the value as given (IDs and
//     timestamps are set by the Service) and return KindConflict on a duplicate
//     unique key (a provider's NPI within a practice).
//   - Slices come back non-nil (empty when none) and in the documented order.
//   - Times come back in UTC with at least microsecond precision.
type Store interface {
	// InTx runs fn in one transaction, carried in the context fn receives:
	// every method called with that context runs in the transaction, which
	// commits if fn returns nil and rolls back otherwise. Called with a
	// context that already carries a transaction, it runs fn in that one.
	// An adapter serving several domains over one database shares its
	// transactions between them: the change of one domain and another's
	// writes made with the same context commit together.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// HasTx reports whether ctx carries a transaction of this Store: what
	// is read with it may not be committed, so the Service's cache neither
	// serves nor keeps such reads.
	HasTx(ctx context.Context) bool
	// Lock takes exclusive locks on keys (provider, resource and patient IDs) that are
	// held until the transaction ends, so that concurrent bookings of the same
	// provider or resource run one after the other, across processes. It must
	// be called inside InTx; keys are locked in the order given, and callers
	// sort them to avoid deadlocks.
	Lock(ctx context.Context, keys ...uuid.UUID) error

	CreateProvider(ctx context.Context, p *Provider) error
	GetProvider(ctx context.Context, practice tenant.PracticeID, id ProviderID) (*Provider, error)
	// ListProviders returns providers by family name, given name, then ID.
	ListProviders(ctx context.Context, practice tenant.PracticeID, f ProviderFilter) ([]*Provider, error)

	CreateResource(ctx context.Context, r *Resource) error
	GetResource(ctx context.Context, practice tenant.PracticeID, id ResourceID) (*Resource, error)
	// ListResources returns the resources of a practice (at one location when
	// location is not nil) by name, then ID.
	ListResources(ctx context.Context, practice tenant.PracticeID, location *tenant.LocationID) ([]*Resource, error)

	CreatePatient(ctx context.Context, p *Patient) error
	GetPatient(ctx context.Context, practice tenant.PracticeID, id PatientID) (*Patient, error)
	// UpdatePatient replaces every field of the stored patient but ID,
	// PracticeID and CreatedAt.
	UpdatePatient(ctx context.Context, p *Patient) error
	// ListPatients returns patients in ID order: After (an ID) and Limit
	// page through them.
	ListPatients(ctx context.Context, practice tenant.PracticeID, f PatientFilter) ([]*Patient, error)

	CreateVisitType(ctx context.Context, v *VisitType) error
	GetVisitType(ctx context.Context, practice tenant.PracticeID, id VisitTypeID) (*VisitType, error)
	// ListVisitTypes returns visit types by name, then ID.
	ListVisitTypes(ctx context.Context, practice tenant.PracticeID) ([]*VisitType, error)

	CreateBlock(ctx context.Context, b *Block) error
	GetBlock(ctx context.Context, practice tenant.PracticeID, id BlockID) (*Block, error)
	// UpdateBlock replaces every field of the stored block but ID, PracticeID,
	// ProviderID and CreatedAt.
	UpdateBlock(ctx context.Context, b *Block) error
	DeleteBlock(ctx context.Context, practice tenant.PracticeID, id BlockID) error
	// ListBlocks returns blocks by Start, then ID.
	ListBlocks(ctx context.Context, practice tenant.PracticeID, f BlockFilter) ([]*Block, error)

	// InsertAppointment stores a new appointment with its resources, at once
	// (atomic even outside InTx). When its status holds time, it returns
	// KindConflict if its hold overlaps the hold of another active
	// appointment of the same provider in the same seat or in another block,
	// or of one of its resources in another block (the appointments of one
	// block, such as the seats of a group visit, share its resources). This
	// rule is the last line against double booking: it holds between
	// concurrent writers in any number of processes (on PostgreSQL, by
	// exclusion constraints). With the same strength it returns KindConflict
	// wrapping ErrPatientBusy when the visit itself, [Start, End), overlaps
	// the visit of another active appointment of the same patient, unless one
	// of the two has AllowPatientOverlap (the seats of a group visit are no
	// exception, buffers do not count). Concurrent writers of one patient are
	// serialized like those of one provider, so that they never deadlock. It
	// returns KindNotFound when the provider, patient or visit type is not
	// the practice's. The history entries given are appended with it, all or
	// nothing.
	InsertAppointment(ctx context.Context, a *Appointment, history ...*Change) error
	// UpdateAppointment writes the provider, location, block, times, seat,
	// status, resources, AllowPatientOverlap and UpdatedAt of a stored
	// appointment, under the same conflict rules as InsertAppointment, and
	// appends the history entries given, all or nothing.
	UpdateAppointment(ctx context.Context, a *Appointment, history ...*Change) error
	GetAppointment(ctx context.Context, practice tenant.PracticeID, id AppointmentID) (*Appointment, error)
	ListAppointments(ctx context.Context, practice tenant.PracticeID, f AppointmentFilter) ([]*Appointment, error)

	// AppendChange adds an entry to an appointment's history.
	AppendChange(ctx context.Context, c *Change) error
	// ListChanges returns an appointment's history, oldest first.
	ListChanges(ctx context.Context, practice tenant.PracticeID, id AppointmentID) ([]*Change, error)

	// Holds returns the holds of active appointments that overlap [from, to):
	// one per appointment of the given providers (OwnerID is the provider), and
	// one per appointment and resource for the given resources (OwnerID is the
	// resource, BlockID the appointment's block, Seat 0), each list ordered by
	// Start.
	Holds(ctx context.Context, practice tenant.PracticeID, providers []ProviderID, resources []ResourceID, from, to time.Time) (Holds, error)
	// SlotInputs returns, in one call, what an open-slot search needs: the
	// blocks of the providers that may overlap [from, to) (as ListBlocks) and
	// the holds of those providers and resources (as Holds).
	SlotInputs(ctx context.Context, practice tenant.PracticeID, providers []ProviderID, resources []ResourceID, from, to time.Time) ([]*Block, Holds, error)
	// BookingInputs returns, in one call, what placing a booking needs: the
	// SlotInputs of one provider and its resources over [from, to), and the
	// FinishedVisits of one patient in [visitsFrom, from). It returns
	// KindNotFound when the patient is not the practice's, in the same call.
	BookingInputs(ctx context.Context, practice tenant.PracticeID, provider ProviderID, resources []ResourceID, patient PatientID, from, to, visitsFrom time.Time) ([]*Block, Holds, []FinishedVisit, error)
	// FinishedVisits returns the visits with status out of the given patients
	// whose Start is in [from, to), each with its provider's specialties.
	FinishedVisits(ctx context.Context, practice tenant.PracticeID, patients []PatientID, from, to time.Time) ([]FinishedVisit, error)
}
