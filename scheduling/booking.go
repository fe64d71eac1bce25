package scheduling

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// BookRequest is the input of Book.
type BookRequest struct {
	PatientID   PatientID
	ProviderID  ProviderID
	VisitTypeID VisitTypeID
	Start       time.Time
	// LocationID, if set, requires the visit to be at that location.
	LocationID *tenant.LocationID
	// AllowPatientOverlap books the visit even if the patient has another
	// at the same time (staff only; see Appointment.AllowPatientOverlap).
	AllowPatientOverlap bool
}

// placement is where a visit fits: a block occurrence and a seat.
type placement struct {
	block *Block
	occ   Occurrence
	seat  int
}

// Book books a visit, without a transaction: one read of the calendar and
// one write that the store refuses if the time was taken meanwhile (the
// policy, visit type and provider may come from the cache, see WithCache).
// A patient's booking must start on an offered slot,
// respect the practice's minimum notice and maximum advance, and becomes a
// new request unless the practice confirms automatically; a staff booking
// may start at any minute inside a block and is confirmed at once.
//
// Errors: KindInvalid for missing or malformed fields and times in the past;
// KindNotFound for IDs unknown to the practice (naming the field, the
// patient's before any rule about the patient); KindForbidden naming
// allow_patient_overlap when a patient asks for it; KindPreconditionFailed
// for a start outside every block, inside the notice, beyond the advance, or
// a visit type not for this patient; KindConflict naming start when the time
// is taken or the patient has another visit then (ErrPatientBusy in its
// chain). Nothing is written on error.
func (s *Service) Book(ctx context.Context, practice tenant.PracticeID, in BookRequest) (*Appointment, error) {
	const op = "scheduling.Book"
	who, err := actorOf(ctx, op)
	if err != nil {
		return nil, err
	}
	switch {
	case in.PatientID == uuid.Nil:
		return nil, errs.Invalid(op, "patient_id", "is required")
	case in.ProviderID == uuid.Nil:
		return nil, errs.Invalid(op, "provider_id", "is required")
	case in.VisitTypeID == uuid.Nil:
		return nil, errs.Invalid(op, "visit_type_id", "is required")
	case in.Start.IsZero():
		return nil, errs.Invalid(op, "start", "is required")
	}
	if err := checkOverlapWaiver(op, who, in.AllowPatientOverlap); err != nil {
		return nil, err
	}
	pol, vt, err := s.policyAndVisitType(ctx, practice, in.VisitTypeID)
	if err != nil {
		return nil, err
	}
	prov, err := s.cachedProvider(ctx, practice, in.ProviderID)
	if err != nil {
		return nil, withField(err, "provider_id")
	}
	start := in.Start.UTC()
	now := s.now()
	if err := checkStart(op, who, pol, now, start); err != nil {
		return nil, err
	}
	// One read: the calendar around the visit and the patient's history (and
	// whether the patient is the practice's, before the audience rule).
	holdStart, holdEnd := start.Add(-vt.BufferBefore), start.Add(vt.Duration+vt.BufferAfter)
	blocks, holds, visits, err := s.store.BookingInputs(ctx, practice, prov.ID, vt.ResourceIDs, in.PatientID,
		holdStart, holdEnd, start.AddDate(-establishedYears, 0, 0))
	if err != nil {
		return nil, withField(err, "patient_id")
	}
	kind := PatientKindOf(prov.ID, prov.Specialties, visits, in.PatientID, start)
	if err := checkAudience(op, vt, kind); err != nil {
		return nil, err
	}
	status := StatusConfirmed
	if who.Kind == actor.Patient && !pol.AutoConfirm {
		status = StatusNew
	}
	a := &Appointment{
		ID: s.ids.New(), PracticeID: practice, ProviderID: prov.ID, VisitTypeID: vt.ID, PatientID: in.PatientID,
		Start: start, End: start.Add(vt.Duration),
		HoldStart: holdStart, HoldEnd: holdEnd,
		Status: status, ResourceIDs: slices.Clone(nonNil(vt.ResourceIDs)), BookedBy: who.String(),
		PatientKind: kind, AllowPatientOverlap: in.AllowPatientOverlap, CreatedAt: now, UpdatedAt: now,
	}
	booked := &Change{ID: s.ids.New(), PracticeID: practice, AppointmentID: a.ID, Action: "book", To: status, By: who.String(), At: now,
		AllowPatientOverlap: in.AllowPatientOverlap}
	if len(s.observers) == 0 {
		return s.insertBooked(ctx, s.store, op, a, booked, vt, blocks, holds, in.LocationID, who.Kind == actor.Patient)
	}
	var out *Appointment
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if out, err = s.insertBooked(ctx, s.store, op, a, booked, vt, blocks, holds, in.LocationID, who.Kind == actor.Patient); err != nil {
			return err
		}
		return s.observe(ctx, out, booked)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// insertBooked places a and writes it with its history through st.
// Optimistic: it places the visit by what the calendar shows (blocks and
// holds, read by the caller), and lets the store's conflict rule (exclusion
// constraints on PostgreSQL) refuse it if a concurrent booking got there
// first. Each refusal means a seat was taken, so after capacity refusals
// the look says the time is full.
func (s *Service) insertBooked(ctx context.Context, st Store, op string, a *Appointment, booked *Change, vt *VisitType,
	blocks []*Block, holds Holds, at *tenant.LocationID, aligned bool) (*Appointment, error) {
	var err error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if blocks, holds, err = st.SlotInputs(ctx, a.PracticeID, []ProviderID{a.ProviderID}, vt.ResourceIDs, a.HoldStart, a.HoldEnd); err != nil {
				return nil, err
			}
		}
		p, err := s.placeIn(ctx, op, blocks, holds, a, vt, at, aligned)
		if err != nil {
			return nil, err
		}
		a.BlockID, a.LocationID, a.Seat = p.block.ID, p.block.LocationID, p.seat
		err = st.InsertAppointment(ctx, a, booked)
		switch {
		case err == nil:
			return a, nil
		case errors.Is(err, ErrPatientBusy):
			// Another seat would not help.
			return nil, conflictOnStart(op, err)
		case errs.Is(err, errs.KindConflict) && attempt < p.block.Capacity:
			continue
		case errs.Is(err, errs.KindNotFound):
			// The provider and visit type were read above: the patient is missing.
			return nil, withField(err, "patient_id")
		}
		return nil, conflictOnStart(op, err)
	}
}

// checkStart applies the time rules of a booking: never in the past, and for
// patients within the policy's notice and advance windows.
func checkStart(op string, who actor.Actor, pol tenant.BookingPolicy, now, start time.Time) error {
	if !start.After(now) {
		return errs.Invalid(op, "start", "is in the past")
	}
	if who.Kind != actor.Patient {
		return nil
	}
	if start.Before(now.Add(pol.MinNotice)) {
		e := errs.E(errs.KindPreconditionFailed, op, "is inside the practice's minimum notice of "+pol.MinNotice.String())
		e.Field = "start"
		return e
	}
	if pol.MaxAdvance > 0 && start.After(now.Add(pol.MaxAdvance)) {
		e := errs.E(errs.KindPreconditionFailed, op, "is beyond how far ahead the practice books ("+pol.MaxAdvance.String()+")")
		e.Field = "start"
		return e
	}
	return nil
}

// place finds the block occurrence and seat for appointment a (its provider,
// visit and hold times set) inside transaction tx, which holds the locks.
// The hold of a itself is ignored, so a stored appointment can be moved.
func (s *Service) place(ctx context.Context, tx Store, op string, a *Appointment, vt *VisitType, at *tenant.LocationID, aligned bool) (placement, error) {
	blocks, holds, err := tx.SlotInputs(ctx, a.PracticeID, []ProviderID{a.ProviderID}, vt.ResourceIDs, a.HoldStart, a.HoldEnd)
	if err != nil {
		return placement{}, err
	}
	return s.placeIn(ctx, op, blocks, holds, a, vt, at, aligned)
}

// placeIn is place on blocks and holds already read.
func (s *Service) placeIn(ctx context.Context, op string, blocks []*Block, holds Holds, a *Appointment, vt *VisitType, at *tenant.LocationID, aligned bool) (placement, error) {
	var found *placement
	for _, b := range blocks {
		if at != nil && b.LocationID != *at {
			continue
		}
		occs, err := Expand(b, a.Start, a.End)
		if err != nil {
			return placement{}, err
		}
		for _, o := range occs {
			if o.Start.After(a.Start) || o.End.Before(a.End) {
				continue
			}
			step := vt.Step
			if step <= 0 {
				step = vt.Duration
			}
			if aligned && a.Start.Sub(o.Start)%step != 0 {
				continue
			}
			found = &placement{block: b, occ: o}
		}
	}
	if found == nil {
		e := errs.E(errs.KindPreconditionFailed, op, "the provider has no availability for this visit at this time")
		e.Field = "start"
		return placement{}, e
	}
	if len(vt.ResourceIDs) > 0 {
		locs, err := s.resourceLocations(ctx, a.PracticeID, vt.ResourceIDs)
		if err != nil {
			return placement{}, err
		}
		if !resourcesAt(vt.ResourceIDs, locs, found.block.LocationID) {
			e := errs.E(errs.KindPreconditionFailed, op, "the visit's resources are at another location")
			e.Field = "visit_type_id"
			return placement{}, e
		}
	}
	found.seat = FirstFreeSeat(holds.Provider, found.block.ID, found.block.Capacity, a.HoldStart, a.HoldEnd, a.ID)
	perResource := make([][]Hold, 0, 1)
	perResource = append(perResource, holds.Resource)
	if found.seat == 0 || !resourcesFree(perResource, found.block.ID, a.HoldStart, a.HoldEnd, a.ID) {
		e := errs.Conflict(op, "this time is already taken")
		e.Field = "start"
		return placement{}, e
	}
	return *found, nil
}

// resourceLocations maps resources to their locations. Resources never
// move, so they come from the cache.
func (s *Service) resourceLocations(ctx context.Context, practice tenant.PracticeID, ids []ResourceID) (map[ResourceID]tenant.LocationID, error) {
	m := make(map[ResourceID]tenant.LocationID, len(ids))
	for _, id := range ids {
		r, err := s.cachedResource(ctx, practice, id)
		if err != nil {
			return nil, err
		}
		m[id] = r.LocationID
	}
	return m, nil
}

// conflictOnStart names the start field on a store conflict: the time is
// taken (the database's constraint won a race that the locks should have
// prevented), or the patient has another visit then.
func conflictOnStart(op string, err error) error {
	switch {
	case errors.Is(err, ErrPatientBusy):
		return &errs.Error{Kind: errs.KindConflict, Op: op, Field: "start",
			Msg: "the patient has another visit at this time (staff may book it anyway with allow_patient_overlap)", Err: err}
	case errs.Is(err, errs.KindConflict):
		return &errs.Error{Kind: errs.KindConflict, Op: op, Field: "start", Msg: "this time is already taken", Err: err}
	}
	return err
}

// checkOverlapWaiver refuses a patient's waiver of the rule that a patient is
// in one visit at a time: only staff may book overlapping visits.
func checkOverlapWaiver(op string, who actor.Actor, allow bool) error {
	if allow && who.Kind == actor.Patient {
		e := errs.E(errs.KindForbidden, op, "only the practice's staff may book a patient's overlapping visits")
		e.Field = "allow_patient_overlap"
		return e
	}
	return nil
}

// checkAudience refuses a visit type for new (or established) patients only
// when the patient is not one.
func checkAudience(op string, vt *VisitType, kind PatientKind) error {
	if (vt.Audience == NewOnly && kind != NewPatient) || (vt.Audience == EstablishedOnly && kind != EstablishedPatient) {
		e := errs.E(errs.KindPreconditionFailed, op, "this visit type is for "+string(vt.Audience)+" patients only, and the patient is "+string(kind))
		e.Field = "visit_type_id"
		return e
	}
	return nil
}

// RescheduleRequest is the input of Reschedule.
type RescheduleRequest struct {
	Start time.Time
	// ProviderID, if set, moves the visit to another provider.
	ProviderID *ProviderID
	// LocationID, if set, requires the new time to be at that location.
	LocationID *tenant.LocationID
	Reason     string
	// AllowPatientOverlap moves the visit even if the patient has another at
	// the new time (staff only). The waiver is for the new time: a move
	// without it puts the visit back under the rule.
	AllowPatientOverlap bool
}

// Reschedule moves a new or confirmed appointment to another time (and
// optionally another provider) atomically: the old time is freed only if the
// new one is taken. Patients must reschedule before the cancellation cut-off
// and within the booking windows; the patient's visits must not overlap
// (unless staff waive it). Errors are those of Book, plus KindConflict
// naming the status when the appointment is not new or confirmed.
func (s *Service) Reschedule(ctx context.Context, practice tenant.PracticeID, id AppointmentID, in RescheduleRequest) (*Appointment, error) {
	const op = "scheduling.Reschedule"
	who, err := actorOf(ctx, op)
	if err != nil {
		return nil, err
	}
	if in.Start.IsZero() {
		return nil, errs.Invalid(op, "start", "is required")
	}
	if err := checkText(op, "reason", in.Reason, false, 500); err != nil {
		return nil, err
	}
	if err := checkOverlapWaiver(op, who, in.AllowPatientOverlap); err != nil {
		return nil, err
	}
	prac, err := s.tenants.GetPractice(ctx, practice)
	if err != nil {
		return nil, err
	}
	now := s.now()
	start := in.Start.UTC()
	if err := checkStart(op, who, prac.Policy, now, start); err != nil {
		return nil, err
	}
	var out *Appointment
	var prov *Provider
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		a, err := lockedAppointment(ctx, s.store, practice, id)
		if err != nil {
			return err
		}
		if a.Status != StatusNew && a.Status != StatusConfirmed {
			e := errs.Conflict(op, "a "+string(a.Status)+" appointment cannot be rescheduled")
			e.Field = "status"
			e.Details = map[string]string{"current_status": string(a.Status)}
			return e
		}
		if err := checkCutoff(op, who, prac.Policy, now, a); err != nil {
			return err
		}
		vt, err := s.store.GetVisitType(ctx, practice, a.VisitTypeID)
		if err != nil {
			return err
		}
		newProv := a.ProviderID
		if in.ProviderID != nil {
			newProv = *in.ProviderID
		}
		if prov, err = s.store.GetProvider(ctx, practice, newProv); err != nil {
			return withField(err, "provider_id")
		}
		keys := append([]uuid.UUID{a.ProviderID, newProv, a.PatientID}, a.ResourceIDs...)
		if err := s.store.Lock(ctx, sortedKeys(keys...)...); err != nil {
			return err
		}
		if newProv != a.ProviderID {
			kind, err := s.patientKindOne(ctx, practice, prov, a.PatientID, start)
			if err != nil {
				return err
			}
			if err := checkAudience(op, vt, kind); err != nil {
				return err
			}
		}
		prevStart := a.Start
		a.ProviderID = newProv
		a.Start, a.End = start, start.Add(a.End.Sub(a.Start))
		a.HoldStart, a.HoldEnd = start.Add(-vt.BufferBefore), a.End.Add(vt.BufferAfter)
		p, err := s.place(ctx, s.store, op, a, vt, in.LocationID, who.Kind == actor.Patient)
		if err != nil {
			return err
		}
		a.BlockID, a.LocationID, a.Seat, a.UpdatedAt = p.block.ID, p.block.LocationID, p.seat, now
		a.AllowPatientOverlap = in.AllowPatientOverlap
		out = a
		c := &Change{ID: s.ids.New(), PracticeID: practice, AppointmentID: a.ID,
			Action: "reschedule", From: a.Status, To: a.Status, By: who.String(), At: now, Reason: in.Reason, PrevStart: &prevStart,
			AllowPatientOverlap: in.AllowPatientOverlap}
		if err := conflictOnStart(op, s.store.UpdateAppointment(ctx, a, c)); err != nil {
			return err
		}
		return s.observe(ctx, a, c)
	})
	if err != nil {
		return nil, err
	}
	out.PatientKind, err = s.patientKindOne(ctx, practice, prov, out.PatientID, out.Start)
	return out, err
}

// lockedAppointment locks an appointment for the rest of transaction tx and
// reads it. Lock order, everywhere: appointments first, then providers,
// resources and patients, sorted together (the store takes those when it
// writes holds).
func lockedAppointment(ctx context.Context, tx Store, practice tenant.PracticeID, id AppointmentID) (*Appointment, error) {
	if err := tx.Lock(ctx, id); err != nil {
		return nil, err
	}
	return tx.GetAppointment(ctx, practice, id)
}

// PastCutoff reports whether, at now, a visit starting at start is within
// a cancellation cut-off (the practice's BookingPolicy.CancelCutoff), so
// that its patient may no longer cancel or move it online (staff still
// may).
func PastCutoff(cutoff time.Duration, now, start time.Time) bool {
	return now.Add(cutoff).After(start)
}

// checkCutoff refuses a patient's change to a visit that starts within the
// practice's cancellation cut-off.
func checkCutoff(op string, who actor.Actor, pol tenant.BookingPolicy, now time.Time, a *Appointment) error {
	if who.Kind == actor.Patient && PastCutoff(pol.CancelCutoff, now, a.Start) {
		e := errs.E(errs.KindPreconditionFailed, op, "the visit starts within the practice's cancellation cut-off of "+pol.CancelCutoff.String()+"; please call the practice")
		e.Field = "start"
		return e
	}
	return nil
}

// Transition moves an appointment to another status, recording who did it,
// when and why. Legal moves: new→confirmed, new→canceled,
// confirmed→arrived, confirmed→canceled, confirmed→no-visit, arrived→out.
// Patients may only cancel (before the cut-off); no-visit needs the start to
// have passed; arrived must be recorded inside the visit's arrival window
// (see ArrivalWindow), else KindPreconditionFailed naming status, with the
// window in the Details. An illegal move fails with KindConflict naming the
// current status in the error's Details.
func (s *Service) Transition(ctx context.Context, practice tenant.PracticeID, id AppointmentID, to Status, reason string) (*Appointment, error) {
	const op = "scheduling.Transition"
	who, err := actorOf(ctx, op)
	if err != nil {
		return nil, err
	}
	if !to.Valid() {
		return nil, errs.Invalid(op, "status", "unknown status \""+string(to)+"\"")
	}
	if err := checkText(op, "reason", reason, false, 500); err != nil {
		return nil, err
	}
	prac, err := s.tenants.GetPractice(ctx, practice)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *Appointment
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		a, err := lockedAppointment(ctx, s.store, practice, id)
		if err != nil {
			return err
		}
		action, ok := CanTransition(a.Status, to)
		if !ok {
			return illegalTransition(op, a.Status, to)
		}
		if who.Kind == actor.Patient {
			if to != StatusCanceled {
				return errs.E(errs.KindForbidden, op, "patients may only cancel")
			}
			if err := checkCutoff(op, who, prac.Policy, now, a); err != nil {
				late, lerr := s.lateCancelAllowed(ctx, a)
				if lerr != nil {
					return lerr
				}
				if !late {
					return err
				}
			}
		}
		if to == StatusNoVisit && now.Before(a.Start) {
			e := errs.E(errs.KindPreconditionFailed, op, "a no-visit can be recorded only once the visit's start has passed")
			e.Field = "status"
			return e
		}
		if to == StatusArrived {
			if err := s.checkArrival(ctx, op, prac.Policy, now, a); err != nil {
				return err
			}
		}
		from := a.Status
		a.Status, a.UpdatedAt = to, now
		out = a
		c := &Change{ID: s.ids.New(), PracticeID: practice, AppointmentID: a.ID,
			Action: action, From: from, To: to, By: who.String(), At: now, Reason: reason}
		if err := s.store.UpdateAppointment(ctx, a, c); err != nil {
			return err
		}
		return s.observe(ctx, a, c)
	})
	if err != nil {
		return nil, err
	}
	return out, s.setPatientKinds(ctx, practice, []*Appointment{out})
}

// Confirm confirms a new request.
func (s *Service) Confirm(ctx context.Context, practice tenant.PracticeID, id AppointmentID) (*Appointment, error) {
	return s.Transition(ctx, practice, id, StatusConfirmed, "")
}

// Cancel cancels an appointment, with a reason.
func (s *Service) Cancel(ctx context.Context, practice tenant.PracticeID, id AppointmentID, reason string) (*Appointment, error) {
	return s.Transition(ctx, practice, id, StatusCanceled, reason)
}

// MoveAppointments moves the active appointments of block from that have not
// started to block to, keeping their times: to's provider, location and
// seats take them. It is all or nothing: when one does not fit, nothing
// moves and the error (KindConflict) lists those that do not fit.
func (s *Service) MoveAppointments(ctx context.Context, practice tenant.PracticeID, from, to BlockID, reason string) ([]*Appointment, error) {
	const op = "scheduling.MoveAppointments"
	who, err := actorOf(ctx, op)
	if err != nil {
		return nil, err
	}
	if from == to {
		return nil, errs.Invalid(op, "to_block_id", "must differ from the block moved from")
	}
	now := s.now()
	var moved []*Appointment
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		src, err := s.store.GetBlock(ctx, practice, from)
		if err != nil {
			return withField(err, "from_block_id")
		}
		dst, err := s.store.GetBlock(ctx, practice, to)
		if err != nil {
			return withField(err, "to_block_id")
		}
		filter := AppointmentFilter{BlockID: &from, Status: []Status{StatusNew, StatusConfirmed},
			From: now, To: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}
		appts, err := s.store.ListAppointments(ctx, practice, filter)
		if err != nil {
			return err
		}
		// Appointments first, then providers and resources; then read the
		// appointments again, as a concurrent change may have come first.
		ids := make([]uuid.UUID, len(appts))
		keys := []uuid.UUID{src.ProviderID, dst.ProviderID}
		for i, a := range appts {
			ids[i] = a.ID
			keys = append(keys, a.PatientID)
			keys = append(keys, a.ResourceIDs...)
		}
		if err := s.store.Lock(ctx, sortedKeys(ids...)...); err != nil {
			return err
		}
		if err := s.store.Lock(ctx, sortedKeys(keys...)...); err != nil {
			return err
		}
		if appts, err = s.store.ListAppointments(ctx, practice, filter); err != nil {
			return err
		}
		var misfits []DisplacedAppointment
		for _, a := range appts {
			if !a.Start.After(now) {
				continue
			}
			vt, err := s.store.GetVisitType(ctx, practice, a.VisitTypeID)
			if err != nil {
				return err
			}
			a.ProviderID = dst.ProviderID
			p, err := s.place(ctx, s.store, op, a, vt, &dst.LocationID, false)
			if err == nil && p.block.ID != dst.ID {
				err = errs.Conflict(op, "does not fit")
			}
			if err == nil {
				a.BlockID, a.LocationID, a.Seat, a.UpdatedAt = dst.ID, dst.LocationID, p.seat, now
				start := a.Start
				c := &Change{ID: s.ids.New(), PracticeID: practice, AppointmentID: a.ID,
					Action: "move", From: a.Status, To: a.Status, By: who.String(), At: now, Reason: reason, PrevStart: &start}
				if err = s.store.UpdateAppointment(ctx, a, c); err == nil {
					// The observer's failure is no misfit: it fails the move.
					if oerr := s.observe(ctx, a, c); oerr != nil {
						return oerr
					}
				}
			}
			if err != nil {
				if k := errs.KindOf(err); k != errs.KindConflict && k != errs.KindPreconditionFailed {
					return err
				}
				misfits = append(misfits, DisplacedAppointment{a.ID, a.Start, a.End, a.Status})
				continue
			}
			moved = append(moved, a)
		}
		if len(misfits) > 0 {
			e := errs.Conflict(op, "some appointments do not fit in the target block; nothing was moved")
			e.Field = "to_block_id"
			e.Details = map[string]any{"appointments": misfits}
			return e
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return nonNil(moved), s.setPatientKinds(ctx, practice, moved)
}
