package web

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/notify"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"
)

// Browser walks of the staff pages, in Chromium.

// says is the English of key, as the browser shows it.
func says(key string) string { return catalogs["en"][key] }

// has reports whether the page has an element matching the CSS selector.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	return get(b, chromedp.Evaluate[bool](`document.querySelector(`+jsString(sel)+`) !== null`))
}

// jsString quotes s for a script.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestBrowserStaffAccess: the front desk opening an administrator's page
// gets a 403 page in words; another practice's page reads as not found;
// a signed-out visitor is sent to sign in and comes back after.
func TestBrowserStaffAccess(t *testing.T) {
	a := newSQLiteApp(t)
	other := a.otherPractice()
	b := a.newBrowser(false)
	b.signIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
	b.open(a.base() + "/staff")
	b.sees("Forbidden")
	b.screenshot("desk-on-staff-403")
	b.open("/p/" + other + "/notifications")
	b.sees("Not Found", "practice not found")
	b.screenshot("other-practice-404")

	anon := a.newBrowser(false)
	anon.open(a.base() + "/activity")
	if got := anon.path(); !strings.HasPrefix(got, "/signin?next=") {
		t.Fatalf("a signed-out visitor is at %s, want the sign-in page", got)
	}
	anon.fill("email", demo.AdminEmail)
	anon.fill("password", a.demo.AdminPassword)
	anon.button(says("signin.submit"))
	if got := anon.path(); got != a.base()+"/activity" {
		t.Fatalf("after signing in the administrator is at %s, want the activity log", got)
	}
	anon.sees(says("activity.title"), "login")
	anon.screenshot("activity-log")
	anon.click(`//a[normalize-space(.)="` + says("activity.verify") + `"]`)
	anon.sees(says("activity.chain_ok_label"))
	anon.screenshot("activity-verify")
}

// TestBrowserInvitation: an administrator invites a front desk clerk
// (with the page's script on), the clerk accepts in another browser,
// lands signed in at the calendar with its link in the navigation, signs
// out and signs in again with the new password.
func TestBrowserInvitation(t *testing.T) {
	a := newSQLiteApp(t)
	admin := a.newBrowser(true)
	admin.signIn(demo.AdminEmail, a.demo.AdminPassword)
	admin.open(a.base() + "/staff")
	admin.fill("email", "new.clerk@example.com")
	admin.choose("role", "front_desk")
	admin.button(says("staff.invite_submit"))
	admin.sees(says("staff.invited"))
	admin.screenshot("staff")
	tok := a.tokens.last("invitation", "new.clerk@example.com")
	if tok == "" {
		t.Fatal("no invitation delivered")
	}

	clerk := a.newBrowser(false)
	clerk.open("/invitations/accept?token=" + url.QueryEscape(tok))
	clerk.sees(says("invite.intro"))
	clerk.fill("password", "clerk's long password")
	clerk.fill("password_again", "clerk's long passwodr")
	clerk.button(says("invite.submit"))
	clerk.sees(says("invite.passwords_differ"))
	clerk.screenshot("invitation-refused")
	clerk.fill("password", "clerk's long password")
	clerk.fill("password_again", "clerk's long password")
	clerk.button(says("invite.submit"))
	if got := clerk.path(); got != a.base()+"/calendar" {
		t.Fatalf("the new clerk is at %s, want the calendar", got)
	}
	clerk.open("/account")
	clerk.sees("new.clerk@example.com")
	if !clerk.has(`header nav a[href="`+a.base()+`/calendar"]`) || clerk.has(`header nav a[href="`+a.base()+`/staff"]`) {
		t.Fatal("the clerk's navigation lacks the calendar link, or has the staff page's")
	}
	clerk.screenshot("clerk-account")
	clerk.button(says("shell.signout"))
	clerk.signIn("new.clerk@example.com", "clerk's long password")
	if got := clerk.path(); got != a.base()+"/calendar" {
		t.Fatalf("signed in again at %s, want the calendar", got)
	}
	admin.open(a.base() + "/staff")
	admin.sees("new.clerk@example.com")
}

// TestBrowserMFA: an administrator enrolls in TOTP: the page shows the
// QR code (a decoded image) and the key; the first code turns it on and
// shows the recovery codes; signing in then asks for the code.
func TestBrowserMFA(t *testing.T) {
	a := newSQLiteApp(t)
	b := a.newBrowser(false)
	b.signIn(demo.AdminEmail, a.demo.AdminPassword)
	b.open("/account")
	b.sees(says("account.sessions"), says("account.mfa_off"))
	b.screenshot("account")
	b.click(`//a[normalize-space(.)="` + says("account.mfa_set_up") + `"]`)
	b.sees(says("mfa.intro"))
	b.button(says("mfa.start"))
	b.sees(says("mfa.scan"), says("mfa.secret_intro"))
	if w := get(b, chromedp.Evaluate[int](`document.querySelector("img.qr").naturalWidth`)); w != qrSize {
		t.Fatalf("the QR code is %d pixels wide, want %d (not decoded?)", w, qrSize)
	}
	b.screenshot("mfa-qr")
	secret := strings.ReplaceAll(get(b, chromedp.Text(chromedp.CSS("code.secret"))), " ", "")
	code, err := totp.GenerateCode(secret, a.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.fill("code", "123")
	b.button(says("mfa.confirm"))
	b.sees(says("mfa.code_refused"))
	if !b.has("img.qr") {
		t.Fatal("the QR code is gone after a wrong code")
	}
	b.fill("code", code)
	b.button(says("mfa.confirm"))
	b.sees(says("mfa.on"), says("mfa.codes_once"))
	b.screenshot("mfa-recovery-codes")

	a.clock.Advance(time.Minute)
	in := a.newBrowser(false)
	in.signIn(demo.AdminEmail, a.demo.AdminPassword)
	in.sees(says("signin.code_needed"))
	in.screenshot("signin-asks-code")
	code, _ = totp.GenerateCode(secret, a.clock.Now())
	in.fill("password", a.demo.AdminPassword)
	in.fill("totp_code", code)
	in.button(says("signin.submit"))
	if got := in.path(); got != a.base()+"/calendar" {
		t.Fatalf("signed in with the code at %s, want the calendar", got)
	}
}

// TestBrowserNotifications: an administrator reads the settings and the
// templates, previews a template's new wording, and sends a dead letter
// again from the dead letters.
func TestBrowserNotifications(t *testing.T) {
	a := newSQLiteApp(t)
	ctx := context.Background()
	now := a.clock.Now()
	for i, to := range []string{"+12025550100", "+12025550101"} {
		if _, err := a.engine.Store().Notify.Enqueue(ctx, &notify.Message{ID: uuid.New(), PracticeID: a.demo.PracticeID, Key: "walk-" + to,
			Kind: notify.KindReminder, Channel: notify.SMS, To: to, Text: "Riverside: reminder of your visit on Thu.", Language: "en",
			Status: notify.StatusPending, DueAt: now.Add(time.Duration(i) * time.Hour), CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	d := a.engine.NewDispatcher(notify.DispatcherConfig{}, failing{notify.SMS})
	if _, err := d.RunOnce(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	b := a.newBrowser(false)
	b.signIn(demo.AdminEmail, a.demo.AdminPassword)
	b.open(a.base() + "/notifications")
	b.sees(says("notify.settings"), says("notify.templates"), "Reminder")
	b.screenshot("notifications")
	b.open(templateHref(a.demo.PracticeID, notify.KindConfirmed, notify.Email, "en"))
	b.sees(says("notify.preview_sample"), "is confirmed for")
	b.fill("text", "Hello {{.Patient.GivenName}}, see you {{.When}}.")
	b.button(says("notify.preview_button"))
	b.sees("see you ")
	if strings.Contains(get(b, chromedp.Text(chromedp.CSS(".preview .message-text"))), "{{") {
		t.Fatal("the preview shows the template, not its rendering")
	}
	b.screenshot("template-preview")
	b.open(a.base() + "/notifications/outbox")
	b.sees("+12025550100", says("notify.status.dead"), says("notify.status.pending"))
	b.screenshot("outbox")
	b.click(`//a[normalize-space(.)="` + says("notify.dead_letters") + `"]`)
	b.sees("+12025550100", "the number does not exist")
	b.screenshot("dead-letters")
	b.button(says("notify.retry"))
	b.sees(says("notify.retried"), says("notify.no_dead"))
}
