package web

import (
	"context"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"
)

// staffMatrix are the page authorization rows of the staff pages (see
// pageMatrix): the staff, notification and activity-log pages are the
// administrators' (403 to the front desk and patients, 404 in another
// practice); the account's pages need only a session; the acceptance of
// an invitation is public.
var staffMatrix = map[string]string{
	"GET /p/{practice}/staff":                      "yfffns",
	"POST /p/{practice}/staff/invite":              "yfffns",
	"POST /p/{practice}/staff/grants":              "yfffns",
	"POST /p/{practice}/staff/grants/revoke":       "yfffns",
	"POST /p/{practice}/staff/roles":               "yfffns",
	"POST /p/{practice}/staff/roles/delete":        "yfffns",
	"GET /invitations/accept":                      "yyyyyy",
	"POST /invitations/accept":                     "yyyyyy",
	"POST /account/sessions/revoke":                "yyyyys",
	"POST /account/signout-everywhere":             "yyyyys",
	"POST /account/password":                       "yyyyys",
	"GET /account/mfa":                             "yyyyys",
	"POST /account/mfa":                            "yyyyys",
	"GET /p/{practice}/notifications":              "yfffns",
	"POST /p/{practice}/notifications/settings":    "yfffns",
	"GET /p/{practice}/notifications/template":     "yfffns",
	"POST /p/{practice}/notifications/template":    "yfffns",
	"GET /p/{practice}/notifications/outbox":       "yfffns",
	"GET /p/{practice}/notifications/dead-letters": "yfffns",
	"POST /p/{practice}/notifications/retry":       "yfffns",
	"GET /p/{practice}/activity":                   "yfffns",
	"GET /p/{practice}/activity/verify":            "yfffns",
}

func init() {
	// Signing out everywhere ends the session it is sent with (and every
	// other of its account): the matrix sends it last, with fresh sessions.
	sessionEnders["POST /account/signout-everywhere"] = true
}

// en is the English of key.
func en(key string) string { return template.HTMLEscapeString(catalogs["en"][key]) }

// TestStaffInvitation: an administrator invites a front desk clerk; the
// token goes to DeliverToken; the clerk's link opens the acceptance page,
// which refuses two different passwords next to the field and a used or
// unknown token in words; accepting creates the account and signs it in
// at its home; the staff page then lists the clerk as front desk, and the
// clerk cannot open it. Revoking the grant takes the practice away.
func TestStaffInvitation(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		admin := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
		staff := a.base() + "/staff"
		admin.get(staff).want(t, http.StatusOK, "<h1>Staff</h1>", demo.AdminEmail, demo.FrontDeskEmail, "Practice administrator", "Front desk")

		bad := admin.post(staff+"/invite", url.Values{"email": {"not-an-email"}, "role": {"front_desk"}})
		bad.want(t, http.StatusUnprocessableEntity, `id="email-error"`, `value="not-an-email"`)
		admin.post(staff+"/invite", url.Values{"email": {"clerk@example.com"}, "role": {"no_such_role"}}).
			want(t, http.StatusUnprocessableEntity, `id="role-error"`)
		res := admin.post(staff+"/invite", url.Values{"email": {"clerk@example.com"}, "role": {"front_desk"}})
		if res.status != http.StatusSeeOther || res.location() != staff+"?done=invited" {
			t.Fatalf("invite: %d to %q\n%s", res.status, res.location(), res.body)
		}
		admin.get(res.location()).want(t, http.StatusOK, en("staff.invited"))
		tok := a.tokens.last(refserver.TokenInvitation, "clerk@example.com")
		if tok == "" {
			t.Fatal("no invitation token was delivered")
		}

		clerk := a.client()
		link := "/invitations/accept?token=" + url.QueryEscape(tok)
		clerk.get(link).want(t, http.StatusOK, "<h1>Accept your invitation</h1>", `name="token" value="`+tok+`"`)
		clerk.post("/invitations/accept", url.Values{"token": {tok}, "password": {"a long new password"}, "password_again": {"another one entirely"}}).
			want(t, http.StatusUnprocessableEntity, `id="password_again-error"`, en("invite.passwords_differ"))
		clerk.post("/invitations/accept", url.Values{"token": {"unknown"}, "password": {"a long new password"}, "password_again": {"a long new password"}}).
			want(t, http.StatusUnprocessableEntity, en("invite.link_refused"))
		ok := clerk.post("/invitations/accept", url.Values{"token": {tok}, "password": {"a long new password"}, "password_again": {"a long new password"}})
		if ok.status != http.StatusSeeOther || ok.location() != a.base()+"/calendar" {
			t.Fatalf("accept: %d to %q, want the calendar\n%s", ok.status, ok.location(), ok.body)
		}
		clerk.get("/account").want(t, http.StatusOK, "clerk@example.com", `href="`+a.base()+`/calendar"`)
		clerk.get(staff).want(t, http.StatusForbidden)
		again := a.client()
		again.get(link)
		again.post("/invitations/accept", url.Values{"token": {tok}, "password": {"a long new password"}, "password_again": {"a long new password"}}).
			want(t, http.StatusUnprocessableEntity, en("invite.link_refused"))

		page := admin.get(staff).want(t, http.StatusOK, "clerk@example.com")
		grant := grantOf(t, page.body, "clerk@example.com")
		admin.post(staff+"/grants/revoke", url.Values{"grant_id": {grant}}).want(t, http.StatusSeeOther)
		if strings.Contains(admin.get(staff).body, "clerk@example.com") {
			t.Fatal("the revoked grant's account is still listed")
		}
		if res := clerk.get(a.base() + "/staff"); res.status != http.StatusForbidden && res.status != http.StatusNotFound {
			t.Fatalf("after the revocation the clerk gets %d", res.status)
		}
		admin.post(staff+"/grants/revoke", url.Values{"grant_id": {grant}}).want(t, http.StatusUnprocessableEntity, `role="alert"`)
	})
}

// grantOf is the ID of the first grant of the account email listed on the
// staff page.
func grantOf(t *testing.T, body, email string) string {
	t.Helper()
	i := strings.Index(body, "<td>"+email+"</td>")
	if i < 0 {
		t.Fatalf("the staff page does not list %s", email)
	}
	m := regexp.MustCompile(`name="grant_id" value="([0-9a-f-]{36})"`).FindStringSubmatch(body[i:])
	if m == nil {
		t.Fatalf("no grant of %s on the page", email)
	}
	return m[1]
}

// TestStaffRolesAndGrants: a custom role is created with the permissions
// checked (a name is required, next to its field), granted to the front
// desk clerk at one location, refused while a grant refers to it, and
// deleted once the grant is revoked; a clerk may not grant or invite.
func TestStaffRolesAndGrants(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		admin := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
		staff := a.base() + "/staff"
		noName := admin.post(staff+"/roles", url.Values{"name": {""}, "permissions": {"calendar.read"}})
		noName.want(t, http.StatusUnprocessableEntity, `id="name-error"`, `value="calendar.read" checked`)
		admin.post(staff+"/roles", url.Values{"name": {"Billing clerk"}, "permissions": {"not.a.permission"}}).
			want(t, http.StatusUnprocessableEntity, `id="permissions-error"`)
		admin.post(staff+"/roles", url.Values{"name": {"Billing clerk"}, "permissions": {"billing.read", "calendar.read"}}).want(t, http.StatusSeeOther)
		page := admin.get(staff).want(t, http.StatusOK, "Billing clerk", "See calendars, See plan and invoices")
		role := regexp.MustCompile(`name="role_id" value="([0-9a-f-]{36})"><button type="submit" class="secondary" aria-label="Delete the role Billing clerk"`).FindStringSubmatch(page.body)
		if role == nil {
			t.Fatalf("no delete form of the role\n%s", page.body)
		}
		desk := accountIDOf(t, a, demo.FrontDeskEmail)
		loc := regexp.MustCompile(`<option value="([0-9a-f-]{36})">[^<]*</option></select>\s*<p|<select id="location_id"[^>]*><option value="([0-9a-f-]{36})"`).FindStringSubmatch(page.body)
		if loc == nil {
			t.Fatal("no location to choose")
		}
		location := loc[1] + loc[2]
		admin.post(staff+"/grants", url.Values{"account_id": {desk}, "role_id": {role[1]}, "scope": {"location"}}).
			want(t, http.StatusUnprocessableEntity, `id="location_id-error"`)
		admin.post(staff+"/grants", url.Values{"account_id": {desk}, "role_id": {role[1]}, "scope": {"location"}, "location_id": {location}}).want(t, http.StatusSeeOther)
		page = admin.get(staff).want(t, http.StatusOK, "Billing clerk</span> <span class=\"hint\">at ")
		admin.post(staff+"/roles/delete", url.Values{"role_id": {role[1]}}).want(t, http.StatusConflict, `class="notice error"`)
		for _, g := range regexp.MustCompile(`aria-label="Revoke Billing clerk"`).FindAllStringIndex(page.body, -1) {
			m := regexp.MustCompile(`name="grant_id" value="([0-9a-f-]{36})"`).FindAllStringSubmatch(page.body[:g[0]], -1)
			admin.post(staff+"/grants/revoke", url.Values{"grant_id": {m[len(m)-1][1]}}).want(t, http.StatusSeeOther)
		}
		admin.post(staff+"/roles/delete", url.Values{"role_id": {role[1]}}).want(t, http.StatusSeeOther)
		if strings.Contains(admin.get(staff).body, "Billing clerk") {
			t.Fatal("the deleted role is still listed")
		}

		clerk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
		clerk.get(staff).want(t, http.StatusForbidden, "<h1>")
		clerk.post(staff+"/invite", url.Values{"email": {"x@example.com"}, "role": {"practice_admin"}}).want(t, http.StatusForbidden)
		clerk.post(staff+"/grants", url.Values{"account_id": {desk}, "role_id": {role[1]}, "scope": {"practice"}}).want(t, http.StatusForbidden)
	})
}

// accountIDOf is the account ID of email.
func accountIDOf(t *testing.T, a *app, email string) string {
	t.Helper()
	ctx := context.Background()
	acct, err := a.engine.Store().Identity.AccountByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	return acct.ID.String()
}

// TestAccountSessions: the account page lists the account's sessions,
// this one marked; ending another signs that browser out; a wrong current
// password is refused next to its field and recorded, a new password
// changes and signs the other sessions out; signing out everywhere ends
// this session too.
func TestAccountSessions(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		me := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
		other := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
		page := me.get("/account").want(t, http.StatusOK, "Where you are signed in", en("account.this_device"), "Sign out everywhere")
		ids := regexp.MustCompile(`name="session_id" value="([0-9a-f-]{36})"><button type="submit" class="secondary">Sign out there`).FindAllStringSubmatch(page.body, -1)
		if len(ids) != 1 {
			t.Fatalf("%d other sessions listed, want 1\n%s", len(ids), page.body)
		}
		me.post("/account/sessions/revoke", url.Values{"session_id": {ids[0][1]}}).want(t, http.StatusSeeOther)
		if res := other.get("/account"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location(), refserver.SignInPath) {
			t.Fatalf("the revoked session still reads the account page: %d", res.status)
		}
		me.post("/account/sessions/revoke", url.Values{"session_id": {ids[0][1]}}).want(t, http.StatusUnprocessableEntity, `role="alert"`)

		me.post("/account/password", url.Values{"old_password": {"wrong"}, "new_password": {"a brand new password"}, "new_password_again": {"a brand new password"}}).
			want(t, http.StatusUnprocessableEntity, `id="old_password-error"`, en("account.old_refused"))
		me.post("/account/password", url.Values{"old_password": {a.demo.FrontDeskPassword}, "new_password": {"a brand new password"}, "new_password_again": {"not the same"}}).
			want(t, http.StatusUnprocessableEntity, `id="new_password_again-error"`)
		me.post("/account/password", url.Values{"old_password": {a.demo.FrontDeskPassword}, "new_password": {"short"}, "new_password_again": {"short"}}).
			want(t, http.StatusUnprocessableEntity, `id="new_password-error"`)
		third := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
		res := me.post("/account/password", url.Values{"old_password": {a.demo.FrontDeskPassword}, "new_password": {"a brand new password"}, "new_password_again": {"a brand new password"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("change: %d\n%s", res.status, res.body)
		}
		me.get(res.location()).want(t, http.StatusOK, en("account.password_changed"))
		if res := third.get("/account"); res.status != http.StatusSeeOther {
			t.Fatalf("another session survived the password change: %d", res.status)
		}
		a.signedIn(demo.FrontDeskEmail, "a brand new password")
		entries, err := a.engine.Audit.Query(context.Background(), a.demo.PracticeID, auditFilter("password.change"))
		if err != nil || len(entries) != 2 || entries[0].Outcome != "failed" || entries[1].Outcome != "allowed" {
			t.Fatalf("password.change entries: %v %v", entries, err)
		}

		out := me.post("/account/signout-everywhere", nil)
		if out.status != http.StatusSeeOther || out.location() != refserver.SignInPath {
			t.Fatalf("sign out everywhere: %d to %q", out.status, out.location())
		}
		if res := me.get("/account"); res.status != http.StatusSeeOther {
			t.Fatalf("this session survived signing out everywhere: %d", res.status)
		}
	})
}

// TestPasswordChangeRateLimit: the password form counts its attempts per
// account as the API's does, and answers a readable page past the limit.
func TestPasswordChangeRateLimit(t *testing.T) {
	a := newSQLiteApp(t)
	limited := refserver.New(a.engine, refserver.Options{Authenticate: refserver.SessionAuth(a.engine.Identity),
		RateLimit: refserver.RateLimit{PerIP: -1, PerAccount: 2, Window: time.Hour}}, Module)
	a.http.Config.Handler = limited
	c := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	form := func() url.Values {
		return url.Values{"old_password": {"wrong"}, "new_password": {"a brand new password"}, "new_password_again": {"a brand new password"}}
	}
	c.post("/account/password", form()).want(t, http.StatusUnprocessableEntity)
	c.post("/account/password", form()).want(t, http.StatusUnprocessableEntity)
	c.post("/account/password", form()).want(t, http.StatusTooManyRequests, "<h1>")
}

// TestMFAEnrolment: enrolment shows the QR code (a PNG in a data: URL)
// and the key; a wrong first code is refused next to its field with the
// same key shown again; the right one turns TOTP on and shows the
// recovery codes once; sign-in then asks for the code, refuses a wrong
// one and signs in with the right one. A practice that requires MFA sends
// its staff to enrol from every page.
func TestMFAEnrolment(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
		c.get("/account").want(t, http.StatusOK, en("account.mfa_off"))
		c.get("/account/mfa").want(t, http.StatusOK, en("mfa.start"))
		c.post("/account/mfa", url.Values{}).want(t, http.StatusUnprocessableEntity)
		start := c.post("/account/mfa", url.Values{"step": {"start"}}).want(t, http.StatusOK, `src="data:image/png;base64,`, en("mfa.secret_intro"))
		secret := secretOf(t, start.body)
		c.post("/account/mfa", url.Values{"step": {"confirm"}, "code": {"000000"}, "otpauth": {uriOf(t, start.body)}}).
			want(t, http.StatusUnprocessableEntity, `id="code-error"`, `src="data:image/png;base64,`, groups(secret, 4))
		code, err := totp.GenerateCode(secret, a.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		done := c.post("/account/mfa", url.Values{"step": {"confirm"}, "code": {code}, "otpauth": {uriOf(t, start.body)}})
		done.want(t, http.StatusOK, en("mfa.on"), `<ol class="codes">`)
		if strings.Contains(done.body, secret) {
			t.Fatal("the page shows the secret once TOTP is on")
		}
		c.get("/account").want(t, http.StatusOK, en("account.mfa_on"))
		c.get("/account/mfa").want(t, http.StatusOK, en("mfa.on_already"))

		a.clock.Advance(time.Minute)
		b := a.client()
		b.get("/signin")
		b.post("/signin", url.Values{"email": {demo.AdminEmail}, "password": {a.demo.AdminPassword}}).
			want(t, http.StatusUnprocessableEntity, `name="totp_code"`, en("signin.code_needed"))
		b.post("/signin", url.Values{"email": {demo.AdminEmail}, "password": {a.demo.AdminPassword}, "totp_code": {"000000"}}).
			want(t, http.StatusUnprocessableEntity, en("signin.code_refused"))
		code, _ = totp.GenerateCode(secret, a.clock.Now())
		b.post("/signin", url.Values{"email": {demo.AdminEmail}, "password": {a.demo.AdminPassword}, "totp_code": {code}}).want(t, http.StatusSeeOther)

		// The code field takes a recovery code too, once.
		m := regexp.MustCompile(`<ol class="codes"><li><code>([^<]+)</code></li>`).FindStringSubmatch(done.body)
		if m == nil {
			t.Fatalf("no recovery code on the page:\n%s", done.body)
		}
		rc := strings.TrimSpace(html.UnescapeString(m[1]))
		d := a.client()
		d.get("/signin")
		d.post("/signin", url.Values{"email": {demo.AdminEmail}, "password": {a.demo.AdminPassword}, "totp_code": {rc}}).want(t, http.StatusSeeOther)
		d.get("/signin")
		d.post("/signin", url.Values{"email": {demo.AdminEmail}, "password": {a.demo.AdminPassword}, "totp_code": {rc}}).
			want(t, http.StatusUnprocessableEntity, en("signin.code_refused"))

		// A practice that requires MFA of its staff.
		ctx := actor.With(context.Background(), actor.Actor{Kind: actor.System, ID: "test"})
		pol, err := a.engine.Identity.SessionPolicy(ctx, a.demo.PracticeID)
		if err != nil {
			t.Fatal(err)
		}
		pol.RequireStaffMFA = true
		if err := a.engine.Identity.SetSessionPolicy(ctx, a.demo.PracticeID, pol); err != nil {
			t.Fatal(err)
		}
		desk := a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
		for _, p := range []string{a.base() + "/staff", a.base() + "/notifications", "/"} {
			if res := desk.get(p); res.status != http.StatusSeeOther || res.location() != refserver.MFAEnrollPath {
				t.Fatalf("%s before enrolment: %d to %q, want the MFA page", p, res.status, res.location())
			}
		}
		desk.get("/account/mfa").want(t, http.StatusOK, en("account.must_enroll"))
		desk.get("/account").want(t, http.StatusOK, en("account.must_enroll"))
		// Enrolled, the clerk signs in again, with a code, to reach the pages.
		start = desk.post("/account/mfa", url.Values{"step": {"start"}}).want(t, http.StatusOK)
		secret = secretOf(t, start.body)
		code, _ = totp.GenerateCode(secret, a.clock.Now())
		desk.post("/account/mfa", url.Values{"step": {"confirm"}, "code": {code}}).want(t, http.StatusOK, en("mfa.sign_in_again"))
		a.clock.Advance(time.Minute)
		code, _ = totp.GenerateCode(secret, a.clock.Now())
		again := a.client()
		again.get("/signin")
		in := again.post("/signin", url.Values{"email": {demo.FrontDeskEmail}, "password": {a.demo.FrontDeskPassword}, "totp_code": {code}})
		if in.status != http.StatusSeeOther || in.location() != a.base()+"/calendar" {
			t.Fatalf("enrolled clerk signs in: %d to %q, want the calendar", in.status, in.location())
		}
		again.get("/account").want(t, http.StatusOK, en("account.mfa_on"))
	})
}

var (
	secretRE = regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`)
	uriRE    = regexp.MustCompile(`name="otpauth" value="([^"]+)"`)
)

// secretOf is the TOTP secret the enrolment page shows.
func secretOf(t *testing.T, body string) string {
	t.Helper()
	m := secretRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no secret on the page\n%s", body)
	}
	return strings.ReplaceAll(m[1], " ", "")
}

// uriOf is the otpauth URI the enrolment form sends back.
func uriOf(t *testing.T, body string) string {
	t.Helper()
	m := uriRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no otpauth URI in the form\n%s", body)
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

// TestNotificationSettings: the settings form shows the practice's
// settings, refuses bad reminders and times next to their fields, and
// saves good ones.
func TestNotificationSettings(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
		n := a.base() + "/notifications"
		c.get(n).want(t, http.StatusOK, "<h1>Notifications</h1>", `value="1440, 120"`, `value="21:00"`, "Reminder", "front desk inbox")
		good := url.Values{"reminder_offsets_minutes": {"2880, 60"}, "quiet_start": {"20:30"}, "quiet_end": {"07:45"}, "sms_from": {"+12025550143"}}
		for field, bad := range map[string]string{"reminder_offsets_minutes": "a day", "quiet_start": "late", "sms_from": "2025550143"} {
			f := url.Values{}
			for k, v := range good {
				f[k] = v
			}
			f.Set(field, bad)
			c.post(n+"/settings", f).want(t, http.StatusUnprocessableEntity, `id="`+field+`-error"`, `value="`+bad+`"`)
		}
		c.post(n+"/settings", url.Values{"reminder_offsets_minutes": {"5"}, "quiet_start": {"20:30"}, "quiet_end": {"07:45"}}).
			want(t, http.StatusUnprocessableEntity, `id="reminder_offsets_minutes-error"`, "between 15 minutes and 30 days")
		c.post(n+"/settings", good).want(t, http.StatusSeeOther)
		c.get(n+"?done=saved").want(t, http.StatusOK, en("notify.saved"), `value="2880, 60"`, `value="20:30"`, `value="07:45"`, `value="&#43;12025550143"`)
	})
}

// TestNotificationTemplates: a template's page shows its wording in use
// and a preview on sample data; the wording typed is previewed without
// being stored; a template that does not parse is refused next to the
// text; one saved becomes the practice's own, and reset brings the
// default back.
func TestNotificationTemplates(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		c := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
		n := a.base() + "/notifications/template"
		q := "?kind=reminder&channel=sms&language=en"
		c.get(n+q).want(t, http.StatusOK, "Reminder by text message, in English", en("notify.is_default"), en("notify.preview_sample"), "reminder of your")
		c.get(n+"?kind=reply&channel=sms&language=en").want(t, http.StatusNotFound)
		if res := c.get(n); res.status != http.StatusSeeOther {
			t.Fatalf("the template page without a template: %d", res.status)
		}
		form := url.Values{"kind": {"reminder"}, "channel": {"sms"}, "language": {"en"}, "text": {"See you {{.When}} at {{.Practice}}!"}, "action": {"preview"}}
		prev := c.post(n, form).want(t, http.StatusOK, "See you ", "See you {{.When}} at {{.Practice}}!")
		if strings.Contains(prev.body, "{{.When}} at {{.Practice}}!</div>") {
			t.Fatal("the preview was not rendered")
		}
		c.get(n+q).want(t, http.StatusOK, en("notify.is_default"))
		form.Set("text", "Hello {{.Nope}}")
		c.post(n, form).want(t, http.StatusUnprocessableEntity, `id="text-error"`)
		form.Set("action", "save")
		c.post(n, form).want(t, http.StatusUnprocessableEntity, `id="text-error"`)
		form.Set("text", "See you {{.When}}.")
		res := c.post(n, form)
		if res.status != http.StatusSeeOther {
			t.Fatalf("save: %d\n%s", res.status, res.body)
		}
		c.get(res.location()).want(t, http.StatusOK, en("notify.template_saved"), en("notify.is_own"), "See you {{.When}}.")
		c.get(a.base()+"/notifications").want(t, http.StatusOK, "(own)")
		form.Set("action", "reset")
		c.post(n, form).want(t, http.StatusSeeOther)
		c.get(n+q).want(t, http.StatusOK, en("notify.is_default"))
		c.post(n, url.Values{"kind": {"nope"}, "channel": {"sms"}, "language": {"en"}, "action": {"save"}}).want(t, http.StatusBadRequest, "<h1>")
	})
}

// failing is a Sender whose every send fails for good.
type failing struct{ ch notify.Channel }

func (f failing) Channel() notify.Channel { return f.ch }
func (f failing) Send(context.Context, notify.Outgoing) (notify.Receipt, error) {
	return notify.Receipt{}, notify.Permanent(errors.New("the number does not exist"))
}

// TestOutboxAndDeadLetters: the outbox lists the practice's messages and
// filters them by status, refusing an unknown one; its reading is in the
// activity log; a message that failed for good is a dead letter, which
// Retry sends again (once: it is no longer dead after).
func TestOutboxAndDeadLetters(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		ctx := context.Background()
		now := a.clock.Now()
		if _, err := st.Notify.Enqueue(ctx, &notify.Message{ID: uuid.New(), PracticeID: a.demo.PracticeID, Key: "test-1", Kind: notify.KindConfirmed,
			Channel: notify.SMS, To: "+12025550100", Text: "Your visit is confirmed.", Language: "en", Status: notify.StatusPending,
			DueAt: now, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		d := a.engine.NewDispatcher(notify.DispatcherConfig{}, failing{notify.SMS}, failing{notify.Email})
		stats, err := d.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
		n := a.base() + "/notifications"
		all := c.get(n+"/outbox").want(t, http.StatusOK, "<h1>Outbox</h1>")
		dead := c.get(n+"/dead-letters").want(t, http.StatusOK, "<h1>Dead letters</h1>")
		ids := regexp.MustCompile(`name="message_id" value="([0-9a-f-]{36})"`).FindAllStringSubmatch(dead.body, -1)
		if len(ids) == 0 {
			t.Fatalf("no dead letter after a failing dispatch (%+v)\n%s", stats, dead.body)
		}
		if !strings.Contains(all.body, "the number does not exist") {
			t.Fatal("the outbox does not show the last error")
		}
		c.get(n+"/outbox?status=dead").want(t, http.StatusOK, `msg-status-dead`)
		if strings.Contains(c.get(n+"/outbox?status=pending").body, "msg-status-dead") {
			t.Fatal("the status filter lets dead letters through")
		}
		c.get(n+"/outbox?status=lost").want(t, http.StatusUnprocessableEntity, `id="status-error"`)
		res := c.post(n+"/retry", url.Values{"message_id": {ids[0][1]}})
		if res.status != http.StatusSeeOther || !strings.HasSuffix(res.location(), "done=retried") {
			t.Fatalf("retry: %d to %q", res.status, res.location())
		}
		c.get(res.location()).want(t, http.StatusOK, en("notify.retried"))
		if strings.Contains(c.get(n+"/dead-letters").body, ids[0][1]) {
			t.Fatal("the retried message is still a dead letter")
		}
		again := c.post(n+"/retry", url.Values{"message_id": {ids[0][1]}})
		if !strings.HasSuffix(again.location(), "done=not_retried") {
			t.Fatalf("a second retry: %d to %q", again.status, again.location())
		}
		entries, err := a.engine.Audit.Query(ctx, a.demo.PracticeID, auditFilter("notify.messages.list"))
		if err != nil || len(entries) == 0 {
			t.Fatalf("reading the outbox is not in the activity log: %v %v", entries, err)
		}
	})
}
