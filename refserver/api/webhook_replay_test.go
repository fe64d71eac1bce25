package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/carebook/carebook/notify/sendgrid"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

// twilioSignText is the X-Twilio-Signature of text, written out by hand in
// the tests: the URL Twilio called, then every parameter's key and value,
// keys in sorted order, with no separator.
func twilioSignText(text string) string { return fakeprovider.SignTwilioText(testTwilioToken, text) }

// postTwilio posts body, a form written out by hand, to a Twilio webhook
// path with sig and, unless "", an I-Twilio-Idempotency-Token.
func (e *notifyEnv) postTwilio(path, body, sig, idem string) resp {
	e.t.Helper()
	h := http.Header{"X-Twilio-Signature": {sig}}
	if idem != "" {
		h.Set("I-Twilio-Idempotency-Token", idem)
	}
	return e.post("POST", path, "application/x-www-form-urlencoded", []byte(body), h)
}

// signedForm is form as Twilio posts it to path: encoded, and its signature.
func signedForm(path string, form url.Values) (body, sig string) {
	return form.Encode(), fakeprovider.SignTwilio(testTwilioToken, testPublicURL+path, form)
}

// inboundEntries counts the activity log's entries of inbound SMS.
func (e *notifyEnv) inboundEntries(f fixture) int {
	e.t.Helper()
	es, err := e.engine.Audit.Query(context.Background(), uuid.MustParse(f.practice), audit.Filter{})
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, x := range es {
		if strings.HasPrefix(x.Action, "notify.sms_inbound.") {
			n++
		}
	}
	return n
}

// outboxMessage reads a message of f's practice from the store.
func (e *notifyEnv) outboxMessage(f fixture, id string) *notify.Message {
	e.t.Helper()
	m, err := e.engine.Notify.Store().Message(context.Background(), uuid.MustParse(f.practice), uuid.MustParse(id))
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func TestTwilioSMSReplays(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newNotifyEnv(t, st)
		f := e.setup("Riverside")
		first := str(e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-12T09:00:00-04:00")), 201), "id")
		next := str(e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-14T09:00:00-04:00")), 201), "id")
		status := func(id string) any {
			t.Helper()
			return e.ok(e.do("GET", f.base+"/appointments/"+id, nil), 200)["status"]
		}
		path := "/webhooks/twilio/" + f.practice + "/sms"
		sid := "SM" + strings.Repeat("5a", 16)
		text := testPublicURL + path + "AccountSidAC1BodyCFrom+12025550143MessageSid" + sid + "NumMedia0To+12025550100"
		sig := twilioSignText(text)
		asSent := "AccountSid=AC1&Body=C&From=%2B12025550143&MessageSid=" + sid + "&NumMedia=0&To=%2B12025550100"
		// NumMedia=0 dropped into MessageSid: the same signed text.
		recut := "AccountSid=AC1&Body=C&From=%2B12025550143&MessageSid=" + sid + "NumMedia0&To=%2B12025550100"

		// Before the original, the re-cut is refused by its SID.
		e.problem(e.postTwilio(path, recut, sig, ""), 403, "MessageSid")
		if s1, s2, n := status(first), status(next), e.inboundEntries(f); s1 != "confirmed" || s2 != "confirmed" || n != 0 {
			t.Fatalf("after a re-cut: visits %v and %v, %d activity-log entries", s1, s2, n)
		}
		res := e.postTwilio(path, asSent, sig, "idem-1")
		if res.status != 200 || !strings.Contains(string(res.body), "is canceled") {
			t.Fatalf("inbound SMS: %d %s", res.status, res.body)
		}
		if s1, s2 := status(first), status(next); s1 != "canceled" || s2 != "confirmed" {
			t.Fatalf("after C: visits %v and %v", s1, s2)
		}
		replies, entries := len(e.messages(f, "kind=reply")), e.inboundEntries(f)

		// A new SMS, signed, with the idempotency token of the first.
		other := url.Values{"AccountSid": {"AC1"}, "Body": {"C"}, "From": {"+12025550143"}, "MessageSid": {"SM" + strings.Repeat("6b", 16)}, "NumMedia": {"0"}, "To": {"+12025550100"}}
		otherBody, otherSig := signedForm(path, other)
		replays := []struct {
			name, body, sig, idem, field string
		}{
			{"the same request", asSent, sig, "idem-1", ""},
			{"the same request without its token", asSent, sig, "", ""},
			{"the same request with another token", asSent, sig, "idem-2", ""},
			{"the re-cut of MessageSid", recut, sig, "", "MessageSid"},
			{"a cut within a key", strings.Replace(asSent, "NumMedia=0", "NumMed=ia0", 1), sig, "", ""},
			{"Body dropped into AccountSid", strings.Replace(asSent, "AC1&Body=C", "AC1BodyC", 1), sig, "", ""},
			{"another message with the first one's token", otherBody, otherSig, "idem-1", ""},
		}
		for _, rp := range replays {
			res := e.postTwilio(path, rp.body, rp.sig, rp.idem)
			if res.status != 403 {
				t.Errorf("%s: %d %s, want 403", rp.name, res.status, res.body)
				continue
			}
			e.problem(res, 403, rp.field)
		}
		if s := status(next); s != "confirmed" {
			t.Errorf("the next visit after the replays = %v, want confirmed", s)
		}
		if n, m := e.inboundEntries(f), len(e.messages(f, "kind=reply")); n != entries || m != replies {
			t.Errorf("after the replays: %d activity-log entries (want %d), %d replies (want %d)", n, entries, m, replies)
		}

		// That message with its own token acts: the replays could have.
		if res := e.postTwilio(path, otherBody, otherSig, "idem-3"); res.status != 200 {
			t.Fatalf("a new SMS: %d %s", res.status, res.body)
		}
		if s := status(next); s != "canceled" {
			t.Errorf("the next visit after a new C = %v, want canceled", s)
		}
	})
}

func TestTwilioStatusReplays(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newNotifyEnv(t, st)
		f := e.setup("Riverside")
		id := e.sentConfirmation(f, "sms")
		path := "/webhooks/twilio/" + f.practice + "/status?m=" + id
		sid := "SM" + strings.Repeat("c3", 16)
		text := testPublicURL + path + "AccountSidAC1ApiVersion2010-04-01MessageSid" + sid + "MessageStatussentSmsSid" + sid + "SmsStatussent"
		sig := twilioSignText(text)
		asSent := "AccountSid=AC1&ApiVersion=2010-04-01&MessageSid=" + sid + "&MessageStatus=sent&SmsSid=" + sid + "&SmsStatus=sent"
		if res := e.postTwilio(path, asSent, sig, "idem-s1"); res.status != 204 {
			t.Fatalf("status callback = %d %s", res.status, res.body)
		}
		applied := e.outboxMessage(f, id)
		if applied.Status != notify.StatusSent || applied.ProviderID == "" {
			t.Fatalf("after the callback: %+v", applied)
		}
		// Were a callback applied again, the message would show it.
		e.clock.Advance(time.Minute)

		delivered := url.Values{"AccountSid": {"AC1"}, "ApiVersion": {"2010-04-01"}, "MessageSid": {sid}, "MessageStatus": {"delivered"}, "SmsSid": {sid}, "SmsStatus": {"delivered"}}
		deliveredBody, deliveredSig := signedForm(path, delivered)
		replays := []struct {
			name, body, sig, idem, field string
		}{
			{"the same callback", asSent, sig, "idem-s1", ""},
			{"the same callback without its token", asSent, sig, "", ""},
			{"ApiVersion dropped into AccountSid", strings.Replace(asSent, "AC1&ApiVersion=", "AC1ApiVersion", 1), sig, "", ""},
			{"MessageStatus dropped into MessageSid", strings.Replace(asSent, sid+"&MessageStatus=", sid+"MessageStatus", 1), sig, "", "MessageSid"},
			{"another callback with the first one's token", deliveredBody, deliveredSig, "idem-s1", ""},
		}
		for _, rp := range replays {
			res := e.postTwilio(path, rp.body, rp.sig, rp.idem)
			if res.status != 403 {
				t.Errorf("%s: %d %s, want 403", rp.name, res.status, res.body)
				continue
			}
			e.problem(res, 403, rp.field)
		}
		if m := e.outboxMessage(f, id); m.Status != applied.Status || !m.UpdatedAt.Equal(applied.UpdatedAt) || m.LastError != applied.LastError {
			t.Errorf("after the replays: %s updated %v, want %s updated %v", m.Status, m.UpdatedAt, applied.Status, applied.UpdatedAt)
		}
		// That callback with its own token applies.
		if res := e.postTwilio(path, deliveredBody, deliveredSig, "idem-s2"); res.status != 204 {
			t.Fatalf("delivered = %d %s", res.status, res.body)
		}
		if m := e.outboxMessage(f, id); m.Status != notify.StatusDelivered {
			t.Errorf("after delivered: %s", m.Status)
		}
	})
}

func TestSendGridReplays(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newNotifyEnv(t, st)
		f := e.setup("Riverside")
		id := e.sentConfirmation(f, "email")
		batch := func(event string, at time.Time, extra map[string]any) []byte {
			ev := map[string]any{"event": event, "email": "grace@example.com", "timestamp": at.Unix(),
				"sg_message_id": "sg1.filter", sendgrid.ArgMessageID: id, sendgrid.ArgPracticeID: f.practice}
			for k, v := range extra {
				ev[k] = v
			}
			b, _ := json.Marshal([]map[string]any{ev})
			return b
		}
		stamp := strconv.FormatInt(testNow.Unix(), 10)
		send := func(body []byte, sig string) resp {
			t.Helper()
			return e.post("POST", "/webhooks/sendgrid/events", "application/json", body, http.Header{
				sendGridSignatureHeader: {sig}, "X-Twilio-Email-Event-Webhook-Timestamp": {stamp}})
		}
		// A deferral, then a later processed event.
		deferred := batch("deferred", testNow, map[string]any{"response": "try again later"})
		sig := e.signer.Sign(deferred, stamp)
		processed := batch("processed", testNow.Add(time.Minute), nil)
		for _, b := range []struct {
			payload []byte
			sig     string
		}{{deferred, sig}, {processed, e.signer.Sign(processed, stamp)}} {
			if res := send(b.payload, b.sig); res.status != 204 {
				t.Fatalf("events = %d %s", res.status, res.body)
			}
		}
		applied := e.outboxMessage(f, id)
		if applied.Status != notify.StatusSent || applied.LastError != "deferred: try again later" || !applied.UpdatedAt.Equal(testNow.Add(time.Minute)) {
			t.Fatalf("after the events: %s %q updated %v", applied.Status, applied.LastError, applied.UpdatedAt)
		}

		// The deferral again, under every form of its signature.
		withByte := func(sig string) string {
			return base64.StdEncoding.EncodeToString(append(mustDecode(t, sig), 0))
		}
		otherForm := mustOtherForm(t, sig)
		again := e.signer.Sign(deferred, stamp)
		replays := map[string]string{
			"the same signature":     sig,
			"(r, n−s)":               otherForm,
			"a trailing byte":        withByte(sig),
			"(r, n−s), a byte":       withByte(otherForm),
			"signed again":           again,
			"signed again, (r, n−s)": mustOtherForm(t, again),
		}
		for name, s := range replays {
			res := send(deferred, s)
			if res.status != 403 {
				t.Errorf("%s: %d %s, want 403", name, res.status, res.body)
				continue
			}
			e.problem(res, 403, "")
		}
		if m := e.outboxMessage(f, id); m.Status != applied.Status || !m.UpdatedAt.Equal(applied.UpdatedAt) {
			t.Errorf("after the replays: %s updated %v, want %s updated %v", m.Status, m.UpdatedAt, applied.Status, applied.UpdatedAt)
		}

		// A new batch with a trailing byte is refused too, and applies nothing.
		delivered := batch("delivered", testNow.Add(2*time.Minute), nil)
		good := e.signer.Sign(delivered, stamp)
		e.problem(send(delivered, withByte(good)), 403, "")
		if m := e.outboxMessage(f, id); m.Status != notify.StatusSent {
			t.Fatalf("after a batch with a trailing byte: %s", m.Status)
		}
		if res := send(delivered, good); res.status != 204 {
			t.Fatalf("delivered = %d %s", res.status, res.body)
		}
		if m := e.outboxMessage(f, id); m.Status != notify.StatusDelivered {
			t.Errorf("after delivered: %s", m.Status)
		}
	})
}

func mustDecode(t *testing.T, sig string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustOtherForm(t *testing.T, sig string) string {
	t.Helper()
	s, err := fakeprovider.OtherForm(sig)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTwilioSMSConcurrentCuts(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newNotifyEnv(t, st)
		f := e.setup("Riverside")
		first := str(e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-12T09:00:00-04:00")), 201), "id")
		next := str(e.ok(e.do("POST", f.base+"/appointments", f.bookBody("2030-03-14T09:00:00-04:00")), 201), "id")
		path := "/webhooks/twilio/" + f.practice + "/sms"
		sid := "SM" + strings.Repeat("7e", 16)
		sig := twilioSignText(testPublicURL + path + "AccountSidAC1BodyCFrom+12025550143MessageSid" + sid + "NumMedia0NumSegments1To+12025550100")
		asSent := "AccountSid=AC1&Body=C&From=%2B12025550143&MessageSid=" + sid + "&NumMedia=0&NumSegments=1&To=%2B12025550100"
		// The request and cuts of it that mean the same, all at once: one
		// acts.
		bodies := []string{asSent, asSent,
			strings.Replace(asSent, "NumMedia=0&NumSegments=1", "NumMedia=0NumSegments1", 1),
			strings.Replace(asSent, "NumMedia=0", "NumMed=ia0", 1),
			strings.Replace(asSent, "NumSegments=1", "NumSeg=ments1", 1),
			strings.Replace(asSent, sid+"&NumMedia=0", sid+"NumMedia0", 1)}
		codes := make([]int, len(bodies))
		var wg sync.WaitGroup
		for i, b := range bodies {
			wg.Go(func() {
				r := httptest.NewRequest("POST", path, strings.NewReader(b))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.Header.Set("X-Twilio-Signature", sig)
				w := httptest.NewRecorder()
				e.srv.ServeHTTP(w, r)
				codes[i] = w.Code
			})
		}
		wg.Wait()
		acted := 0
		for i, c := range codes {
			switch c {
			case 200:
				acted++
			case 403:
			default:
				t.Errorf("request %d: %d", i, c)
			}
		}
		if acted != 1 {
			t.Errorf("answers %v: %d acted, want 1", codes, acted)
		}
		for id, want := range map[string]string{first: "canceled", next: "confirmed"} {
			if s := e.ok(e.do("GET", f.base+"/appointments/"+id, nil), 200)["status"]; s != want {
				t.Errorf("visit %s = %v, want %s", id, s, want)
			}
		}
		if n := e.inboundEntries(f); n != 1 {
			t.Errorf("%d activity-log entries, want 1", n)
		}
	})
}
