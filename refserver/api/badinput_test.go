package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestBadSetup refuses bad tenants, visit types and blocks, naming the field
// and writing nothing.
func TestBadSetup(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t))
	f := e.setup("Clinic")
	loc := func(tz string) map[string]any { return map[string]any{"name": "Annex", "time_zone": tz} }
	block := func(mod func(map[string]any)) map[string]any {
		b := map[string]any{"provider_id": f.provider, "location_id": f.location,
			"start": "2030-03-06T09:00:00-05:00", "end": "2030-03-06T12:00:00-05:00", "rrule": "FREQ=WEEKLY;BYDAY=WE"}
		if mod != nil {
			mod(b)
		}
		return b
	}
	vt := func(k string, v any) map[string]any {
		m := map[string]any{"name": "Long visit", "duration_minutes": 60}
		m[k] = v
		return m
	}
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
		list   string // stays at want items
		want   int
	}{
		{"unknown time zone", "POST", "/locations", loc("Mars/Olympus_Mons"), 400, "time_zone", "/locations", 1},
		{"Local time zone", "POST", "/locations", loc("Local"), 400, "time_zone", "/locations", 1},
		{"latitude", "POST", "/locations", map[string]any{"name": "X", "time_zone": "UTC", "geo": map[string]any{"lat": 91}}, 400, "geo.lat", "/locations", 1},
		{"invalid RRULE", "POST", "/blocks", block(func(b map[string]any) { b["rrule"] = "FREQ=SOMETIMES" }), 400, "rrule", "/blocks", 1},
		{"RRULE with DTSTART", "POST", "/blocks", block(func(b map[string]any) { b["rrule"] = "FREQ=DAILY;DTSTART=20300101T000000Z" }), 400, "rrule", "/blocks", 1},
		{"end before start", "POST", "/blocks", block(func(b map[string]any) { b["end"] = "2030-03-06T08:00:00-05:00" }), 400, "end", "/blocks", 1},
		{"end equals start", "POST", "/blocks", block(func(b map[string]any) { b["end"] = b["start"] }), 400, "end", "/blocks", 1},
		{"start not RFC 3339", "POST", "/blocks", block(func(b map[string]any) { b["start"] = "2030-03-06 09:00" }), 400, "start", "/blocks", 1},
		{"overlapping block", "POST", "/blocks", block(func(b map[string]any) {
			b["start"], b["end"], b["rrule"] = "2030-03-12T11:00:00-04:00", "2030-03-12T13:00:00-04:00", ""
		}), 409, "start", "/blocks", 1},
		{"block location of no practice", "POST", "/blocks", block(func(b map[string]any) { b["location_id"] = "0190f0c2-8e3a-7c4d-9b1e-2f3a4b5c6d7e" }), 400, "location_id", "/blocks", 1},
		{"block with bad provider UUID", "POST", "/blocks", block(func(b map[string]any) { b["provider_id"] = "dr-who" }), 400, "provider_id", "/blocks", 1},
		{"zero duration", "POST", "/visit-types", vt("duration_minutes", 0), 400, "duration_minutes", "/visit-types", 1},
		{"negative duration", "POST", "/visit-types", vt("duration_minutes", -30), 400, "duration_minutes", "/visit-types", 1},
		{"huge duration", "POST", "/visit-types", vt("duration_minutes", int64(1)<<60), 400, "duration_minutes", "/visit-types", 1},
		{"fractional duration", "POST", "/visit-types", vt("duration_minutes", 1.5), 400, "duration_minutes", "/visit-types", 1},
		{"negative buffer", "POST", "/visit-types", vt("buffer_before_minutes", -5), 400, "buffer_before_minutes", "/visit-types", 1},
		{"negative step", "POST", "/visit-types", vt("step_minutes", -5), 400, "step_minutes", "/visit-types", 1},
		{"bad resource ID", "POST", "/visit-types", vt("resource_ids", []string{"room-1"}), 400, "resource_ids", "/visit-types", 1},
		{"bad NPI", "POST", "/providers", map[string]any{"npi": "1234567890", "given_name": "A", "family_name": "B"}, 400, "npi", "/providers", 1},
		{"duplicate NPI", "POST", "/providers", map[string]any{"npi": "1234567893", "given_name": "A", "family_name": "B"}, 409, "npi", "/providers", 1},
		{"bad phone", "POST", "/patients", map[string]any{"given_name": "A", "family_name": "B", "birth_date": "1990-01-01", "phone": "555-1234"}, 400, "phone", "/patients", 1},
		{"birth in the future", "POST", "/patients", map[string]any{"given_name": "A", "family_name": "B", "birth_date": "2031-01-01"}, 400, "birth_date", "/patients", 1},
		{"resource kind", "POST", "/resources", map[string]any{"location_id": f.location, "name": "MRI", "kind": "robot"}, 400, "kind", "/resources", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			e.problem(e.do(c.method, f.base+c.path, c.body), c.status, c.field)
			if n := e.count(f.base + c.list); n != c.want {
				t.Errorf("%s lists %d, want %d", c.list, n, c.want)
			}
		})
	}
}

// TestBadPolicy refuses bad booking policies and keeps the old one.
func TestBadPolicy(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t))
	f := e.setup("Clinic")
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"min_notice_minutes": -1}, "min_notice_minutes"},
		{map[string]any{"cancel_cutoff_minutes": -60}, "cancel_cutoff_minutes"},
		{map[string]any{"min_notice_minutes": 120, "max_advance_minutes": 60}, "max_advance_minutes"},
		{map[string]any{"max_advance_minutes": int64(1) << 50}, "max_advance_minutes"},
		{map[string]any{"auto_confirm": "yes"}, "auto_confirm"},
	} {
		e.problem(e.do("PUT", f.base+"/policy", c.body), 400, c.field)
	}
	p := e.ok(e.do("GET", f.base, nil), 200)
	if got := p["policy"].(map[string]any)["min_notice_minutes"]; got != 120.0 {
		t.Fatalf("policy changed: %v", p["policy"])
	}
	g := e.ok(e.do("POST", "/api/v1/groups", map[string]any{"name": "G2"}), 201)
	e.problem(e.do("POST", "/api/v1/practices", map[string]any{"group_id": g["id"], "name": "P2",
		"policy": map[string]any{"min_notice_minutes": -5}}), 400, "policy.min_notice_minutes")
	e.problem(e.do("POST", "/api/v1/practices", map[string]any{"group_id": "0190f0c2-8e3a-7c4d-9b1e-2f3a4b5c6d7e", "name": "P3"}), 400, "group_id")
}

// TestBadBookings refuses bookings the rules forbid, writing nothing, on
// SQLite and PostgreSQL.
func TestBadBookings(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) { testBadBookings(t, newEnv(t, st)) })
}

func testBadBookings(t *testing.T, e *testEnv) {
	f := e.setup("Clinic")
	// One booking takes Tuesday 09:00.
	taken := e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-05T14:00:00Z"), as(patient)), 201)
	book := func(start string, mod func(map[string]any)) map[string]any {
		b := f.bookBody(start)
		if mod != nil {
			mod(b)
		}
		return b
	}
	cases := []struct {
		name   string
		body   any
		actor  string
		status int
		field  string
	}{
		{"in the past", book("2030-03-04T14:00:00Z", nil), staff, 400, "start"},
		{"right now", book("2030-03-04T15:00:00Z", nil), staff, 400, "start"},
		{"inside the minimum notice", book("2030-03-04T16:00:00Z", nil), patient, 422, "start"},
		{"beyond the maximum advance", book("2030-07-02T13:00:00Z", nil), patient, 422, "start"},
		{"outside any block", book("2030-03-06T14:00:00Z", nil), staff, 422, "start"},
		{"off the slot grid", book("2030-03-05T14:10:00Z", nil), patient, 422, "start"},
		{"on a taken slot", book("2030-03-05T14:00:00Z", nil), staff, 409, "start"},
		{"overlapping a taken slot", book("2030-03-05T14:15:00Z", nil), staff, 409, "start"},
		{"no actor", book("2030-03-05T15:00:00Z", nil), "", 401, ""},
		{"unknown visit type", book("2030-03-05T15:00:00Z", func(b map[string]any) { b["visit_type_id"] = "0190f0c2-8e3a-7c4d-9b1e-2f3a4b5c6d7e" }), staff, 404, "visit_type_id"},
		{"bad patient UUID", book("2030-03-05T15:00:00Z", func(b map[string]any) { b["patient_id"] = "grace" }), staff, 400, "patient_id"},
		{"missing start", book("", nil), staff, 400, "start"},
		{"start without zone", book("2030-03-05T15:00:00", nil), staff, 400, "start"},
		{"unknown field", book("2030-03-05T15:00:00Z", func(b map[string]any) { b["x"] = 1 }), staff, 400, "x"},
		{"wrong type", book("2030-03-05T15:00:00Z", func(b map[string]any) { b["start"] = 1741186800 }), staff, 400, "start"},
		{"malformed JSON", raw(`{"patient_id": "` + f.patient + `",}`), staff, 400, ""},
		{"truncated JSON", raw(`{"patient_id": `), staff, 400, ""},
		{"two JSON values", raw(`{} {}`), staff, 400, ""},
		{"not an object", raw(`[1, 2]`), staff, 400, ""},
		{"empty body", raw(``), staff, 400, ""},
		{"huge body", raw(`{"reason": "` + strings.Repeat("a", 2<<20) + `"}`), staff, 413, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			p := e.problem(e.do("POST", f.base+"/appointments", c.body, as(c.actor)), c.status, c.field)
			if c.name == "malformed JSON" {
				if d, _ := p.Details.(map[string]any); d == nil || d["offset"] == nil || !strings.Contains(p.Detail, "byte") {
					t.Errorf("no offset in %+v", p)
				}
			}
			if n := len(e.items(e.do("GET", f.calendarPath(), nil))); n != 1 {
				t.Errorf("calendar lists %d appointments, want only the first", n)
			}
		})
	}
	e.t = t

	// A body that is not JSON at all.
	e.problem(e.do("POST", f.base+"/appointments", raw(`{}`), withHeader("Content-Type", "text/plain")), 415, "Content-Type")

	// An illegal transition names the current status.
	id := str(taken, "id")
	e.ok(e.do("POST", f.base+"/appointments/"+id+"/status", map[string]any{"status": "canceled"}), 200)
	p := e.problem(e.do("POST", f.base+"/appointments/"+id+"/status", map[string]any{"status": "confirmed"}), 409, "status")
	if d, _ := p.Details.(map[string]any); d["current_status"] != "canceled" || !strings.Contains(p.Detail, "canceled") {
		t.Fatalf("problem = %+v", p)
	}
	e.problem(e.do("POST", f.base+"/appointments/"+id+"/status", map[string]any{"status": "gone"}), 400, "status")
	e.problem(e.do("POST", f.base+"/appointments/"+id+"/reschedule", map[string]any{"start": "2030-03-07T14:00:00Z"}), 409, "status")
	hist := e.items(e.do("GET", f.base+"/appointments/"+id+"/history", nil))
	if len(hist) != 2 {
		t.Fatalf("history has %d entries, want book and cancel", len(hist))
	}
}

// TestOtherPractice answers 404 for the IDs of another practice, and 400
// for IDs that are not UUIDs.
func TestOtherPractice(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t))
	a := e.setup("Clinic A")
	b := e.setup("Clinic B")
	appt := e.ok(e.do("POST", a.base+"/appointments", a.bookBody("2030-03-05T14:00:00Z")), 201)
	for _, path := range []string{
		"/locations/" + a.location, "/providers/" + a.provider, "/patients/" + a.patient,
		"/visit-types/" + a.visitType, "/blocks/" + a.block, "/appointments/" + str(appt, "id"),
		"/appointments/" + str(appt, "id") + "/history",
	} {
		e.problem(e.do("GET", b.base+path, nil), 404, "")
	}
	e.problem(e.do("GET", "/api/v1/practices/0190f0c2-8e3a-7c4d-9b1e-2f3a4b5c6d7e/providers", nil), 404, "")

	// Writes with A's IDs under B's path change nothing.
	e.problem(e.do("POST", b.base+"/appointments", a.bookBody("2030-03-05T14:30:00Z")), 404, "visit_type_id")
	mixed := b.bookBody("2030-03-05T14:30:00Z")
	mixed["patient_id"] = a.patient
	e.problem(e.do("POST", b.base+"/appointments", mixed), 404, "patient_id")
	e.problem(e.do("POST", b.base+"/blocks", map[string]any{"provider_id": a.provider, "location_id": b.location,
		"start": "2030-03-06T09:00:00-05:00", "end": "2030-03-06T10:00:00-05:00"}), 404, "provider_id")
	e.problem(e.do("POST", b.base+"/appointments/"+str(appt, "id")+"/status", map[string]any{"status": "canceled"}), 404, "")
	e.problem(e.do("PUT", b.base+"/patients/"+a.patient, map[string]any{"given_name": "X", "family_name": "Y", "birth_date": "1990-01-01"}), 404, "")
	e.problem(e.do("DELETE", b.base+"/blocks/"+a.block, nil), 404, "")
	e.problem(e.do("POST", b.base+"/blocks/"+b.block+"/move-appointments", map[string]any{"to_block_id": a.block}), 404, "to_block_id")
	e.problem(e.do("POST", b.base+"/blocks/"+a.block+"/move-appointments", map[string]any{"to_block_id": b.block}), 404, "block")
	e.problem(e.do("POST", b.base+"/blocks/"+b.block+"/move-appointments", map[string]any{"to_block_id": "b2"}), 400, "to_block_id")
	if n := len(e.items(e.do("GET", b.calendarPath(), nil))); n != 0 {
		t.Fatalf("B's calendar lists %d", n)
	}
	if st := e.ok(e.do("GET", a.base+"/appointments/"+str(appt, "id"), nil), 200)["status"]; st != "confirmed" {
		t.Fatalf("A's appointment is %v", st)
	}
	e.ok(e.do("GET", a.base+"/blocks/"+a.block, nil), 200)

	// Malformed IDs and query parameters name their field.
	e.problem(e.do("GET", "/api/v1/practices/not-a-uuid", nil), 400, "practice")
	e.problem(e.do("GET", a.base+"/providers/123", nil), 400, "provider")
	e.problem(e.do("GET", a.base+"/appointments/{"+str(appt, "id")+"}", nil), 400, "appointment")
	e.problem(e.do("GET", a.base+"/providers?limit=0", nil), 400, "limit")
	e.problem(e.do("GET", a.base+"/providers?after=x", nil), 400, "after")
	e.problem(e.do("GET", a.base+"/slots?visit_type_id="+a.visitType+"&from=2030-03-05&to=2030-03-06T00:00:00Z", nil), 400, "from")
	e.problem(e.do("GET", a.base+"/slots?from=2030-03-05T00:00:00Z&to=2030-03-06T00:00:00Z", nil), 400, "visit_type_id")
	e.problem(e.do("GET", a.base+"/calendar?from=2030-03-05T00:00:00Z&to=2030-03-04T00:00:00Z", nil), 400, "to")
	e.problem(e.do("GET", a.base+"/calendar?from=2030-03-05T00:00:00Z&to=2030-03-06T00:00:00Z&status=lost", nil), 400, "status")

	// The actor header must be well formed.
	e.problem(e.do("GET", a.base, nil, as("admin:root")), 400, refserver.ActorHeader)
	e.problem(e.do("GET", a.base, nil, as("staff:")), 400, refserver.ActorHeader)
	e.problem(e.do("GET", a.base, nil, as("staff:caf\xe9")), 400, refserver.ActorHeader)
	if res := e.do("GET", a.base, nil, as("")); res.status != http.StatusOK {
		t.Fatalf("no actor: %d", res.status)
	}
}
