package fakeprovider_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/twilio/twilio-go/client"
)

func TestSignTwilioMatchesSDK(t *testing.T) {
	rv := client.NewRequestValidator("12345")
	tests := []struct {
		url  string
		form url.Values
	}{
		{"https://mycompany.com/myapp.php?foo=1&bar=2", url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"},
			"Digits": {"1234"}, "From": {"+12349013030"}, "To": {"+18005551212"}}},
		{"https://carebook.example/hooks/sms", url.Values{"Body": {"é & <x>"}, "A": {""}}},
		{"http://127.0.0.1:8080/status?m=abc", nil},
	}
	for _, tt := range tests {
		sig := fakeprovider.SignTwilio("12345", tt.url, tt.form)
		params := map[string]string{}
		for k := range tt.form {
			params[k] = tt.form.Get(k)
		}
		if !rv.Validate(tt.url, params, sig) {
			t.Errorf("SDK rejects SignTwilio(%q, %v) = %s", tt.url, tt.form, sig)
		}
		if rv.Validate(tt.url+"x", params, sig) {
			t.Errorf("SDK accepts the signature of %q for another URL", tt.url)
		}
	}
	// The test vector of twilio-go's own request_validator_test.go.
	form := url.Values{"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"}}
	if got, want := fakeprovider.SignTwilio("12345", tests[0].url, form), "vOEb5UThFn24KEfnOFLQY2AE5FY="; got != want {
		t.Errorf("SignTwilio = %s, want twilio-go's test vector %s", got, want)
	}
}

func TestEventSigner(t *testing.T) {
	s, err := fakeprovider.NewEventSigner()
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	payload, ts := []byte(`[{"event":"delivered"}]`), "1700000000"
	signed := s.Sign(payload, ts)
	sig, err := base64.StdEncoding.DecodeString(signed)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(append([]byte(ts), payload...))
	if !ecdsa.VerifyASN1(key.(*ecdsa.PublicKey), h[:], sig) {
		t.Error("signature does not verify")
	}
	// The other form (r, n−s) verifies too, and gives the first one back.
	other, err := fakeprovider.OtherForm(signed)
	if err != nil {
		t.Fatal(err)
	}
	osig, err := base64.StdEncoding.DecodeString(other)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(osig, sig) || !ecdsa.VerifyASN1(key.(*ecdsa.PublicKey), h[:], osig) {
		t.Errorf("OtherForm = %x: the same or not valid", osig)
	}
	if back, err := fakeprovider.OtherForm(other); err != nil || back != signed {
		t.Errorf("OtherForm twice = %s, %v; want the signature back", back, err)
	}
	if _, err := fakeprovider.OtherForm(base64.StdEncoding.EncodeToString(append(sig, 0))); err == nil {
		t.Error("OtherForm took a signature with a trailing byte")
	}
}

func TestTwilioConcurrentAndDuplicates(t *testing.T) {
	f := fakeprovider.NewTwilio("AC1", "tok")
	defer f.Close()
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			form := url.Values{"To": {"+15005550001"}, "From": {"+15005550006"}, "Body": {"x"},
				"StatusCallback": {"https://h/s?m=" + string(rune('a'+i%10))}}
			req, _ := http.NewRequest(http.MethodPost, f.URL()+"/2010-04-01/Accounts/AC1/Messages.json", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("AC1", "tok")
			res, err := f.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				t.Errorf("status %d", res.StatusCode)
			}
		}()
	}
	wg.Wait()
	if got := f.Count(); got != n {
		t.Errorf("Count = %d, want %d", got, n)
	}
	if got := f.Duplicates(); got != n-10 {
		t.Errorf("Duplicates = %d, want %d", got, n-10)
	}
	seen := map[string]bool{}
	for _, m := range f.Messages() {
		if seen[m.SID] {
			t.Errorf("SID %s given twice", m.SID)
		}
		seen[m.SID] = true
	}
}

func TestSendGridChecksKeyAndRecords(t *testing.T) {
	f := fakeprovider.NewSendGrid("SG.key")
	defer f.Close()
	body := `{"from":{"email":"desk@clinic.example","name":"Clinic"},"subject":"Hi",
		"personalizations":[{"to":[{"email":"pat@example.com"}]}],
		"content":[{"type":"text/plain","value":"plain"},{"type":"text/html","value":"<p>html</p>"}],
		"custom_args":{"carebook_message_id":"m1"}}`
	send := func(key string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, f.URL()+"/v3/mail/send", bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := f.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := send("wrong"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong key: status %d", res.StatusCode)
	}
	res := send("SG.key")
	if res.StatusCode != http.StatusAccepted || res.Header.Get("X-Message-Id") == "" {
		t.Fatalf("status %d, X-Message-Id %q", res.StatusCode, res.Header.Get("X-Message-Id"))
	}
	m := f.Mails()[0]
	if m.MessageID != res.Header.Get("X-Message-Id") || m.To[0] != "pat@example.com" || m.FromName != "Clinic" ||
		m.Text != "plain" || m.HTML != "<p>html</p>" || m.OutboxID() != "m1" {
		t.Errorf("recorded %+v", m)
	}
	f.FailNext(1, http.StatusServiceUnavailable, 0)
	if res := send("SG.key"); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("injected failure: status %d", res.StatusCode)
	}
	send("SG.key")
	if f.Count() != 2 || f.Duplicates() != 1 || f.Requests() != 4 {
		t.Errorf("Count %d, Duplicates %d, Requests %d; want 2, 1, 4", f.Count(), f.Duplicates(), f.Requests())
	}
}

// TestHold holds the sends after the first: they wait on the wire until
// Release, a held send whose client goes away is still accepted, and the
// read endpoints are never held.
func TestHold(t *testing.T) {
	f := fakeprovider.NewSendGrid("SG.key")
	defer f.Close()
	send := func(ctx context.Context, id string) error {
		body := `{"from":{"email":"desk@clinic.example"},"subject":"Hi","personalizations":[{"to":[{"email":"pat@example.com"}]}],
			"content":[{"type":"text/plain","value":"plain"}],"custom_args":{"carebook_message_id":"` + id + `"}}`
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.URL()+"/v3/mail/send", bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer SG.key")
		res, err := f.Client().Do(req)
		if err == nil {
			res.Body.Close()
		}
		return err
	}
	f.Hold(1)
	if err := send(context.Background(), "first"); err != nil || f.Count() != 1 {
		t.Fatalf("the send before the hold: %v, count %d", err, f.Count())
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, id := range []string{"gone", "waits"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := context.Background()
			if id == "gone" {
				c = ctx
			}
			send(c, id)
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.Held() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("held %d sends, want 2", f.Held())
		}
		time.Sleep(time.Millisecond)
	}
	req, _ := http.NewRequest(http.MethodGet, f.URL()+"/v3/messages?limit=5", nil)
	req.Header.Set("Authorization", "Bearer SG.key")
	res, err := f.Client().Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("Email Activity during a hold: %v %v", res, err)
	}
	res.Body.Close()
	cancel()
	for f.Count() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("a held send whose client went away was not accepted: count %d", f.Count())
		}
		time.Sleep(time.Millisecond)
	}
	f.Release()
	wg.Wait()
	if f.Count() != 3 || f.Held() != 0 {
		t.Errorf("after Release: count %d, held %d", f.Count(), f.Held())
	}
}
