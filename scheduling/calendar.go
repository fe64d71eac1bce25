package scheduling

import (
	"context"
	"slices"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// EstablishedWindow is how far back a finished visit makes a patient
// established: three years, as CMS counts it.
const establishedYears = 3

// PatientKindOf tells whether a patient is new or established for a visit at
// time at with a provider of the given specialties: established when one of
// the patient's finished visits (status out) in the three years before at was
// with a provider sharing a specialty (or with the same provider).
func PatientKindOf(provider ProviderID, specialties []string, visits []FinishedVisit, patient PatientID, at time.Time) PatientKind {
	since := at.AddDate(-establishedYears, 0, 0)
	for _, v := range visits {
		if v.PatientID != patient || !v.Start.Before(at) || v.Start.Before(since) {
			continue
		}
		if v.ProviderID == provider {
			return EstablishedPatient
		}
		for _, sp := range v.Specialties {
			if slices.Contains(specialties, sp) {
				return EstablishedPatient
			}
		}
	}
	return NewPatient
}

// patientKindOne tells the kind of one patient for a visit with prov at at,
// in one query.
func (s *Service) patientKindOne(ctx context.Context, practice tenant.PracticeID, prov *Provider, patient PatientID, at time.Time) (PatientKind, error) {
	visits, err := s.store.FinishedVisits(ctx, practice, []PatientID{patient}, at.AddDate(-establishedYears, 0, 0), at)
	if err != nil {
		return "", err
	}
	return PatientKindOf(prov.ID, prov.Specialties, visits, patient, at), nil
}

// setPatientKinds fills PatientKind of each appointment with at most two
// queries, whatever their number.
func (s *Service) setPatientKinds(ctx context.Context, practice tenant.PracticeID, appts []*Appointment) error {
	if len(appts) == 0 {
		return nil
	}
	var patients []PatientID
	lo, hi := appts[0].Start, appts[0].Start
	for _, a := range appts {
		patients = append(patients, a.PatientID)
		if a.Start.Before(lo) {
			lo = a.Start
		}
		if a.Start.After(hi) {
			hi = a.Start
		}
	}
	visits, err := s.store.FinishedVisits(ctx, practice, sortedKeys(patients...), lo.AddDate(-establishedYears, 0, 0), hi)
	if err != nil {
		return err
	}
	if len(visits) == 0 {
		for _, a := range appts {
			a.PatientKind = NewPatient
		}
		return nil
	}
	provIDs := make([]uuid.UUID, 0, len(appts))
	for _, a := range appts {
		provIDs = append(provIDs, a.ProviderID)
	}
	provs, err := s.store.ListProviders(ctx, practice, ProviderFilter{IDs: sortedKeys(provIDs...)})
	if err != nil {
		return err
	}
	specs := make(map[ProviderID][]string, len(provs))
	for _, p := range provs {
		specs[p.ID] = p.Specialties
	}
	for _, a := range appts {
		a.PatientKind = PatientKindOf(a.ProviderID, specs[a.ProviderID], visits, a.PatientID, a.Start)
	}
	return nil
}

// Appointment returns one appointment, with its patient kind.
func (s *Service) Appointment(ctx context.Context, practice tenant.PracticeID, id AppointmentID) (*Appointment, error) {
	a, err := s.store.GetAppointment(ctx, practice, id)
	if err != nil {
		return nil, err
	}
	return a, s.setPatientKinds(ctx, practice, []*Appointment{a})
}

// History returns an appointment's changes, oldest first.
func (s *Service) History(ctx context.Context, practice tenant.PracticeID, id AppointmentID) ([]*Change, error) {
	if _, err := s.store.GetAppointment(ctx, practice, id); err != nil {
		return nil, err
	}
	return s.store.ListChanges(ctx, practice, id)
}

// CalendarQuery selects the front desk calendar: a practice's appointments
// over at most 31 days, by location, provider or resource.
type CalendarQuery struct {
	From, To   time.Time
	LocationID *tenant.LocationID
	ProviderID *ProviderID
	ResourceID *ResourceID
	// Status keeps only these statuses; empty means all.
	Status []Status
}

// PatientSummary is what the calendar shows of a patient.
type PatientSummary struct {
	ID         PatientID `json:"id"`
	GivenName  string    `json:"given_name"`
	FamilyName string    `json:"family_name"`
	Phone      string    `json:"phone,omitempty"`
}

// CalendarEntry is one appointment on the calendar.
type CalendarEntry struct {
	Appointment *Appointment   `json:"appointment"`
	Patient     PatientSummary `json:"patient"`
	// NeedsConfirmation flags a new request until the front desk confirms it.
	NeedsConfirmation bool `json:"needs_confirmation"`
}

// maxCalendarSpan bounds one calendar query.
const maxCalendarSpan = 31 * 24 * time.Hour

// Calendar returns the appointments of a practice that overlap [From, To),
// ordered by start, each with its patient, patient kind and resources.
func (s *Service) Calendar(ctx context.Context, practice tenant.PracticeID, q CalendarQuery) ([]CalendarEntry, error) {
	const op = "scheduling.Calendar"
	switch {
	case q.From.IsZero():
		return nil, errs.Invalid(op, "from", "is required")
	case !q.To.After(q.From):
		return nil, errs.Invalid(op, "to", "must be after from")
	case q.To.Sub(q.From) > maxCalendarSpan:
		return nil, errs.Invalid(op, "to", "a calendar spans at most 31 days")
	}
	for _, st := range q.Status {
		if !st.Valid() {
			return nil, errs.Invalid(op, "status", "unknown status \""+string(st)+"\"")
		}
	}
	f := AppointmentFilter{From: q.From.UTC(), To: q.To.UTC(), LocationID: q.LocationID, ResourceID: q.ResourceID, Status: q.Status}
	if q.ProviderID != nil {
		f.ProviderIDs = []ProviderID{*q.ProviderID}
	}
	appts, err := s.store.ListAppointments(ctx, practice, f)
	if err != nil {
		return nil, err
	}
	return s.entries(ctx, practice, appts)
}

// Requests returns the practice's new requests, oldest first, for the front
// desk to confirm or decline. limit 0 means 100.
func (s *Service) Requests(ctx context.Context, practice tenant.PracticeID, limit int) ([]CalendarEntry, error) {
	const op = "scheduling.Requests"
	if limit < 0 || limit > 1000 {
		return nil, errs.Invalid(op, "limit", "must be between 1 and 1000")
	}
	if limit == 0 {
		limit = 100
	}
	appts, err := s.store.ListAppointments(ctx, practice, AppointmentFilter{Status: []Status{StatusNew}, ByCreated: true, Limit: limit})
	if err != nil {
		return nil, err
	}
	return s.entries(ctx, practice, appts)
}

// CountRequests counts the practice's new requests, up to limit (1 to
// 1000): the count of the front desk's badge, read without the patients.
func (s *Service) CountRequests(ctx context.Context, practice tenant.PracticeID, limit int) (int, error) {
	if limit < 1 || limit > 1000 {
		return 0, errs.Invalid("scheduling.CountRequests", "limit", "must be between 1 and 1000")
	}
	appts, err := s.store.ListAppointments(ctx, practice, AppointmentFilter{Status: []Status{StatusNew}, Limit: limit})
	return len(appts), err
}

func (s *Service) entries(ctx context.Context, practice tenant.PracticeID, appts []*Appointment) ([]CalendarEntry, error) {
	if err := s.setPatientKinds(ctx, practice, appts); err != nil {
		return nil, err
	}
	ids := make([]PatientID, len(appts))
	for i, a := range appts {
		ids[i] = a.PatientID
	}
	pats, err := s.store.ListPatients(ctx, practice, PatientFilter{IDs: sortedKeys(ids...)})
	if err != nil {
		return nil, err
	}
	byID := make(map[PatientID]*Patient, len(pats))
	for _, p := range pats {
		byID[p.ID] = p
	}
	out := make([]CalendarEntry, len(appts))
	for i, a := range appts {
		e := CalendarEntry{Appointment: a, NeedsConfirmation: a.Status == StatusNew}
		if p := byID[a.PatientID]; p != nil {
			e.Patient = PatientSummary{ID: p.ID, GivenName: p.GivenName, FamilyName: p.FamilyName, Phone: p.Phone}
		}
		out[i] = e
	}
	return out, nil
}

// SlotQuery asks for open slots.
type SlotQuery struct {
	// ProviderIDs are the providers to search; empty means every provider of
	// the practice (at Location, when set), at most 200.
	ProviderIDs []ProviderID
	VisitTypeID VisitTypeID
	LocationID  *tenant.LocationID
	From, To    time.Time // at most 62 days apart
}

// maxSlotSpan bounds one slot search.
const maxSlotSpan = 62 * 24 * time.Hour

// OpenSlots returns the bookable start times for a visit type: the providers'
// blocks minus active appointments, buffers, busy resources, and (unless a
// staff member asks) the practice's minimum notice and maximum advance.
// Blocks and appointments are read fresh; the policy and the visit type may
// come from the cache (see WithCache).
func (s *Service) OpenSlots(ctx context.Context, practice tenant.PracticeID, q SlotQuery) ([]Slot, error) {
	const op = "scheduling.OpenSlots"
	switch {
	case q.VisitTypeID == uuid.Nil:
		return nil, errs.Invalid(op, "visit_type_id", "is required")
	case q.From.IsZero():
		return nil, errs.Invalid(op, "from", "is required")
	case !q.To.After(q.From):
		return nil, errs.Invalid(op, "to", "must be after from")
	case q.To.Sub(q.From) > maxSlotSpan:
		return nil, errs.Invalid(op, "to", "a search spans at most 62 days")
	case len(q.ProviderIDs) > 200:
		return nil, errs.Invalid(op, "provider_ids", "at most 200 providers")
	}
	pol, vt, err := s.policyAndVisitType(ctx, practice, q.VisitTypeID)
	if err != nil {
		return nil, err
	}
	provs := sortedKeys(q.ProviderIDs...)
	if len(provs) == 0 {
		all, err := s.store.ListProviders(ctx, practice, ProviderFilter{LocationID: q.LocationID, Limit: 200})
		if err != nil {
			return nil, err
		}
		for _, p := range all {
			provs = append(provs, p.ID)
		}
	}
	from, to := q.From.UTC(), q.To.UTC()
	blocks, holds, err := s.store.SlotInputs(ctx, practice, provs, vt.ResourceIDs,
		from.Add(-vt.BufferBefore), to.Add(vt.Duration+vt.BufferAfter))
	if err != nil {
		return nil, err
	}
	in := SlotInput{ProviderHolds: holds.Provider, ResourceHolds: holds.Resource, Visit: vt,
		From: from, To: to, Location: q.LocationID}
	now := s.now()
	in.Earliest = now
	if a, ok := actor.From(ctx); !ok || a.Kind == actor.Patient {
		in.Earliest = now.Add(pol.MinNotice)
		if pol.MaxAdvance > 0 {
			in.Latest = now.Add(pol.MaxAdvance)
		}
	}
	if len(vt.ResourceIDs) > 0 {
		if in.ResourceLocation, err = s.resourceLocations(ctx, practice, vt.ResourceIDs); err != nil {
			return nil, err
		}
	}
	for _, b := range blocks {
		occs, err := Expand(b, from, to.Add(vt.Duration))
		if err != nil {
			return nil, err
		}
		in.Occurrences = append(in.Occurrences, occs...)
	}
	return nonNil(OpenSlots(in)), nil
}
