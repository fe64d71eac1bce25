package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestHappyPath walks a practice from its creation to a canceled visit, on
// SQLite and PostgreSQL.
func TestHappyPath(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) { testHappyPath(t, newEnv(t, st)) })
}

func testHappyPath(t *testing.T, e *testEnv) {
	f := e.setup("Riverside Clinic")

	// Reads of what setup wrote.
	p := e.ok(e.do("GET", f.base, nil), 200)
	pol := p["policy"].(map[string]any)
	if pol["min_notice_minutes"] != 120.0 || pol["max_advance_minutes"] != 90*24*60.0 || pol["cancel_cutoff_minutes"] != 24*60.0 {
		t.Fatalf("default policy = %v", pol)
	}
	if n := e.count(f.base + "/locations"); n != 1 {
		t.Fatalf("%d locations", n)
	}
	e.ok(e.do("GET", f.base+"/locations/"+f.location, nil), 200)
	e.ok(e.do("GET", f.base+"/providers/"+f.provider, nil), 200)
	if n := e.count(f.base + "/providers?specialty=family-medicine&location_id=" + f.location); n != 1 {
		t.Fatalf("%d family doctors", n)
	}
	if n := e.count(f.base + "/providers?specialty=cardiology"); n != 0 {
		t.Fatalf("%d cardiologists", n)
	}
	vt := e.ok(e.do("GET", f.base+"/visit-types/"+f.visitType, nil), 200)
	if vt["duration_minutes"] != 30.0 || vt["step_minutes"] != 0.0 || vt["audience"] != "any" {
		t.Fatalf("visit type = %v", vt)
	}
	if n := e.count(f.base + "/visit-types"); n != 1 {
		t.Fatalf("%d visit types", n)
	}
	if n := e.count(f.base + "/blocks?provider_id=" + f.provider + "&from=2030-03-04T00:00:00Z&to=2030-03-11T00:00:00Z"); n != 1 {
		t.Fatalf("%d blocks", n)
	}
	e.ok(e.do("GET", f.base+"/blocks/"+f.block, nil), 200)
	if n := e.count(f.base + "/patients?name=hop"); n != 1 {
		t.Fatalf("%d patients named hop*", n)
	}
	pt := e.ok(e.do("PUT", f.base+"/patients/"+f.patient, map[string]any{"given_name": "Grace", "family_name": "Hopper",
		"birth_date": "1980-12-09", "email": "Grace.Hopper@Example.com", "language": "en"}), 200)
	if pt["email"] != "grace.hopper@example.com" || pt["phone"] != nil {
		t.Fatalf("updated patient = %v", pt)
	}
	e.ok(e.do("PUT", f.base+"/policy", map[string]any{"min_notice_minutes": 60, "max_advance_minutes": 60 * 24 * 60, "cancel_cutoff_minutes": 12 * 60}), 200)
	p = e.ok(e.do("GET", f.base, nil), 200)
	if got := p["policy"].(map[string]any)["min_notice_minutes"]; got != 60.0 {
		t.Fatalf("min_notice_minutes = %v after PUT", got)
	}
	room := e.ok(e.do("POST", f.base+"/resources", map[string]any{"location_id": f.location, "name": "Room 1", "kind": "room"}), 201)
	if n := e.count(f.base + "/resources?location_id=" + f.location); n != 1 || room["kind"] != "room" {
		t.Fatalf("%d resources, %v", n, room)
	}

	// A patient sees Tuesday's slots: 09:00 to 11:30 New York time.
	slotsPath := f.base + "/slots?visit_type_id=" + f.visitType + "&provider_id=" + f.provider +
		"&from=2030-03-05T00:00:00Z&to=2030-03-06T00:00:00Z"
	slots := e.items(e.do("GET", slotsPath, nil, as(patient)))
	if len(slots) != 6 || slots[0].(map[string]any)["start"] != "2030-03-05T14:00:00Z" {
		t.Fatalf("slots = %v", slots)
	}

	// The patient books the first; it waits as a request, flagged on the calendar.
	res := e.do("POST", f.base+"/appointments", f.bookBody("2030-03-05T14:00:00Z"), as(patient))
	a := e.ok(res, 201)
	id := str(a, "id")
	if a["status"] != "new" || a["patient_kind"] != "new" || a["booked_by"] != patient || res.header.Get("Location") != f.base+"/appointments/"+id {
		t.Fatalf("booked %v, Location %q", a, res.header.Get("Location"))
	}
	cal := e.items(e.do("GET", f.calendarPath(), nil))
	if len(cal) != 1 || cal[0].(map[string]any)["needs_confirmation"] != true ||
		cal[0].(map[string]any)["patient"].(map[string]any)["family_name"] != "Hopper" {
		t.Fatalf("calendar before confirmation = %v", cal)
	}
	if reqs := e.items(e.do("GET", f.base+"/requests?limit=10", nil)); len(reqs) != 1 {
		t.Fatalf("requests = %v", reqs)
	}
	if slots := e.items(e.do("GET", slotsPath, nil, as(patient))); len(slots) != 5 {
		t.Fatalf("%d slots after booking, want 5", len(slots))
	}

	// The front desk confirms it.
	a = e.ok(e.do("POST", f.base+"/appointments/"+id+"/status", map[string]any{"status": "confirmed"}), 200)
	if a["status"] != "confirmed" {
		t.Fatalf("after confirm: %v", a)
	}
	cal = e.items(e.do("GET", f.calendarPath()+"&status=confirmed&provider_id="+f.provider, nil))
	if len(cal) != 1 || cal[0].(map[string]any)["needs_confirmation"] != false {
		t.Fatalf("calendar after confirmation = %v", cal)
	}
	if reqs := e.items(e.do("GET", f.base+"/requests", nil)); len(reqs) != 0 {
		t.Fatalf("requests after confirmation = %v", reqs)
	}

	// Staff move it to Thursday 09:30.
	a = e.ok(e.do("POST", f.base+"/appointments/"+id+"/reschedule", map[string]any{"start": "2030-03-07T09:30:00-05:00", "reason": "patient asked"}), 200)
	if a["start"] != "2030-03-07T14:30:00Z" || a["end"] != "2030-03-07T15:00:00Z" || a["status"] != "confirmed" {
		t.Fatalf("after reschedule: %v", a)
	}
	if slots := e.items(e.do("GET", slotsPath, nil, as(patient))); len(slots) != 6 {
		t.Fatalf("%d slots on Tuesday after the move, want 6", len(slots))
	}

	// And cancel it.
	a = e.ok(e.do("POST", f.base+"/appointments/"+id+"/status", map[string]any{"status": "canceled", "reason": "feels better"}), 200)
	if a["status"] != "canceled" {
		t.Fatalf("after cancel: %v", a)
	}
	e.ok(e.do("GET", f.base+"/appointments/"+id, nil), 200)
	hist := e.items(e.do("GET", f.base+"/appointments/"+id+"/history", nil))
	var actions []string
	for _, h := range hist {
		actions = append(actions, h.(map[string]any)["action"].(string))
	}
	if got, want := strings.Join(actions, ","), "book,confirm,reschedule,cancel"; got != want {
		t.Fatalf("history = %s, want %s", got, want)
	}
	last := hist[3].(map[string]any)
	if last["reason"] != "feels better" || last["from"] != "confirmed" || last["to"] != "canceled" || last["by"] != staff {
		t.Fatalf("cancel entry = %v", last)
	}
	if hist[2].(map[string]any)["prev_start"] != "2030-03-05T14:00:00Z" {
		t.Fatalf("reschedule entry = %v", hist[2])
	}
}

// TestBlockKeepsAppointments checks that a block holding a visit cannot be
// deleted until the visit is moved to another block.
func TestBlockKeepsAppointments(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t))
	f := e.setup("Clinic")
	e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-05T14:00:00Z")), 201)

	pb := e.problem(e.do("DELETE", f.base+"/blocks/"+f.block, nil), 422, "block")
	if d, _ := pb.Details.(map[string]any); d == nil || len(d["appointments"].([]any)) != 1 {
		t.Fatalf("details = %v", pb.Details)
	}
	e.problem(e.do("PUT", f.base+"/blocks/"+f.block, map[string]any{"location_id": f.location,
		"start": "2030-03-05T10:00:00-05:00", "end": "2030-03-05T12:00:00-05:00", "rrule": "FREQ=WEEKLY;BYDAY=TU,TH"}), 422, "block")

	other := e.ok(e.do("POST", f.base+"/providers", map[string]any{"npi": npi(t, "123456789"[:8]+"1"), "given_name": "Mary",
		"family_name": "Somerville", "location_ids": []string{f.location}}), 201)
	b2 := e.ok(e.do("POST", f.base+"/blocks", map[string]any{"provider_id": other["id"], "location_id": f.location,
		"start": "2030-03-05T08:00:00-05:00", "end": "2030-03-05T13:00:00-05:00"}), 201)
	moved := e.items(e.do("POST", f.base+"/blocks/"+f.block+"/move-appointments", map[string]any{"to_block_id": b2["id"], "reason": "Dr Lovelace is away"}))
	if len(moved) != 1 || moved[0].(map[string]any)["provider_id"] != other["id"] {
		t.Fatalf("moved = %v", moved)
	}
	if res := e.do("DELETE", f.base+"/blocks/"+f.block, nil); res.status != http.StatusNoContent {
		t.Fatalf("DELETE = %d: %s", res.status, res.body)
	}
	e.problem(e.do("GET", f.base+"/blocks/"+f.block, nil), 404, "")
	e.ok(e.do("PUT", f.base+"/blocks/"+str(b2, "id"), map[string]any{"location_id": f.location,
		"start": "2030-03-05T08:00:00-05:00", "end": "2030-03-05T14:00:00-05:00"}), 200)
}

// TestOperations covers the routes around the API.
func TestOperations(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t))
	if m := e.ok(e.do("GET", "/healthz", nil), 200); m["status"] != "ok" {
		t.Fatal(m)
	}
	if m := e.ok(e.do("GET", "/readyz", nil), 200); m["status"] != "ready" {
		t.Fatal(m)
	}
	res := e.do("GET", "/api/openapi.json", nil)
	if res.status != 200 || !strings.Contains(string(res.body), `"openapi": "3.1.0"`) {
		t.Fatalf("openapi: %d", res.status)
	}
	e.ok(e.do("POST", "/api/v1/groups", map[string]any{"name": "G"}), 201)
	e.problem(e.do("POST", "/api/v1/groups", map[string]any{"name": ""}), 400, "name")
	res = e.do("GET", "/metrics", nil)
	for _, want := range []string{
		`carebook_http_requests_total{method="POST",route="/api/v1/groups",status="201"} 1`,
		`carebook_http_requests_total{method="POST",route="/api/v1/groups",status="400"} 1`,
		`carebook_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1`,
	} {
		if !strings.Contains(string(res.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Request IDs are echoed, or made.
	res = e.do("GET", "/healthz", nil, withHeader(refserver.RequestIDHeader, "abc-123"))
	if got := res.header.Get(refserver.RequestIDHeader); got != "abc-123" {
		t.Errorf("X-Request-ID = %q", got)
	}
	res = e.do("GET", "/healthz", nil, withHeader(refserver.RequestIDHeader, "bad id\x01"))
	if got := res.header.Get(refserver.RequestIDHeader); len(got) != 24 {
		t.Errorf("made X-Request-ID = %q", got)
	}
	if res.header.Get("X-Content-Type-Options") != "nosniff" || res.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("security headers missing: %v", res.header)
	}
	// Unknown routes and methods are problems too.
	e.problem(e.do("GET", "/api/v1/nothing", nil), 404, "")
	res = e.do("DELETE", "/api/v1/groups", nil)
	e.problem(res, 405, "")
	if res.header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
}
