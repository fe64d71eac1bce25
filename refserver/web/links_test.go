package web

import (
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

func TestLinkPages(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		f := e.setup("Riverside")
		ap := e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-12T09:00:00-04:00")), 201)
		link := func(a notify.LinkAction, subject string, expires time.Time) string {
			return "/l/" + e.links.Token(notify.Link{Action: a, Practice: uuid.MustParse(f.practice), Subject: uuid.MustParse(subject),
				Nonce: uuid.New(), Expires: expires})
		}
		page := func(res resp, status int, says string) {
			t.Helper()
			if res.status != status || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") || !strings.Contains(string(res.body), says) {
				t.Fatalf("page = %d %s, want %d saying %q: %s", res.status, res.header.Get("Content-Type"), status, says, res.body)
			}
		}
		apStatus := func() any {
			t.Helper()
			return e.ok(e.do("GET", f.base+"/appointments/"+str(ap, "id"), nil), 200)["status"]
		}
		cancel := link(notify.LinkCancel, str(ap, "id"), testNow.Add(time.Hour))
		for range 2 {
			page(e.post("GET", cancel, "", nil, nil), 200, `<form method="post"><button type="submit">Cancel my visit</button>`)
			page(e.post("GET", cancel, "", nil, nil), 200, "Press the button to cancel your visit on Tuesday 12 March 2030 at 09:00")
		}
		if s := apStatus(); s != "confirmed" {
			t.Fatalf("a GET changed the appointment: %v", s)
		}
		page(e.post("POST", cancel, "", nil, nil), 200, "We have canceled your visit on Tuesday 12 March 2030 at 09:00")
		if s := apStatus(); s != "canceled" {
			t.Errorf("appointment = %v", s)
		}
		page(e.post("POST", cancel, "", nil, nil), 409, "already used")

		forged := cancel[:len(cancel)-2] + "AA"
		if strings.HasSuffix(cancel, "AA") {
			forged = cancel[:len(cancel)-2] + "BB"
		}
		page(e.post("POST", forged, "", nil, nil), 403, "not valid")
		page(e.post("GET", "/l/%3Cscript%3E", "", nil, nil), 403, "not valid")
		page(e.post("POST", link(notify.LinkConfirm, str(ap, "id"), testNow.Add(-time.Minute)), "", nil, nil), 410, "expired")

		unsub := link(notify.LinkUnsubscribe, f.patient, testNow.Add(time.Hour))
		page(e.post("GET", unsub, "", nil, nil), 200, "Unsubscribe</button>")
		page(e.post("POST", unsub, "", nil, nil), 200, "You are unsubscribed")
		if p := e.ok(e.do("GET", f.base+"/patients/"+f.patient+"/preferences", nil), 200); p["marketing"] != false {
			t.Errorf("preferences = %v", p)
		}
		confirm := link(notify.LinkConfirm, uuid.NewString(), testNow.Add(time.Hour))
		page(e.post("POST", confirm, "", nil, nil), 404, "could not find")

		// A link of a visit that is no longer upcoming offers nothing.
		for _, a := range []notify.LinkAction{notify.LinkCancel, notify.LinkConfirm} {
			l := link(a, str(ap, "id"), testNow.Add(time.Hour))
			page(e.post("GET", l, "", nil, nil), 409, "can no longer be changed online")
			if res := e.post("GET", l, "", nil, nil); strings.Contains(string(res.body), "<form") {
				t.Errorf("the page of a canceled visit's %s link offers a button: %s", a, res.body)
			}
			page(e.post("POST", l, "", nil, nil), 409, "can no longer be changed online")
		}
	})
}

// A cancel link followed once the practice's cancellation cut-off (24
// hours) has begun says why it cannot act, offers no button, and changes
// nothing.
func TestLinkPageAfterCutoff(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		f := e.setup("Riverside")
		ap := e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-07T09:00:00-05:00")), 201)
		cancel := "/l/" + e.links.Token(notify.Link{Action: notify.LinkCancel, Practice: uuid.MustParse(f.practice),
			Subject: uuid.MustParse(str(ap, "id")), Nonce: uuid.New(), Expires: testNow.Add(5 * 24 * time.Hour)})
		if res := e.post("GET", cancel, "", nil, nil); res.status != 200 || !strings.Contains(string(res.body), "Cancel my visit</button>") {
			t.Fatalf("before the cut-off: %d %s", res.status, res.body)
		}
		e.clock.Set(time.Date(2030, 3, 6, 10, 0, 0, 0, time.UTC)) // 5:00 in New York, 28 hours before the visit
		if res := e.post("GET", cancel, "", nil, nil); res.status != 200 {
			t.Fatalf("28 hours before: %d %s", res.status, res.body)
		}
		e.clock.Set(time.Date(2030, 3, 6, 14, 0, 1, 0, time.UTC)) // a second inside the cut-off
		for _, m := range []string{"GET", "POST"} {
			res := e.post(m, cancel, "", nil, nil)
			body := string(res.body)
			if res.status != 422 || !strings.Contains(body, "Too late to cancel online") ||
				!strings.Contains(body, "Online cancellation closes 24 hours before the visit") || strings.Contains(body, "<form") {
				t.Errorf("%s inside the cut-off = %d %s", m, res.status, body)
			}
		}
		if s := e.ok(e.do("GET", f.base+"/appointments/"+str(ap, "id"), nil), 200)["status"]; s != "confirmed" {
			t.Errorf("appointment = %v", s)
		}
		// The link was not used up by the refused POST: staff moving the
		// cut-off would let it work again.
		e.clock.Set(testNow)
		if res := e.post("POST", cancel, "", nil, nil); res.status != 200 {
			t.Errorf("after the refusal, before the cut-off: %d %s", res.status, res.body)
		}
	})
}

func TestWordDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "24 hours", 48 * time.Hour: "2 days", 72 * time.Hour: "3 days", 36 * time.Hour: "36 hours", time.Hour: "1 hour", 3 * time.Hour: "3 hours",
		90 * time.Minute: "90 minutes", time.Minute: "1 minute",
	} {
		if got := wordDuration(d); got != want {
			t.Errorf("wordDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
