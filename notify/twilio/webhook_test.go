package twilio_test

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/notify/fakeprovider"
	"github.com/carebook/carebook/notify/twilio"
	"github.com/google/uuid"
)

const hookURL = "https://carebook.example/hooks/twilio/inbound"

// Message SIDs as Twilio makes them.
const (
	sid1 = "SM0123456789abcdef0123456789abcdef"
	sid9 = "SMfedcba9876543210fedcba9876543210"
)

// post builds a Twilio-style form POST to target, signed with sign's token
// over signedURL and signedForm ("" token: unsigned).
func post(target string, form url.Values, sign string, signedURL string, signedForm url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sign != "" {
		r.Header.Set(twilio.SignatureHeader, fakeprovider.SignTwilio(sign, signedURL, signedForm))
	}
	return r
}

func TestValidate(t *testing.T) {
	form := url.Values{"From": {"+15005550001"}, "To": {"+15005550006"}, "Body": {"STOP"}, "MessageSid": {sid1}}
	changed := url.Values{"From": {"+15005550001"}, "To": {"+15005550006"}, "Body": {"START"}, "MessageSid": {sid1}}
	tests := []struct {
		name string
		r    *http.Request
		want error
	}{
		{"valid", post(hookURL, form, token, hookURL, form), nil},
		{"valid with query", post(hookURL+"?m=1", form, token, hookURL+"?m=1", form), nil},
		{"missing", post(hookURL, form, "", "", nil), twilio.ErrNoSignature},
		{"wrong token", post(hookURL, form, "another0token", hookURL, form), twilio.ErrBadSignature},
		{"changed parameter", post(hookURL, changed, token, hookURL, form), twilio.ErrBadSignature},
		{"other URL", post(hookURL, form, token, hookURL+"x", form), twilio.ErrBadSignature},
	}
	v := twilio.NewValidator(token)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full := hookURL
			if tt.r.URL.RawQuery != "" {
				full += "?" + tt.r.URL.RawQuery
			}
			err := v.Validate(tt.r, full)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
			if err != nil && !errs.Is(err, errs.KindUnauthenticated) {
				t.Errorf("kind = %v, want unauthenticated", errs.KindOf(err))
			}
		})
	}
}

func TestParseInbound(t *testing.T) {
	form := url.Values{"From": {"+15005550001"}, "To": {"+15005550006"}, "Body": {"C"}, "MessageSid": {sid9}}
	in, err := twilio.ParseInbound(post(hookURL, form, "", "", nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := (twilio.Inbound{From: "+15005550001", To: "+15005550006", Body: "C", MessageSID: sid9}); in != want {
		t.Errorf("ParseInbound = %+v, want %+v", in, want)
	}
	if _, err := twilio.ParseInbound(post(hookURL, url.Values{"Body": {"x"}}, "", "", nil)); !errs.Is(err, errs.KindInvalid) {
		t.Errorf("no From: err = %v, want invalid", err)
	}
}

func TestParseStatusCallback(t *testing.T) {
	id := uuid.New()
	tests := []struct {
		status, code string
		want         notify.Status
		wantErr      string
	}{
		{"delivered", "", notify.StatusDelivered, ""},
		{"undelivered", "30003", notify.StatusUndelivered, "undelivered: error 30003"},
		{"failed", "30008", notify.StatusUndelivered, "failed: error 30008"},
		{"failed", "", notify.StatusUndelivered, "failed"},
		{"sent", "", notify.StatusSent, ""},
		{"queued", "", notify.StatusSent, ""},
		{"sending", "", notify.StatusSent, ""},
		{"accepted", "", notify.StatusSent, ""},
	}
	for _, tt := range tests {
		t.Run(tt.status+tt.code, func(t *testing.T) {
			form := url.Values{"MessageSid": {sid9}, "MessageStatus": {tt.status}}
			if tt.code != "" {
				form.Set("ErrorCode", tt.code)
			}
			d, err := twilio.ParseStatusCallback(post(hookURL+"?m="+id.String(), form, "", "", nil))
			if err != nil {
				t.Fatal(err)
			}
			want := notify.Delivery{Channel: notify.SMS, MessageID: id, ProviderID: sid9, Status: tt.want, Error: tt.wantErr}
			if d != want {
				t.Errorf("ParseStatusCallback = %+v, want %+v", d, want)
			}
		})
	}
	bad := []struct {
		name   string
		target string
		form   url.Values
	}{
		{"unknown status", hookURL, url.Values{"MessageSid": {sid1}, "MessageStatus": {"teleported"}}},
		{"no SID", hookURL, url.Values{"MessageStatus": {"sent"}}},
		{"bad m", hookURL + "?m=nope", url.Values{"MessageSid": {sid1}, "MessageStatus": {"sent"}}},
	}
	for _, tt := range bad {
		if _, err := twilio.ParseStatusCallback(post(tt.target, tt.form, "", "", nil)); !errs.Is(err, errs.KindInvalid) {
			t.Errorf("%s: err = %v, want invalid", tt.name, err)
		}
	}
	d, err := twilio.ParseStatusCallback(post(hookURL, url.Values{"MessageSid": {sid1}, "MessageStatus": {"delivered"}}, "", "", nil))
	if err != nil || d.MessageID != uuid.Nil {
		t.Errorf("without m: %+v, %v; want uuid.Nil", d, err)
	}
}

func TestTwiML(t *testing.T) {
	tests := []struct{ reply, want string }{
		{"", xml.Header + "<Response/>"},
		{"Canceled.", xml.Header + "<Response><Message>Canceled.</Message></Response>"},
		{`<b>"Tom" & 'Jerry'</b>`, xml.Header + "<Response><Message>&lt;b&gt;&#34;Tom&#34; &amp; &#39;Jerry&#39;&lt;/b&gt;</Message></Response>"},
	}
	for _, tt := range tests {
		if got := string(twilio.TwiML(tt.reply)); got != tt.want {
			t.Errorf("TwiML(%q) = %s, want %s", tt.reply, got, tt.want)
		}
	}
}

// twimlDoc is the shape TwiML produces.
type twimlDoc struct {
	XMLName xml.Name `xml:"Response"`
	Message *string  `xml:"Message"`
}

// xmlSafe reports whether s is valid UTF-8 made only of characters XML 1.0
// can carry, so that it must come back from TwiML unchanged.
func xmlSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !(r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
			return false
		}
	}
	return true
}

func FuzzTwiML(f *testing.F) {
	for _, s := range []string{"", "hi", "<Message>", "a & b", "]]>", "line\r\nbreak\t", "\x00\xff", "émoji 🦷"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		out := twilio.TwiML(reply)
		var doc twimlDoc
		if err := xml.Unmarshal(out, &doc); err != nil {
			t.Fatalf("TwiML(%q) = %s: not XML: %v", reply, out, err)
		}
		switch {
		case reply == "":
			if doc.Message != nil {
				t.Fatalf("TwiML(\"\") has a Message: %s", out)
			}
		case doc.Message == nil:
			t.Fatalf("TwiML(%q) has no Message: %s", reply, out)
		case xmlSafe(reply) && *doc.Message != reply:
			t.Fatalf("TwiML(%q) carries %q", reply, *doc.Message)
		}
	})
}
