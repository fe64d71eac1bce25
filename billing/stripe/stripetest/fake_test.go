package stripetest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
)

func post(t *testing.T, base, path, key string, form url.Values) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk_test_fake")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Errorf("%s: %v: %s", path, err, b)
	}
	return resp.StatusCode, v, resp.Header
}

func intentForm(amount string) url.Values {
	return url.Values{"amount": {amount}, "currency": {"usd"}, "confirm": {"true"}, "payment_method": {stripetest.CardVisa}, "capture_method": {"manual"}}
}

func TestFakeRemembersKeys(t *testing.T) {
	f := stripetest.NewFake(clock.NewFixed(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	t.Cleanup(f.Close)
	status, first, _ := post(t, f.URL(), "/v1/payment_intents", "k1", intentForm("1000"))
	if status != 200 || first["status"] != "requires_capture" {
		t.Fatalf("create = %d %v", status, first)
	}
	status, again, h := post(t, f.URL(), "/v1/payment_intents", "k1", intentForm("1000"))
	if status != 200 || again["id"] != first["id"] || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay = %d %v (replayed %q), want the first answer", status, again, h.Get("Idempotent-Replayed"))
	}
	status, other, _ := post(t, f.URL(), "/v1/payment_intents", "k1", intentForm("2000"))
	if status != 400 || other["error"].(map[string]any)["type"] != "idempotency_error" {
		t.Fatalf("other parameters under the key = %d %v", status, other)
	}
	// A request that failed validation keeps no answer: the key stays free.
	status, _, _ = post(t, f.URL(), "/v1/payment_intents", "k2", intentForm("-5"))
	if status != 400 {
		t.Fatalf("a negative amount = %d", status)
	}
	if status, _, _ = post(t, f.URL(), "/v1/payment_intents", "k2", intentForm("1000")); status != 200 {
		t.Fatalf("the key after a validation error = %d", status)
	}
	// A decline is kept and replayed.
	declined := intentForm("1000")
	declined.Set("payment_method", stripetest.CardDeclined)
	for range 2 {
		status, v, _ := post(t, f.URL(), "/v1/payment_intents", "k3", declined)
		if status != 402 || v["error"].(map[string]any)["decline_code"] != "generic_decline" {
			t.Fatalf("a declined card = %d %v", status, v)
		}
	}
}

func TestFakeConcurrentReplaysMakeOneIntent(t *testing.T) {
	f := stripetest.NewFake(clock.NewFixed(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	t.Cleanup(f.Close)
	var wg sync.WaitGroup
	ids := make([]any, 16)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, v, _ := post(t, f.URL(), "/v1/payment_intents", "race", intentForm("1000"))
			ids[i] = v["id"]
		}()
	}
	wg.Wait()
	for i, id := range ids {
		if id != ids[0] || id == nil {
			t.Fatalf("racer %d made %v, racer 0 %v", i, id, ids[0])
		}
	}
	if n := len(f.Events()); n != 1 {
		t.Fatalf("%d events, want one hold", n)
	}
}
