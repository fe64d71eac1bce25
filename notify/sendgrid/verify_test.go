package sendgrid_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/carebook/carebook/notify/sendgrid"
)

// SendGrid's own example of a signed event webhook request: the key,
// signature, timestamp and payload of the test of sendgrid-go's
// helpers/eventwebhook (v3.16.1). Its signature has a high s (above n/2).
const (
	vectorKey       = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
	vectorSignature = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
	vectorTimestamp = "1600112502"
	vectorPayload   = `[{"email":"hello@world.com","event":"dropped","reason":"Bounced Address","sg_event_id":"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA","sg_message_id":"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0","smtp-id":"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>","timestamp":1600112492}]` + "\r\n"
)

// eventRequest is a SendGrid event webhook request.
func eventRequest(payload []byte, sig, stamp string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/hooks/sendgrid", bytes.NewReader(payload))
	r.Header.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
	r.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", stamp)
	return r
}

// wantKey is the Key of a batch: what SendGrid signs.
func wantKey(stamp string, payload []byte) string {
	sum := sha256.Sum256(append([]byte(stamp), payload...))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestVerifyBatchSendGridVector(t *testing.T) {
	at := time.Unix(1600112502, 0)
	v, err := sendgrid.NewEventVerifier(sendgrid.VerifierConfig{PublicKey: vectorKey, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(vectorPayload)
	// SendGrid signs with a high s as often as not: it must be taken.
	b, err := v.VerifyBatch(eventRequest(payload, vectorSignature, vectorTimestamp))
	if err != nil {
		t.Fatalf("SendGrid's signature: %v", err)
	}
	if !bytes.Equal(b.Payload, payload) || b.Key != wantKey(vectorTimestamp, payload) {
		t.Errorf("VerifyBatch = %q, %s", b.Payload, b.Key)
	}
	// Its other form (a low s) verifies as what it is: the same batch.
	low, err := fakeprovider.OtherForm(vectorSignature)
	if err != nil {
		t.Fatal(err)
	}
	if b2, err := v.VerifyBatch(eventRequest(payload, low, vectorTimestamp)); err != nil || b2.Key != b.Key {
		t.Errorf("other form: %s, %v; want the same Key %s", b2.Key, err, b.Key)
	}
}

func TestVerifyBatchCanonicalSignature(t *testing.T) {
	signer, err := fakeprovider.NewEventSigner()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	v, err := sendgrid.NewEventVerifier(sendgrid.VerifierConfig{PublicKey: signer.PublicKey(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`[{"event":"delivered","sg_message_id":"abc.filter1","timestamp":1800000000}]`)
	stamp := "1800000000"
	// A signature whose base64 has spare bits (DER of 70 or 71 bytes).
	var sig string
	var der []byte
	for len(der)%3 == 0 {
		sig = signer.Sign(payload, stamp)
		der, _ = base64.StdEncoding.DecodeString(sig)
	}
	b, err := v.VerifyBatch(eventRequest(payload, sig, stamp))
	if err != nil {
		t.Fatal(err)
	}
	if b.Key != wantKey(stamp, payload) {
		t.Errorf("Key = %s, want %s", b.Key, wantKey(stamp, payload))
	}
	other, err := fakeprovider.OtherForm(sig)
	if err != nil {
		t.Fatal(err)
	}
	if b2, err := v.VerifyBatch(eventRequest(payload, other, stamp)); err != nil || b2.Key != b.Key {
		t.Errorf("(r, n−s): %s, %v; want the same Key %s", b2.Key, err, b.Key)
	}
	if b2, err := v.VerifyBatch(eventRequest(payload, signer.Sign(payload, stamp), stamp)); err != nil || b2.Key != b.Key {
		t.Errorf("signed again: %s, %v; want the same Key %s", b2.Key, err, b.Key)
	}
	if b2, err := v.VerifyBatch(eventRequest(payload, signer.Sign(payload, "1800000001"), "1800000001")); err != nil || b2.Key == b.Key {
		t.Errorf("another timestamp: %s, %v; want another Key", b2.Key, err)
	}

	// The same bytes written otherwise are refused.
	enc := base64.StdEncoding.EncodeToString
	long := append([]byte{0x30, 0x81}, der[1:]...) // DER with a long-form length
	pad := strings.TrimRight(sig, "=")
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", pad[len(pad)-1])
	spare := pad[:len(pad)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[last|1]) + sig[len(pad):]
	bad := map[string]string{
		"a trailing byte":     enc(append(bytes.Clone(der), 0)),
		"trailing bytes":      enc(append(bytes.Clone(der), 0x05, 0x00)),
		"a long-form length":  enc(long),
		"spare bits set":      spare,
		"no padding":          pad,
		"a line break":        sig[:10] + "\n" + sig[10:],
		"not base64":          "bm9wZQ",
		"the SEQUENCE only":   enc(der[:2]),
		"another payload's":   signer.Sign([]byte(`[]`), stamp),
		"a leading zero in r": enc(append([]byte{0x30, der[1] + 1, 0x02, der[3] + 1, 0x00}, der[4:]...)),
	}
	for name, s := range bad {
		if s == sig {
			t.Fatalf("%s: the same text as the signature", name)
		}
		if err := v.Verify(payload, s, stamp); !errors.Is(err, sendgrid.ErrBadSignature) {
			t.Errorf("%s: Verify = %v, want ErrBadSignature", name, err)
		}
	}
}
