package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

// TestBookUnknownPatient: a patient the practice does not have is 404 naming
// patient_id, even with a visit type for established patients only (which
// would otherwise call the stranger new: 422 naming visit_type_id).
func TestBookUnknownPatient(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		f := e.setup("Riverside Clinic")
		g := e.setup("Elsewhere Clinic")
		est := e.ok(e.do("POST", f.base+"/visit-types", map[string]any{"name": "Follow-up", "duration_minutes": 30, "audience": "established"}), 201)
		for name, id := range map[string]string{"random": uuid.NewString(), "another practice's": g.patient} {
			t.Run(name, func(t *testing.T) {
				body := f.bookBody("2030-03-05T14:00:00Z")
				body["patient_id"], body["visit_type_id"] = id, str(est, "id")
				e.problem(e.do("POST", f.base+"/appointments", body), http.StatusNotFound, "patient_id")
			})
		}
		// The practice's own new patient is still refused by the audience rule.
		body := f.bookBody("2030-03-05T14:00:00Z")
		body["visit_type_id"] = str(est, "id")
		e.problem(e.do("POST", f.base+"/appointments", body), http.StatusUnprocessableEntity, "visit_type_id")
	})
}

// TestPatientOneVisitAtATime: a patient's overlapping booking or move is 409
// naming start; staff may waive it with allow_patient_overlap, which is
// recorded; a patient asking for it gets 403 naming the field.
func TestPatientOneVisitAtATime(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		f := e.setup("Riverside Clinic")
		pr := e.ok(e.do("POST", f.base+"/providers", map[string]any{"npi": "1245319599", "given_name": "Alan", "family_name": "Turing",
			"specialties": []string{"cardiology"}, "location_ids": []string{f.location}}), 201)
		e.ok(e.do("POST", f.base+"/blocks", map[string]any{"provider_id": str(pr, "id"), "location_id": f.location,
			"start": "2030-03-05T09:00:00-05:00", "end": "2030-03-05T12:00:00-05:00", "rrule": "FREQ=WEEKLY;BYDAY=TU,TH"}), 201)
		withOther := func(start string, allow bool) map[string]any {
			b := f.bookBody(start)
			b["provider_id"] = str(pr, "id")
			if allow {
				b["allow_patient_overlap"] = true
			}
			return b
		}
		e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-05T14:00:00Z")), 201) // 09:00 with Dr. Lovelace
		e.problem(e.do("POST", f.base+"/appointments", withOther("2030-03-05T14:00:00Z", false)), http.StatusConflict, "start")
		e.problem(e.do("POST", f.base+"/appointments", withOther("2030-03-05T14:00:00Z", true), as(patient)), http.StatusForbidden, "allow_patient_overlap")
		later := e.ok(e.do("POST", f.base+"/appointments", withOther("2030-03-05T15:00:00Z", false)), 201)
		if _, ok := later["allow_patient_overlap"]; ok {
			t.Errorf("booking without the waiver shows it: %v", later)
		}
		move := f.base + "/appointments/" + str(later, "id") + "/reschedule"
		e.problem(e.do("POST", move, map[string]any{"start": "2030-03-05T14:15:00Z"}), http.StatusConflict, "start")
		e.problem(e.do("POST", move, map[string]any{"start": "2030-03-05T14:15:00Z", "allow_patient_overlap": true}, as(patient)), http.StatusForbidden, "allow_patient_overlap")
		moved := e.ok(e.do("POST", move, map[string]any{"start": "2030-03-05T14:15:00Z", "allow_patient_overlap": true, "reason": "joint visit"}), 200)
		if moved["allow_patient_overlap"] != true || moved["start"] != "2030-03-05T14:15:00Z" {
			t.Fatalf("waived move: %v", moved)
		}
		joint := e.ok(e.do("POST", f.base+"/appointments", withOther("2030-03-07T14:00:00Z", true)), 201)
		for _, id := range []string{str(moved, "id"), str(joint, "id")} {
			hist := e.items(e.do("GET", f.base+"/appointments/"+id+"/history", nil))
			if last := hist[len(hist)-1].(map[string]any); last["allow_patient_overlap"] != true {
				t.Errorf("history of %s: %v, want the waiver recorded", id, hist)
			}
		}
	})
}

// TestArrivalWindow: arrival is recorded only around the visit (by default
// on its local day), else 422 naming status with the window; the practice
// sets the window in its policy; a no-show needs the visit to have started.
func TestArrivalWindow(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		f := e.setup("Riverside Clinic")
		pol := e.ok(e.do("GET", f.base, nil), 200)["policy"].(map[string]any)
		if pol["arrival_early_minutes"] != 0.0 || pol["arrival_late_minutes"] != 0.0 {
			t.Fatalf("default policy = %v", pol)
		}
		status := func(id, to string) resp {
			return e.do("POST", f.base+"/appointments/"+id+"/status", map[string]any{"status": to})
		}
		// The case: nine days before the visit (Thursday 14 March).
		far := e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-14T09:00:00-04:00")), 201)
		p := e.problem(status(str(far, "id"), "arrived"), http.StatusUnprocessableEntity, "status")
		if d, _ := p.Details.(map[string]any); d["arrival_from"] != "2030-03-14T04:00:00Z" || d["arrival_until"] != "2030-03-15T04:00:00Z" {
			t.Errorf("details = %v, want the visit's local day", p.Details)
		}
		e.problem(status(str(far, "id"), "out"), http.StatusConflict, "status")
		e.problem(status(str(far, "id"), "no-visit"), http.StatusUnprocessableEntity, "status")

		// Tuesday 09:00: from 30 minutes before to 15 after the end.
		e.ok(e.do("PUT", f.base+"/policy", map[string]any{"min_notice_minutes": 120, "max_advance_minutes": 90 * 24 * 60,
			"cancel_cutoff_minutes": 24 * 60, "arrival_early_minutes": 30, "arrival_late_minutes": 15}), 200)
		pol = e.ok(e.do("GET", f.base, nil), 200)["policy"].(map[string]any)
		if pol["arrival_early_minutes"] != 30.0 || pol["arrival_late_minutes"] != 15.0 {
			t.Fatalf("policy after PUT = %v", pol)
		}
		a := e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-05T14:00:00Z")), 201)
		e.clock.Set(time.Date(2030, 3, 5, 13, 29, 0, 0, time.UTC))
		e.problem(status(str(a, "id"), "arrived"), http.StatusUnprocessableEntity, "status")
		e.clock.Set(time.Date(2030, 3, 5, 13, 30, 0, 0, time.UTC))
		e.ok(status(str(a, "id"), "arrived"), 200)
		e.ok(status(str(a, "id"), "out"), 200)

		for field, v := range map[string]int{"arrival_early_minutes": 24*60 + 1, "arrival_late_minutes": -1} {
			e.problem(e.do("PUT", f.base+"/policy", map[string]any{field: v}), http.StatusBadRequest, field)
		}
	})
}
