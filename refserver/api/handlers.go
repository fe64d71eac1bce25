package api

import (
	"context"
	"net/http"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The handlers of the route table. Each reads its input through a
// refserver.Request, calls one service method and answers; errors go to
// the core's renderer. A handler that writes patient data calls its
// service through refserver.Server.WritePatientData, in the transaction
// that records the write in the activity log.

// Tenants.

// createGroup creates a group. Signed in (SessionAuth), the creating staff
// account becomes the group's administrator by a grant written in the same
// transaction: this is how a new tenant bootstraps itself.
func (s *server) createGroup(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	var in groupRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	if c := refserver.CredentialsFrom(r.Context()); c != nil && c.Session != nil {
		g, _, err := s.engine.CreateGroupWithAdmin(actor.With(r.Context(), c.Actor()), in.Name, c.Session.AccountID)
		if err != nil {
			return err
		}
		return refserver.Reply(w, http.StatusCreated, g)
	}
	g, err := s.engine.Tenants.CreateGroup(r.Context(), in.Name)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusCreated, g)
}

func (s *server) createPractice(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	var in practiceRequest
	req.Body(&in)
	np := tenant.NewPractice{GroupID: req.BodyID("group_id", in.GroupID), Name: in.Name}
	if in.Policy != nil && req.Err == nil {
		pol, err := in.Policy.policyIn("policy.")
		req.Fail(err)
		np.Policy = &pol
	}
	if req.Err != nil {
		return req.Err
	}
	p, err := s.engine.Tenants.CreatePractice(r.Context(), np)
	if err != nil {
		return renamePolicyField(err, "policy.")
	}
	return refserver.Created(w, "/api/v1/practices/"+p.ID.String(), practiceOut(p))
}

func (s *server) getPractice(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	id := req.Practice()
	if req.Err != nil {
		return req.Err
	}
	p, err := s.engine.Tenants.Practice(r.Context(), id)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, practiceOut(p))
}

func (s *server) setPolicy(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	id := req.Practice()
	var in policyJSON
	req.Body(&in)
	if req.Err != nil {
		return req.Err
	}
	pol, err := in.policyIn("")
	if err != nil {
		return err
	}
	if err := s.engine.Tenants.SetPolicy(r.Context(), id, pol); err != nil {
		return renamePolicyField(err, "")
	}
	p, err := s.engine.Tenants.Practice(r.Context(), id)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, practiceOut(p))
}

func (s *server) createLocation(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	var in locationRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	l, err := s.engine.Tenants.CreateLocation(r.Context(), pid, tenant.NewLocation{
		Name: in.Name, TimeZone: in.TimeZone, Address: in.Address, Geo: in.Geo})
	if err != nil {
		return err
	}
	return req.Created(l.ID, l)
}

func (s *server) listLocations(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	if req.Err != nil {
		return req.Err
	}
	ls, err := s.engine.Tenants.Locations(r.Context(), pid)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, listOf(ls))
}

func (s *server) getLocation(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("location")
	if req.Err != nil {
		return req.Err
	}
	return req.OK(s.engine.Tenants.Location(r.Context(), pid, id))
}

// Providers and resources.

func (s *server) createProvider(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	var in providerRequest
	req.Body(&in)
	if req.Err != nil {
		return req.Err
	}
	locs, err := refserver.ParseIDs("location_ids", in.LocationIDs)
	if err != nil {
		return err
	}
	p, err := s.engine.Scheduling.CreateProvider(r.Context(), pid, scheduling.NewProvider{
		NPI: in.NPI, GivenName: in.GivenName, FamilyName: in.FamilyName, Specialties: in.Specialties, LocationIDs: locs})
	if err != nil {
		return err
	}
	return req.Created(p.ID, p)
}

// pageLimit is the default and the largest page of paginated lists.
const (
	defaultPage = 100
	maxPage     = 1000
)

func (s *server) listProviders(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	f := scheduling.ProviderFilter{LocationID: req.ID("location_id"), Specialty: req.Str("specialty"),
		After: req.ID("after"), Limit: req.Int("limit", defaultPage, 1, maxPage)}
	if req.Err != nil {
		return req.Err
	}
	ps, err := s.engine.Scheduling.Providers(r.Context(), pid, f)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, page(ps, f.Limit, func(p *scheduling.Provider) uuid.UUID { return p.ID }))
}

func (s *server) getProvider(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("provider")
	if req.Err != nil {
		return req.Err
	}
	return req.OK(s.engine.Scheduling.Provider(r.Context(), pid, id))
}

func (s *server) createResource(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	var in resourceRequest
	req.Body(&in)
	lid := req.BodyID("location_id", in.LocationID)
	if req.Err != nil {
		return req.Err
	}
	res, err := s.engine.Scheduling.CreateResource(r.Context(), pid, scheduling.NewResource{
		LocationID: lid, Name: in.Name, Kind: scheduling.ResourceKind(in.Kind)})
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusCreated, res)
}

func (s *server) listResources(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	loc := req.ID("location_id")
	if req.Err != nil {
		return req.Err
	}
	rs, err := s.engine.Scheduling.Resources(r.Context(), pid, loc)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, listOf(rs))
}

// Patients.

func (s *server) createPatient(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	var in patientRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	var p *scheduling.Patient
	err := s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
		var err error
		if p, err = s.engine.Scheduling.CreatePatient(ctx, pid, in.input()); err != nil {
			return "", err
		}
		return p.ID.String(), nil
	})
	if err != nil {
		return err
	}
	return req.Created(p.ID, p)
}

func (s *server) listPatients(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	f := scheduling.PatientFilter{Name: req.Str("name"), FamilyName: req.Str("family_name"), BirthDate: req.Str("birth_date"),
		Phone: req.Str("phone"), Email: req.Str("email"), After: req.ID("after"), Limit: req.Int("limit", defaultPage, 1, maxPage)}
	if req.Err != nil {
		return req.Err
	}
	ps, err := s.engine.Scheduling.Patients(r.Context(), pid, f)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, page(ps, f.Limit, func(p *scheduling.Patient) uuid.UUID { return p.ID }))
}

func (s *server) getPatient(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("patient")
	if req.Err != nil {
		return req.Err
	}
	return req.OK(s.engine.Scheduling.Patient(r.Context(), pid, id))
}

func (s *server) updatePatient(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("patient")
	var in patientRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	var p *scheduling.Patient
	err := s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
		var err error
		p, err = s.engine.Scheduling.UpdatePatient(ctx, pid, id, in.input())
		return "", err
	})
	return req.OK(p, err)
}

// Visit types.

func (s *server) createVisitType(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	var in visitTypeRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	nv, err := in.input()
	if err != nil {
		return err
	}
	v, err := s.engine.Scheduling.CreateVisitType(r.Context(), pid, nv)
	if err != nil {
		return err
	}
	return req.Created(v.ID, visitTypeOut(v))
}

func (s *server) listVisitTypes(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	if req.Err != nil {
		return req.Err
	}
	vs, err := s.engine.Scheduling.VisitTypes(r.Context(), pid)
	if err != nil {
		return err
	}
	out := make([]visitTypeJSON, len(vs))
	for i, v := range vs {
		out[i] = visitTypeOut(v)
	}
	return refserver.Reply(w, http.StatusOK, listOf(out))
}

func (s *server) getVisitType(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("visit_type")
	if req.Err != nil {
		return req.Err
	}
	v, err := s.engine.Scheduling.VisitType(r.Context(), pid, id)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, visitTypeOut(v))
}

// Availability.

func (s *server) createBlock(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	var in blockRequest
	req.Body(&in)
	prov := req.BodyID("provider_id", in.ProviderID)
	if req.Err != nil {
		return req.Err
	}
	bi, err := in.input()
	if err != nil {
		return err
	}
	b, err := s.engine.Scheduling.CreateBlock(r.Context(), pid, scheduling.NewBlock{ProviderID: prov, BlockInput: bi})
	if err != nil {
		return err
	}
	return req.Created(b.ID, b)
}

func (s *server) listBlocks(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	f := scheduling.BlockFilter{ProviderIDs: req.IDs("provider_id"), LocationID: req.ID("location_id"),
		From: req.Time("from"), To: req.Time("to")}
	if req.Err != nil {
		return req.Err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return errs.Invalid("refserver.listBlocks", "to", "must be after from")
	}
	bs, err := s.engine.Scheduling.Blocks(r.Context(), pid, f)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, listOf(bs))
}

func (s *server) getBlock(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("block")
	if req.Err != nil {
		return req.Err
	}
	return req.OK(s.engine.Scheduling.Block(r.Context(), pid, id))
}

func (s *server) updateBlock(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("block")
	var in blockRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	if in.ProviderID != "" {
		return errs.Invalid("refserver.updateBlock", "provider_id", "a block's provider cannot change; move its appointments to a block of the other provider")
	}
	bi, err := in.input()
	if err != nil {
		return err
	}
	return req.OK(s.engine.Scheduling.UpdateBlock(r.Context(), pid, id, bi))
}

func (s *server) deleteBlock(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("block")
	if req.Err != nil {
		return req.Err
	}
	return req.NoContent(s.engine.Scheduling.DeleteBlock(r.Context(), pid, id))
}

func (s *server) moveAppointments(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, from := req.Practice(), req.Path("block")
	var in moveRequest
	req.Body(&in)
	to := req.BodyID("to_block_id", in.ToBlockID)
	if req.Err != nil {
		return req.Err
	}
	moved, err := s.engine.Scheduling.MoveAppointments(r.Context(), pid, from, to, in.Reason)
	if err != nil {
		// The block moved from is the path's {block}.
		return renameField(err, map[string]string{"from_block_id": "block"})
	}
	return refserver.Reply(w, http.StatusOK, listOf(moved))
}

func (s *server) listSlots(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	sq := scheduling.SlotQuery{ProviderIDs: req.IDs("provider_id"), LocationID: req.ID("location_id"),
		From: req.Time("from"), To: req.Time("to")}
	sq.VisitTypeID = req.RequiredID("visit_type_id")
	if req.Err != nil {
		return req.Err
	}
	slots, err := s.engine.Scheduling.OpenSlots(r.Context(), pid, sq)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, listOf(slots))
}

// Appointments.

// decodeBookRequest reads and converts a booking's body. It is the decoder
// FuzzDecodeBookRequest exercises.
func decodeBookRequest(w http.ResponseWriter, r *http.Request, limit int64) (scheduling.BookRequest, error) {
	var in bookRequest
	if err := refserver.DecodeJSON(w, r, limit, &in); err != nil {
		return scheduling.BookRequest{}, err
	}
	return in.input()
}

func (s *server) book(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	if req.Err != nil {
		return req.Err
	}
	in, err := decodeBookRequest(w, r, s.opts.MaxBodyBytes)
	if err != nil {
		return err
	}
	var a *scheduling.Appointment
	err = s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
		var err error
		if a, err = s.engine.Scheduling.Book(ctx, pid, in); err != nil {
			return "", err
		}
		return a.ID.String(), nil
	})
	if err != nil {
		return err
	}
	return req.Created(a.ID, a)
}

func (s *server) getAppointment(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("appointment")
	if req.Err != nil {
		return req.Err
	}
	return req.OK(s.engine.Scheduling.Appointment(r.Context(), pid, id))
}

func (s *server) appointmentHistory(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("appointment")
	if req.Err != nil {
		return req.Err
	}
	cs, err := s.engine.Scheduling.History(r.Context(), pid, id)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, listOf(cs))
}

func (s *server) reschedule(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("appointment")
	var in rescheduleRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	rr, err := in.input()
	if err != nil {
		return err
	}
	var a *scheduling.Appointment
	err = s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
		var err error
		a, err = s.engine.Scheduling.Reschedule(ctx, pid, id, rr)
		return "", err
	})
	return req.OK(a, err)
}

func (s *server) setStatus(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("appointment")
	var in statusRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	if in.Status == "" {
		return errs.Invalid("refserver.setStatus", "status", "is required")
	}
	var a *scheduling.Appointment
	err := s.srv.WritePatientData(r, func(ctx context.Context) (string, error) {
		var err error
		a, err = s.engine.Scheduling.Transition(ctx, pid, id, scheduling.Status(in.Status), in.Reason)
		return "", err
	})
	return req.OK(a, err)
}

func (s *server) listRequests(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	limit := req.Int("limit", defaultPage, 1, maxPage)
	if req.Err != nil {
		return req.Err
	}
	es, err := s.engine.Scheduling.Requests(r.Context(), pid, limit)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, listOf(es))
}

func (s *server) calendar(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.ExistingPractice()
	cq := scheduling.CalendarQuery{From: req.Time("from"), To: req.Time("to"), LocationID: req.ID("location_id"),
		ProviderID: req.ID("provider_id"), ResourceID: req.ID("resource_id")}
	for _, st := range req.List("status") {
		cq.Status = append(cq.Status, scheduling.Status(st))
	}
	if req.Err != nil {
		return req.Err
	}
	es, err := s.engine.Scheduling.Calendar(r.Context(), pid, cq)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, listOf(es))
}
