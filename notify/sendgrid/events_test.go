package sendgrid_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/carebook/carebook/notify/sendgrid"
	"github.com/google/uuid"
)

func TestEventVerifier(t *testing.T) {
	signer, err := fakeprovider.NewEventSigner()
	if err != nil {
		t.Fatal(err)
	}
	other, err := fakeprovider.NewEventSigner()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	v, err := sendgrid.NewEventVerifier(sendgrid.VerifierConfig{PublicKey: signer.PublicKey(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`[{"event":"delivered","sg_message_id":"abc.filter1","timestamp":1800000000}]`)
	ts := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	tests := []struct {
		name          string
		payload       []byte
		sig, stamp    string
		want          error
		wantUnchanged bool
	}{
		{"valid", payload, signer.Sign(payload, ts(-time.Minute)), ts(-time.Minute), nil, true},
		{"valid at max age", payload, signer.Sign(payload, ts(-10*time.Minute)), ts(-10 * time.Minute), nil, true},
		{"wrong key", payload, other.Sign(payload, ts(0)), ts(0), sendgrid.ErrBadSignature, false},
		{"changed payload", append(bytes.Clone(payload), ' '), signer.Sign(payload, ts(0)), ts(0), sendgrid.ErrBadSignature, false},
		{"changed timestamp", payload, signer.Sign(payload, ts(0)), ts(-time.Second), sendgrid.ErrBadSignature, false},
		{"garbage signature", payload, "bm9wZQ==", ts(0), sendgrid.ErrBadSignature, false},
		{"expired", payload, signer.Sign(payload, ts(-11*time.Minute)), ts(-11 * time.Minute), sendgrid.ErrStaleTimestamp, false},
		{"future", payload, signer.Sign(payload, ts(time.Hour)), ts(time.Hour), sendgrid.ErrStaleTimestamp, false},
		{"missing", payload, "", ts(0), sendgrid.ErrNoSignature, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/hooks/sendgrid", bytes.NewReader(tt.payload))
			r.Header.Set("X-Twilio-Email-Event-Webhook-Signature", tt.sig)
			r.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", tt.stamp)
			body, err := v.VerifyRequest(r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyRequest = %v, want %v", err, tt.want)
			}
			if err != nil && !errs.Is(err, errs.KindUnauthenticated) {
				t.Errorf("kind = %v", errs.KindOf(err))
			}
			if tt.wantUnchanged && !bytes.Equal(body, tt.payload) {
				t.Errorf("body = %s", body)
			}
		})
	}
	if _, err := sendgrid.NewEventVerifier(sendgrid.VerifierConfig{PublicKey: "bm9wZQ=="}); err == nil {
		t.Error("NewEventVerifier accepted a garbage key")
	}
}

func TestParseEvents(t *testing.T) {
	id := uuid.New()
	body := []byte(`[
	{"email":"a@x.example","timestamp":1800000000,"event":"processed","sg_message_id":"MSG1.filterdrecv-1.0","carebook_message_id":"` + id.String() + `"},
	{"email":"a@x.example","timestamp":1800000060,"event":"deferred","sg_message_id":"MSG1.f.1","response":"400 try again later","attempt":"1","carebook_message_id":"` + id.String() + `"},
	{"email":"a@x.example","timestamp":1800000120,"event":"delivered","sg_message_id":"MSG1.f.2","response":"250 OK","carebook_message_id":"` + id.String() + `"},
	{"email":"a@x.example","timestamp":1800000180,"event":"open","sg_message_id":"MSG1.f.3"},
	{"email":"b@x.example","timestamp":1800000200,"event":"bounce","sg_message_id":"MSG2.f.1","reason":"550 5.1.1 no such user","status":"5.1.1","type":"bounce"},
	{"email":"c@x.example","timestamp":1800000300,"event":"dropped","sg_message_id":"MSG3","reason":"Bounced Address","carebook_message_id":"not-a-uuid"}
	]`)
	got, err := sendgrid.ParseEvents(body)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s int64) time.Time { return time.Unix(s, 0).UTC() }
	want := []notify.Delivery{
		{Channel: notify.Email, MessageID: id, ProviderID: "MSG1", Status: notify.StatusSent, At: at(1800000000)},
		{Channel: notify.Email, MessageID: id, ProviderID: "MSG1", Status: notify.StatusSent, Error: "deferred: 400 try again later", At: at(1800000060)},
		{Channel: notify.Email, MessageID: id, ProviderID: "MSG1", Status: notify.StatusDelivered, At: at(1800000120)},
		{Channel: notify.Email, ProviderID: "MSG2", Status: notify.StatusUndelivered, Error: "bounce: 550 5.1.1 no such user", At: at(1800000200)},
		{Channel: notify.Email, ProviderID: "MSG3", Status: notify.StatusUndelivered, Error: "dropped: Bounced Address", At: at(1800000300)},
	}
	if len(got) != len(want) {
		t.Fatalf("ParseEvents gave %d deliveries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("delivery %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{`{"event":"delivered"}`, `not json`, `[{"timestamp":"soon"}]`} {
		if _, err := sendgrid.ParseEvents([]byte(bad)); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("ParseEvents(%s) err = %v, want invalid", bad, err)
		}
	}
}

func FuzzParseEvents(f *testing.F) {
	f.Add([]byte(`[{"event":"delivered","sg_message_id":"a.b","timestamp":1,"carebook_message_id":"0190c2b6-7d1e-7c4a-9a4e-4b1f5f0e9c11"}]`))
	f.Add([]byte(`[{"event":"bounce","reason":"x"},{"event":"click"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[{"event":"deferred","timestamp":-99999999999999}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ds, err := sendgrid.ParseEvents(body)
		if err != nil {
			if ds != nil {
				t.Fatalf("deliveries %v with error %v", ds, err)
			}
			return
		}
		for _, d := range ds {
			switch d.Status {
			case notify.StatusDelivered, notify.StatusUndelivered, notify.StatusSent:
			default:
				t.Fatalf("status %q", d.Status)
			}
			if d.Channel != notify.Email {
				t.Fatalf("channel %q", d.Channel)
			}
			if d.Status == notify.StatusUndelivered && d.Error == "" {
				t.Fatalf("undelivered without a reason: %+v", d)
			}
			for _, c := range d.ProviderID {
				if c == '.' {
					t.Fatalf("ProviderID %q has a '.'", d.ProviderID)
				}
			}
		}
	})
}
