package twilio_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/carebook/carebook/notify/twilio"
)

// signText is the X-Twilio-Signature of text, written out by hand in the
// tests: the URL followed by every parameter's key and value, keys in
// sorted order, with no separator.
func signText(text string) string { return fakeprovider.SignTwilioText(token, text) }

// rawPost posts body, a form written out by hand, to hookURL with sig.
func rawPost(body, sig string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, hookURL, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(twilio.SignatureHeader, sig)
	return r
}

func TestVerifyRecutParameters(t *testing.T) {
	text := hookURL + "AccountSidAC1BodyCFrom+15005550001MessageSid" + sid1 + "NumMedia0NumSegments1To+15005550006"
	sig := signText(text)
	sum := sha256.Sum256([]byte(text))
	want := twilio.Signed{Signature: sig, Digest: hex.EncodeToString(sum[:])}
	v := twilio.NewValidator(token)
	// Every cut of the signed text into parameters verifies, and has the
	// same signature and Digest: the same replay keys.
	cuts := map[string]string{
		"as sent":                 "AccountSid=AC1&Body=C&From=%2B15005550001&MessageSid=" + sid1 + "&NumMedia=0&NumSegments=1&To=%2B15005550006",
		"in another order":        "To=%2B15005550006&NumSegments=1&NumMedia=0&MessageSid=" + sid1 + "&From=%2B15005550001&Body=C&AccountSid=AC1",
		"NumSegments in NumMedia": "AccountSid=AC1&Body=C&From=%2B15005550001&MessageSid=" + sid1 + "&NumMedia=0NumSegments1&To=%2B15005550006",
		"From in Body":            "AccountSid=AC1&Body=CFrom%2B15005550001&MessageSid=" + sid1 + "&NumMedia=0&NumSegments=1&To=%2B15005550006",
		"split key":               "AccountSid=AC1&Body=C&From=%2B15005550001&MessageSid=" + sid1 + "&NumMedia=0&NumSeg=ments1&To=%2B15005550006",
	}
	for name, body := range cuts {
		got, err := v.Verify(rawPost(body, sig), hookURL)
		if err != nil {
			t.Errorf("%s: Verify = %v", name, err)
			continue
		}
		if got != want || !slices.Equal(got.ReplayKeys(), want.ReplayKeys()) {
			t.Errorf("%s: Verify = %+v, want %+v", name, got, want)
		}
	}
	// The cut of the issue: NumMedia=0 dropped into MessageSid. The
	// signature verifies; the SID Twilio never sends gives it away.
	recut := "AccountSid=AC1&Body=C&From=%2B15005550001&MessageSid=" + sid1 + "NumMedia0&NumSegments=1&To=%2B15005550006"
	_, err := v.Verify(rawPost(recut, sig), hookURL)
	if errors.Is(err, twilio.ErrBadSignature) || !errs.Is(err, errs.KindUnauthenticated) || errs.FieldOf(err) != "MessageSid" {
		t.Errorf("MessageSid re-cut: Verify = %v, want unauthenticated on MessageSid", err)
	}
	// Another URL is another text.
	if got, err := v.Verify(rawPost(cuts["as sent"], signText(hookURL+"?m=1"+text[len(hookURL):])), hookURL+"?m=1"); err != nil || got.Digest == want.Digest {
		t.Errorf("with a query: Verify = %+v, %v; want another Digest", got, err)
	}
}

func TestVerifyRefusesWhatTwilioDoesNotSign(t *testing.T) {
	v := twilio.NewValidator(token)
	form := url.Values{"From": {"+15005550001"}, "Body": {"C"}, "MessageSid": {sid1}, "SmsSid": {sid1}}
	// A second value of a parameter is not signed.
	twice := form.Encode() + "&Body=STOP"
	if _, err := v.Verify(rawPost(twice, fakeprovider.SignTwilio(token, hookURL, form)), hookURL); !errs.Is(err, errs.KindUnauthenticated) || errs.FieldOf(err) != "Body" {
		t.Errorf("Body twice: Verify = %v, want unauthenticated on Body", err)
	}
	sids := []struct {
		sid string
		ok  bool
	}{
		{sid1, true},
		{"MM" + sid1[2:], true},
		{"SM1", false},
		{"SM" + strings.ToUpper(sid1[2:]), false},
		{"MG" + sid1[2:], false},
		{sid1[:33], false},
		{sid1 + "0", false},
		{"", false},
	}
	for _, field := range []string{"MessageSid", "SmsSid", "SmsMessageSid"} {
		for _, tt := range sids {
			f := url.Values{"From": {"+15005550001"}, "Body": {"C"}, field: {tt.sid}}
			_, err := v.Verify(post(hookURL, f, token, hookURL, f), hookURL)
			if tt.ok && err != nil {
				t.Errorf("%s=%q: Verify = %v", field, tt.sid, err)
			}
			if !tt.ok && (!errs.Is(err, errs.KindUnauthenticated) || errs.FieldOf(err) != field) {
				t.Errorf("%s=%q: Verify = %v, want unauthenticated on %s", field, tt.sid, err, field)
			}
		}
	}
}

func TestSignedReplayKeys(t *testing.T) {
	v := twilio.NewValidator(token)
	form := url.Values{"From": {"+15005550001"}, "Body": {"C"}, "MessageSid": {sid1}}
	verify := func(idem string) twilio.Signed {
		t.Helper()
		r := post(hookURL, form, token, hookURL, form)
		if idem != "" {
			r.Header.Set(twilio.IdempotencyHeader, idem)
		}
		s, err := v.Verify(r, hookURL)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	plain, a, b := verify(""), verify("idem-a"), verify("idem-b")
	if a.IdempotencyToken != "idem-a" {
		t.Errorf("IdempotencyToken = %q", a.IdempotencyToken)
	}
	if got := plain.ReplayKeys(); len(got) != 2 || got[0] != "signature:"+plain.Signature || got[1] != "sha256:"+plain.Digest {
		t.Errorf("ReplayKeys without a token = %q", got)
	}
	ka, kb := a.ReplayKeys(), b.ReplayKeys()
	if len(ka) != 3 || !strings.HasPrefix(ka[2], "token:") || ka[2] == kb[2] || !slices.Equal(ka[:2], kb[:2]) {
		t.Errorf("ReplayKeys = %q and %q", ka, kb)
	}
	// A token is hashed: a long one makes a short key.
	long := twilio.Signed{Signature: "s", Digest: "d", IdempotencyToken: strings.Repeat("x", 10000)}
	for _, k := range long.ReplayKeys() {
		if len(k) > 71 {
			t.Errorf("key %q: %d bytes", k[:20], len(k))
		}
	}
}
