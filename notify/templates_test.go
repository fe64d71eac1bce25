package notify

import (
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultTemplatesCompile(t *testing.T) {
	require.NotEmpty(t, defaults)
	for k, tpl := range defaults {
		_, err := compile("test", &tpl)
		assert.NoError(t, err, "%+v", k)
	}
}

func TestCompileRefusesBadTemplates(t *testing.T) {
	tests := []struct {
		name  string
		t     Template
		field string
	}{
		{"unknown field", Template{Kind: KindReminder, Channel: SMS, Text: "Hi {{.Patient.Nickname}}"}, "text"},
		{"unknown top field", Template{Kind: KindReminder, Channel: SMS, Text: "{{.Doctor}}"}, "text"},
		{"does not parse", Template{Kind: KindReminder, Channel: SMS, Text: "Hi {{.Patient.GivenName"}, "text"},
		{"html unknown field", Template{Kind: KindReminder, Channel: Email, Subject: "s", Text: "t", HTML: "<p>{{.Secret}}</p>"}, "html"},
		{"subject does not parse", Template{Kind: KindReminder, Channel: Email, Subject: "{{if}}", Text: "t"}, "subject"},
		{"email without subject", Template{Kind: KindReminder, Channel: Email, Text: "t"}, "subject"},
		{"sms with html", Template{Kind: KindReminder, Channel: SMS, Text: "t", HTML: "<p>x</p>"}, "html"},
		{"empty", Template{Kind: KindReminder, Channel: SMS, Text: "  "}, "text"},
		{"unknown kind", Template{Kind: "gossip", Channel: SMS, Text: "t"}, "kind"},
		{"unknown channel", Template{Kind: KindReminder, Channel: "fax", Text: "t"}, "channel"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compile("test", &tc.t)
			require.Error(t, err)
			assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
			assert.Equal(t, tc.field, errs.FieldOf(err))
		})
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	c, err := compile("test", &Template{Kind: KindConfirmed, Channel: Email, Subject: "Hi {{.Patient.GivenName}}",
		Text: "Hi {{.Patient.GivenName}}", HTML: "<p>Hi {{.Patient.GivenName}}</p>"})
	require.NoError(t, err)
	d := sampleData()
	d.Patient.GivenName = "<script>x</script>"
	r, rerr := c.render(d)
	require.Nil(t, rerr)
	assert.Equal(t, "Hi <script>x</script>", r.text)
	assert.Equal(t, "<p>Hi &lt;script&gt;x&lt;/script&gt;</p>", r.html)
}

func TestWordWhen(t *testing.T) {
	at := time.Date(2026, 3, 9, 14, 5, 0, 0, time.UTC)
	when, _, _ := wordWhen(at, "en-US")
	assert.Equal(t, "Mon Mar 9 at 2:05 PM", when)
	when, _, _ = wordWhen(at, "es")
	assert.Equal(t, "09.03.2026 14:05", when)
}

func TestLinks(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	k, err := NewLinks(key, "https://clinic.example/")
	require.NoError(t, err)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := Link{Action: LinkCancel, Practice: uuid.New(), Subject: uuid.New(), Nonce: uuid.New(), Expires: now.Add(time.Hour)}
	u := k.URL(l)
	require.Contains(t, u, "https://clinic.example/l/")
	tok := u[len("https://clinic.example/l/"):]
	got, err := k.Verify(tok, now)
	require.NoError(t, err)
	assert.Equal(t, l, got)

	_, err = k.Verify(tok, now.Add(time.Hour))
	assert.Equal(t, errs.KindPreconditionFailed, errs.KindOf(err), "expired")
	assert.Equal(t, "token", errs.FieldOf(err))

	forged := []byte(tok)
	forged[3] ^= 1
	if forged[3] == tok[3] {
		forged[3] = 'A'
	}
	_, err = k.Verify(string(forged), now)
	assert.Equal(t, errs.KindForbidden, errs.KindOf(err), "forged")
	_, err = k.Verify("garbage!", now)
	assert.Equal(t, errs.KindForbidden, errs.KindOf(err), "garbage")

	other, _ := NewLinks([]byte("another key, also 32 bytes long!!"), "https://clinic.example")
	_, err = other.Verify(tok, now)
	assert.Equal(t, errs.KindForbidden, errs.KindOf(err), "another key")

	_, err = NewLinks([]byte("short"), "x")
	assert.Error(t, err)
}

func FuzzVerifyLink(f *testing.F) {
	k, _ := NewLinks([]byte("0123456789abcdef0123456789abcdef"), "https://x")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Add(k.Token(Link{Action: LinkConfirm, Expires: now.Add(time.Hour)}))
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		l, err := k.Verify(tok, now)
		if err == nil && k.Token(l) != tok {
			t.Fatalf("accepted a token it did not sign: %q", tok)
		}
	})
}
