package refserver

import (
	"context"
	"net/http"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The handlers of the route table. Each parses its input, calls one service
// method and answers; errors go to the problem adapter. A handler that
// writes patient data calls its service through writePatientData, in the
// transaction that records the write in the activity log.

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return reply(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if err := s.engine.Ready(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "not ready", "error", err)
		p := Problem{Type: ProblemTypePrefix + "unavailable", Title: http.StatusText(http.StatusServiceUnavailable),
			Status: http.StatusServiceUnavailable, Kind: "unavailable", Detail: "the database does not answer",
			Instance: r.URL.Path, RequestID: requestIDFrom(r.Context())}
		writeJSON(w, p.Status, "application/problem+json", p)
		return nil
	}
	return reply(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	w.Write(s.openapi)
	return nil
}

func (s *Server) decode(w http.ResponseWriter, r *http.Request, dst any) error {
	return decodeJSON(w, r, s.opts.MaxBodyBytes, dst)
}

// practiceID parses the {practice} path value.
func practiceID(r *http.Request) (tenant.PracticeID, error) { return pathID(r, "practice") }

func created(w http.ResponseWriter, location string, v any) error {
	w.Header().Set("Location", location)
	return reply(w, http.StatusCreated, v)
}

// Tenants.

// createGroup creates a group. Signed in (SessionAuth), the creating staff
// account becomes the group's administrator by a grant written in the same
// transaction: this is how a new tenant bootstraps itself.
func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	var in groupRequest
	if req.body(&in); req.err != nil {
		return req.err
	}
	if c := credentialsFrom(r.Context()); c != nil && c.session != nil {
		g, _, err := s.engine.CreateGroupWithAdmin(actor.With(r.Context(), c.actor()), in.Name, c.session.AccountID)
		if err != nil {
			return err
		}
		return reply(w, http.StatusCreated, g)
	}
	g, err := s.engine.Tenants.CreateGroup(r.Context(), in.Name)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, g)
}

func (s *Server) createPractice(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	var in practiceRequest
	req.body(&in)
	np := tenant.NewPractice{GroupID: req.bodyID("group_id", in.GroupID), Name: in.Name}
	if in.Policy != nil && req.err == nil {
		pol, err := in.Policy.policyIn("policy.")
		req.check(err)
		np.Policy = &pol
	}
	if req.err != nil {
		return req.err
	}
	p, err := s.engine.Tenants.CreatePractice(r.Context(), np)
	if err != nil {
		return renamePolicyField(err, "policy.")
	}
	return created(w, "/api/v1/practices/"+p.ID.String(), practiceOut(p))
}

func (s *Server) getPractice(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	id := req.practice()
	if req.err != nil {
		return req.err
	}
	p, err := s.engine.Tenants.Practice(r.Context(), id)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, practiceOut(p))
}

func (s *Server) setPolicy(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	id := req.practice()
	var in policyJSON
	req.body(&in)
	if req.err != nil {
		return req.err
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
	return reply(w, http.StatusOK, practiceOut(p))
}

func (s *Server) createLocation(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.practice()
	var in locationRequest
	if req.body(&in); req.err != nil {
		return req.err
	}
	l, err := s.engine.Tenants.CreateLocation(r.Context(), pid, tenant.NewLocation{
		Name: in.Name, TimeZone: in.TimeZone, Address: in.Address, Geo: in.Geo})
	if err != nil {
		return err
	}
	return req.created(l.ID, l)
}

func (s *Server) listLocations(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.existingPractice()
	if req.err != nil {
		return req.err
	}
	ls, err := s.engine.Tenants.Locations(r.Context(), pid)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, listOf(ls))
}

func (s *Server) getLocation(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("location")
	if req.err != nil {
		return req.err
	}
	return req.ok(s.engine.Tenants.Location(r.Context(), pid, id))
}

// Providers and resources.

func (s *Server) createProvider(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.practice()
	var in providerRequest
	req.body(&in)
	if req.err != nil {
		return req.err
	}
	locs, err := parseIDs("location_ids", in.LocationIDs)
	if err != nil {
		return err
	}
	p, err := s.engine.Scheduling.CreateProvider(r.Context(), pid, scheduling.NewProvider{
		NPI: in.NPI, GivenName: in.GivenName, FamilyName: in.FamilyName, Specialties: in.Specialties, LocationIDs: locs})
	if err != nil {
		return err
	}
	return req.created(p.ID, p)
}

// pageLimit is the default and the largest page of paginated lists.
const (
	defaultPage = 100
	maxPage     = 1000
)

func (s *Server) listProviders(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.existingPractice()
	f := scheduling.ProviderFilter{LocationID: req.id("location_id"), Specialty: req.str("specialty"),
		After: req.id("after"), Limit: req.int("limit", defaultPage, 1, maxPage)}
	if req.err != nil {
		return req.err
	}
	ps, err := s.engine.Scheduling.Providers(r.Context(), pid, f)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, page(ps, f.Limit, func(p *scheduling.Provider) uuid.UUID { return p.ID }))
}

func (s *Server) getProvider(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("provider")
	if req.err != nil {
		return req.err
	}
	return req.ok(s.engine.Scheduling.Provider(r.Context(), pid, id))
}

func (s *Server) createResource(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.practice()
	var in resourceRequest
	req.body(&in)
	lid := req.bodyID("location_id", in.LocationID)
	if req.err != nil {
		return req.err
	}
	res, err := s.engine.Scheduling.CreateResource(r.Context(), pid, scheduling.NewResource{
		LocationID: lid, Name: in.Name, Kind: scheduling.ResourceKind(in.Kind)})
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, res)
}

func (s *Server) listResources(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.existingPractice()
	loc := req.id("location_id")
	if req.err != nil {
		return req.err
	}
	rs, err := s.engine.Scheduling.Resources(r.Context(), pid, loc)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, listOf(rs))
}

// Patients.

func (s *Server) createPatient(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.practice()
	var in patientRequest
	if req.body(&in); req.err != nil {
		return req.err
	}
	var p *scheduling.Patient
	err := s.writePatientData(r, func(ctx context.Context) (string, error) {
		var err error
		if p, err = s.engine.Scheduling.CreatePatient(ctx, pid, in.input()); err != nil {
			return "", err
		}
		return p.ID.String(), nil
	})
	if err != nil {
		return err
	}
	return req.created(p.ID, p)
}

func (s *Server) listPatients(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.existingPractice()
	f := scheduling.PatientFilter{Name: req.str("name"), Phone: req.str("phone"), Email: req.str("email"),
		After: req.id("after"), Limit: req.int("limit", defaultPage, 1, maxPage)}
	if req.err != nil {
		return req.err
	}
	ps, err := s.engine.Scheduling.Patients(r.Context(), pid, f)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, page(ps, f.Limit, func(p *scheduling.Patient) uuid.UUID { return p.ID }))
}

func (s *Server) getPatient(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("patient")
	if req.err != nil {
		return req.err
	}
	return req.ok(s.engine.Scheduling.Patient(r.Context(), pid, id))
}

func (s *Server) updatePatient(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("patient")
	var in patientRequest
	if req.body(&in); req.err != nil {
		return req.err
	}
	var p *scheduling.Patient
	err := s.writePatientData(r, func(ctx context.Context) (string, error) {
		var err error
		p, err = s.engine.Scheduling.UpdatePatient(ctx, pid, id, in.input())
		return "", err
	})
	return req.ok(p, err)
}

// Visit types.

func (s *Server) createVisitType(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.practice()
	var in visitTypeRequest
	if req.body(&in); req.err != nil {
		return req.err
	}
	nv, err := in.input()
	if err != nil {
		return err
	}
	v, err := s.engine.Scheduling.CreateVisitType(r.Context(), pid, nv)
	if err != nil {
		return err
	}
	return req.created(v.ID, visitTypeOut(v))
}

func (s *Server) listVisitTypes(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.existingPractice()
	if req.err != nil {
		return req.err
	}
	vs, err := s.engine.Scheduling.VisitTypes(r.Context(), pid)
	if err != nil {
		return err
	}
	out := make([]visitTypeJSON, len(vs))
	for i, v := range vs {
		out[i] = visitTypeOut(v)
	}
	return reply(w, http.StatusOK, listOf(out))
}

func (s *Server) getVisitType(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("visit_type")
	if req.err != nil {
		return req.err
	}
	v, err := s.engine.Scheduling.VisitType(r.Context(), pid, id)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, visitTypeOut(v))
}

// Availability.

func (s *Server) createBlock(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.practice()
	var in blockRequest
	req.body(&in)
	prov := req.bodyID("provider_id", in.ProviderID)
	if req.err != nil {
		return req.err
	}
	bi, err := in.input()
	if err != nil {
		return err
	}
	b, err := s.engine.Scheduling.CreateBlock(r.Context(), pid, scheduling.NewBlock{ProviderID: prov, BlockInput: bi})
	if err != nil {
		return err
	}
	return req.created(b.ID, b)
}

func (s *Server) listBlocks(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.existingPractice()
	f := scheduling.BlockFilter{ProviderIDs: req.ids("provider_id"), LocationID: req.id("location_id"),
		From: req.time("from"), To: req.time("to")}
	if req.err != nil {
		return req.err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return errs.Invalid("refserver.listBlocks", "to", "must be after from")
	}
	bs, err := s.engine.Scheduling.Blocks(r.Context(), pid, f)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, listOf(bs))
}

func (s *Server) getBlock(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("block")
	if req.err != nil {
		return req.err
	}
	return req.ok(s.engine.Scheduling.Block(r.Context(), pid, id))
}

func (s *Server) updateBlock(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("block")
	var in blockRequest
	if req.body(&in); req.err != nil {
		return req.err
	}
	if in.ProviderID != "" {
		return errs.Invalid("refserver.updateBlock", "provider_id", "a block's provider cannot change; move its appointments to a block of the other provider")
	}
	bi, err := in.input()
	if err != nil {
		return err
	}
	return req.ok(s.engine.Scheduling.UpdateBlock(r.Context(), pid, id, bi))
}

func (s *Server) deleteBlock(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("block")
	if req.err != nil {
		return req.err
	}
	return req.noContent(s.engine.Scheduling.DeleteBlock(r.Context(), pid, id))
}

func (s *Server) moveAppointments(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, from := req.practice(), req.path("block")
	var in moveRequest
	req.body(&in)
	to := req.bodyID("to_block_id", in.ToBlockID)
	if req.err != nil {
		return req.err
	}
	moved, err := s.engine.Scheduling.MoveAppointments(r.Context(), pid, from, to, in.Reason)
	if err != nil {
		// The block moved from is the path's {block}.
		return renameField(err, map[string]string{"from_block_id": "block"})
	}
	return reply(w, http.StatusOK, listOf(moved))
}

func (s *Server) listSlots(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.practice()
	sq := scheduling.SlotQuery{ProviderIDs: req.ids("provider_id"), LocationID: req.id("location_id"),
		From: req.time("from"), To: req.time("to")}
	sq.VisitTypeID = req.requiredID("visit_type_id")
	if req.err != nil {
		return req.err
	}
	slots, err := s.engine.Scheduling.OpenSlots(r.Context(), pid, sq)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, listOf(slots))
}

// Appointments.

// decodeBookRequest reads and converts a booking's body. It is the decoder
// FuzzDecodeBookRequest exercises.
func decodeBookRequest(w http.ResponseWriter, r *http.Request, limit int64) (scheduling.BookRequest, error) {
	var in bookRequest
	if err := decodeJSON(w, r, limit, &in); err != nil {
		return scheduling.BookRequest{}, err
	}
	return in.input()
}

func (s *Server) book(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.practice()
	if req.err != nil {
		return req.err
	}
	in, err := decodeBookRequest(w, r, s.opts.MaxBodyBytes)
	if err != nil {
		return err
	}
	var a *scheduling.Appointment
	err = s.writePatientData(r, func(ctx context.Context) (string, error) {
		var err error
		if a, err = s.engine.Scheduling.Book(ctx, pid, in); err != nil {
			return "", err
		}
		return a.ID.String(), nil
	})
	if err != nil {
		return err
	}
	return req.created(a.ID, a)
}

func (s *Server) getAppointment(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("appointment")
	if req.err != nil {
		return req.err
	}
	return req.ok(s.engine.Scheduling.Appointment(r.Context(), pid, id))
}

func (s *Server) appointmentHistory(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("appointment")
	if req.err != nil {
		return req.err
	}
	cs, err := s.engine.Scheduling.History(r.Context(), pid, id)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, listOf(cs))
}

func (s *Server) reschedule(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("appointment")
	var in rescheduleRequest
	if req.body(&in); req.err != nil {
		return req.err
	}
	rr, err := in.input()
	if err != nil {
		return err
	}
	var a *scheduling.Appointment
	err = s.writePatientData(r, func(ctx context.Context) (string, error) {
		var err error
		a, err = s.engine.Scheduling.Reschedule(ctx, pid, id, rr)
		return "", err
	})
	return req.ok(a, err)
}

func (s *Server) setStatus(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid, id := req.practice(), req.path("appointment")
	var in statusRequest
	if req.body(&in); req.err != nil {
		return req.err
	}
	if in.Status == "" {
		return errs.Invalid("refserver.setStatus", "status", "is required")
	}
	var a *scheduling.Appointment
	err := s.writePatientData(r, func(ctx context.Context) (string, error) {
		var err error
		a, err = s.engine.Scheduling.Transition(ctx, pid, id, scheduling.Status(in.Status), in.Reason)
		return "", err
	})
	return req.ok(a, err)
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.existingPractice()
	limit := req.int("limit", defaultPage, 1, maxPage)
	if req.err != nil {
		return req.err
	}
	es, err := s.engine.Scheduling.Requests(r.Context(), pid, limit)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, listOf(es))
}

func (s *Server) calendar(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.existingPractice()
	cq := scheduling.CalendarQuery{From: req.time("from"), To: req.time("to"), LocationID: req.id("location_id"),
		ProviderID: req.id("provider_id"), ResourceID: req.id("resource_id")}
	for _, st := range req.list("status") {
		cq.Status = append(cq.Status, scheduling.Status(st))
	}
	if req.err != nil {
		return req.err
	}
	es, err := s.engine.Scheduling.Calendar(r.Context(), pid, cq)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, listOf(es))
}
