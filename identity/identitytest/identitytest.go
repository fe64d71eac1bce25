// Package identitytest is the conformance suite for identity.Store. Every
// storage adapter runs it against each database it supports; an adapter
// that passes keeps every promise made in the doc comment of identity.Store.
//
// The suite needs practices to hang records on. When open also returns a
// tenant.Store over the same database (as sqlstore's Tenants), the suite
// creates them through it; otherwise (nil) it uses fresh random practice
// IDs, and the store must accept them.
package identitytest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Run runs the conformance suite. Each subtest calls open to get a store on
// a fresh, empty, migrated database; open should register its own clean-up
// with t.Cleanup and fail t if it cannot open the store. It may return a
// tenant.Store on the same database, or nil (see the package comment).
func Run(t *testing.T, open func(t *testing.T) (identity.Store, tenant.Store)) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, ts := open(t)
			if st == nil {
				t.Fatal("open returned a nil store")
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			t.Cleanup(cancel)
			c.fn(&env{t: t, ctx: ctx, s: st, ts: ts})
		})
	}
}

var cases = []struct {
	name string
	fn   func(e *env)
}{
	{"Accounts", testAccounts},
	{"AccountUniqueness", testAccountUniqueness},
	{"AccountUpdates", testAccountUpdates},
	{"TOTPStep", testTOTPStep},
	{"RecoveryCodes", testRecoveryCodes},
	{"Sessions", testSessions},
	{"SessionScope", testSessionScope},
	{"SessionPolicy", testSessionPolicy},
	{"Invitations", testInvitations},
	{"Verifications", testVerifications},
	{"APIKeys", testAPIKeys},
	{"TxRollback", testTxRollback},
	{"SingleUseUnderConcurrency", testSingleUse},
}

// env is what one subtest works with.
type env struct {
	t   *testing.T
	ctx context.Context
	s   identity.Store
	ts  tenant.Store // nil: practices are random IDs
	n   int          // counter for unique emails, phones and hashes
}

// t0 is when the suite's records are made: not UTC, so that a store that
// returns times in the caller's zone is caught, and with a microsecond part.
var t0 = time.Date(2031, time.March, 10, 9, 30, 15, 123456000, time.FixedZone("UTC-5", -5*60*60))

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// practice returns a practice ID that the store accepts.
func (e *env) practice() tenant.PracticeID {
	e.t.Helper()
	ts := e.ts
	if ts == nil {
		return newID()
	}
	g := &tenant.Group{ID: newID(), Name: "Group", CreatedAt: t0}
	if err := ts.CreateGroup(e.ctx, g); err != nil {
		e.t.Fatalf("CreateGroup: %v", err)
	}
	p := &tenant.Practice{ID: newID(), GroupID: g.ID, Name: "Practice", Policy: tenant.DefaultPolicy, CreatedAt: t0}
	if err := ts.CreatePractice(e.ctx, p); err != nil {
		e.t.Fatalf("CreatePractice: %v", err)
	}
	return p.ID
}

// hash returns a fresh 32-byte hash.
func (e *env) hash() []byte {
	e.n++
	h := sha256.Sum256(fmt.Appendf(nil, "%s-%d", e.t.Name(), e.n))
	return h[:]
}

// account stores and returns a new staff account with an email and a phone.
func (e *env) account(practice tenant.PracticeID) *identity.Account {
	e.t.Helper()
	e.n++
	a := &identity.Account{
		ID: newID(), Kind: identity.Staff, PracticeID: practice,
		Email: fmt.Sprintf("user%d@example.com", e.n), Phone: fmt.Sprintf("+1202555%04d", e.n),
		PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$a2V5", CreatedAt: t0, UpdatedAt: t0,
	}
	if err := e.s.CreateAccount(e.ctx, a); err != nil {
		e.t.Fatalf("CreateAccount: %v", err)
	}
	return a
}

// session stores and returns a live session of account, last used at used.
func (e *env) session(a *identity.Account, used time.Time) *identity.Session {
	e.t.Helper()
	x := &identity.Session{
		ID: newID(), AccountID: a.ID, Kind: a.Kind, PracticeID: a.PracticeID, TokenHash: e.hash(),
		Device: "phone", IP: "192.0.2.1", UserAgent: "test", CreatedAt: used, LastUsedAt: used,
		IdleTimeout: 15 * time.Minute, IdleExpiresAt: used.Add(15 * time.Minute), ExpiresAt: used.Add(12 * time.Hour),
	}
	if err := e.s.CreateSession(e.ctx, x); err != nil {
		e.t.Fatalf("CreateSession: %v", err)
	}
	return x
}

// wantKind fails unless err is of kind k.
func (e *env) wantKind(what string, err error, k errs.Kind) {
	e.t.Helper()
	if err == nil || errs.KindOf(err) != k {
		e.t.Fatalf("%s: err = %v, want kind %v", what, err, k)
	}
}

// ok fails if err is not nil.
func (e *env) ok(what string, err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// sameTime fails unless got is want's instant, in UTC.
func (e *env) sameTime(what string, got, want time.Time) {
	e.t.Helper()
	if !got.Equal(want) || got.Location() != time.UTC {
		e.t.Fatalf("%s = %v, want %v in UTC", what, got, want.UTC())
	}
}

func testAccounts(e *env) {
	p := e.practice()
	a := e.account(p)
	for name, get := range map[string]func() (*identity.Account, error){
		"GetAccount":     func() (*identity.Account, error) { return e.s.GetAccount(e.ctx, a.ID) },
		"AccountByEmail": func() (*identity.Account, error) { return e.s.AccountByEmail(e.ctx, a.Email) },
		"AccountByPhone": func() (*identity.Account, error) { return e.s.AccountByPhone(e.ctx, a.Phone) },
	} {
		got, err := get()
		e.ok(name, err)
		if got.ID != a.ID || got.Kind != a.Kind || got.PracticeID != p || got.Email != a.Email ||
			got.Phone != a.Phone || got.PasswordHash != a.PasswordHash || got.TOTPEnabled || got.LockedUntil != nil ||
			got.EmailVerifiedAt != nil {
			e.t.Fatalf("%s = %+v, want %+v", name, got, a)
		}
		e.sameTime(name+".CreatedAt", got.CreatedAt, t0)
	}
	_, err := e.s.GetAccount(e.ctx, newID())
	e.wantKind("GetAccount(unknown)", err, errs.KindNotFound)
	_, err = e.s.AccountByEmail(e.ctx, "nobody@example.com")
	e.wantKind("AccountByEmail(unknown)", err, errs.KindNotFound)
	_, err = e.s.AccountByPhone(e.ctx, "+12025559999")
	e.wantKind("AccountByPhone(unknown)", err, errs.KindNotFound)
	// An account without email must not be found by the empty email.
	noEmail := &identity.Account{ID: newID(), Kind: identity.Patient, PracticeID: p, Phone: "+14155550100",
		PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}
	e.ok("CreateAccount(no email)", e.s.CreateAccount(e.ctx, noEmail))
	_, err = e.s.AccountByEmail(e.ctx, "")
	e.wantKind(`AccountByEmail("")`, err, errs.KindNotFound)
	if e.ts != nil {
		bad := &identity.Account{ID: newID(), Kind: identity.Patient, PracticeID: newID(), Email: "x@example.com",
			PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}
		e.wantKind("CreateAccount(unknown practice)", e.s.CreateAccount(e.ctx, bad), errs.KindNotFound)
	}
}

func testAccountUniqueness(e *env) {
	p := e.practice()
	a := e.account(p)
	dupEmail := &identity.Account{ID: newID(), Kind: identity.Patient, PracticeID: p, Email: a.Email,
		PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}
	e.wantKind("CreateAccount(same email)", e.s.CreateAccount(e.ctx, dupEmail), errs.KindConflict)
	dupPhone := &identity.Account{ID: newID(), Kind: identity.Patient, PracticeID: e.practice(), Phone: a.Phone,
		PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}
	e.wantKind("CreateAccount(same phone, other practice)", e.s.CreateAccount(e.ctx, dupPhone), errs.KindConflict)
	// Accounts without a phone (or email) do not collide on the missing one.
	for i := range 2 {
		x := &identity.Account{ID: newID(), Kind: identity.Patient, PracticeID: p,
			Email: fmt.Sprintf("nophone%d@example.com", i), PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}
		e.ok("CreateAccount(no phone)", e.s.CreateAccount(e.ctx, x))
	}
}

func testAccountUpdates(e *env) {
	a := e.account(e.practice())
	at := t0.Add(time.Hour)
	until := t0.Add(2 * time.Hour)
	e.ok("SetLoginState", e.s.SetLoginState(e.ctx, a.ID, identity.LoginState{FailedLogins: 3, Lockouts: 2, LockedUntil: &until}, at))
	e.ok("SetPassword", e.s.SetPassword(e.ctx, a.ID, "new-hash", at))
	e.ok("SetEmailVerified", e.s.SetEmailVerified(e.ctx, a.ID, at))
	e.ok("SetTOTP", e.s.SetTOTP(e.ctx, a.ID, "SECRET", true, 42, at))
	got, err := e.s.GetAccount(e.ctx, a.ID)
	e.ok("GetAccount", err)
	if got.FailedLogins != 3 || got.Lockouts != 2 || got.LockedUntil == nil || got.PasswordHash != "new-hash" ||
		got.EmailVerifiedAt == nil || got.TOTPSecret != "SECRET" || !got.TOTPEnabled || got.TOTPLastStep != 42 {
		e.t.Fatalf("after updates: %+v", got)
	}
	e.sameTime("LockedUntil", *got.LockedUntil, until)
	e.sameTime("EmailVerifiedAt", *got.EmailVerifiedAt, at)
	e.sameTime("UpdatedAt", got.UpdatedAt, at)
	e.ok("SetLoginState(reset)", e.s.SetLoginState(e.ctx, a.ID, identity.LoginState{}, at))
	got, err = e.s.GetAccount(e.ctx, a.ID)
	e.ok("GetAccount", err)
	if got.FailedLogins != 0 || got.Lockouts != 0 || got.LockedUntil != nil {
		e.t.Fatalf("after reset: %+v", got)
	}
	unknown := newID()
	e.wantKind("SetLoginState(unknown)", e.s.SetLoginState(e.ctx, unknown, identity.LoginState{}, at), errs.KindNotFound)
	e.wantKind("SetPassword(unknown)", e.s.SetPassword(e.ctx, unknown, "h", at), errs.KindNotFound)
	e.wantKind("SetEmailVerified(unknown)", e.s.SetEmailVerified(e.ctx, unknown, at), errs.KindNotFound)
	e.wantKind("SetTOTP(unknown)", e.s.SetTOTP(e.ctx, unknown, "", false, 0, at), errs.KindNotFound)
}

func testTOTPStep(e *env) {
	a := e.account(e.practice())
	e.ok("SetTOTP", e.s.SetTOTP(e.ctx, a.ID, "SECRET", true, 100, t0))
	e.wantKind("UseTOTPStep(same as confirmed)", e.s.UseTOTPStep(e.ctx, a.ID, 100), errs.KindConflict)
	e.ok("UseTOTPStep(101)", e.s.UseTOTPStep(e.ctx, a.ID, 101))
	e.wantKind("UseTOTPStep(101 again)", e.s.UseTOTPStep(e.ctx, a.ID, 101), errs.KindConflict)
	e.wantKind("UseTOTPStep(earlier)", e.s.UseTOTPStep(e.ctx, a.ID, 99), errs.KindConflict)
	e.wantKind("UseTOTPStep(unknown)", e.s.UseTOTPStep(e.ctx, newID(), 1), errs.KindNotFound)
}

func testRecoveryCodes(e *env) {
	p := e.practice()
	a, b := e.account(p), e.account(p)
	hashes := [][]byte{e.hash(), e.hash(), e.hash()}
	e.ok("ReplaceRecoveryCodes", e.s.ReplaceRecoveryCodes(e.ctx, a.ID, hashes, t0))
	count := func(want int) {
		e.t.Helper()
		n, err := e.s.CountRecoveryCodes(e.ctx, a.ID)
		e.ok("CountRecoveryCodes", err)
		if n != want {
			e.t.Fatalf("CountRecoveryCodes = %d, want %d", n, want)
		}
	}
	count(3)
	e.wantKind("UseRecoveryCode(other account)", e.s.UseRecoveryCode(e.ctx, b.ID, hashes[0], t0), errs.KindNotFound)
	e.ok("UseRecoveryCode", e.s.UseRecoveryCode(e.ctx, a.ID, hashes[0], t0))
	e.wantKind("UseRecoveryCode(again)", e.s.UseRecoveryCode(e.ctx, a.ID, hashes[0], t0), errs.KindConflict)
	e.wantKind("UseRecoveryCode(unknown)", e.s.UseRecoveryCode(e.ctx, a.ID, e.hash(), t0), errs.KindNotFound)
	count(2)
	fresh := [][]byte{e.hash()}
	e.ok("ReplaceRecoveryCodes(again)", e.s.ReplaceRecoveryCodes(e.ctx, a.ID, fresh, t0))
	count(1)
	e.wantKind("UseRecoveryCode(replaced)", e.s.UseRecoveryCode(e.ctx, a.ID, hashes[1], t0), errs.KindNotFound)
}

func testSessions(e *env) {
	a := e.account(e.practice())
	s1 := e.session(a, t0.Add(2*time.Minute))
	s2 := e.session(a, t0)
	s3 := e.session(a, t0.Add(time.Minute))
	got, err := e.s.SessionByTokenHash(e.ctx, s1.TokenHash)
	e.ok("SessionByTokenHash", err)
	if got.ID != s1.ID || got.AccountID != a.ID || !bytes.Equal(got.TokenHash, s1.TokenHash) || got.Device != "phone" ||
		got.IP != s1.IP || got.UserAgent != s1.UserAgent || got.IdleTimeout != 15*time.Minute || got.RevokedAt != nil ||
		got.Kind != identity.Staff || got.PracticeID != a.PracticeID {
		e.t.Fatalf("SessionByTokenHash = %+v, want %+v", got, s1)
	}
	e.sameTime("LastUsedAt", got.LastUsedAt, s1.LastUsedAt)
	e.sameTime("ExpiresAt", got.ExpiresAt, s1.ExpiresAt)
	_, err = e.s.SessionByTokenHash(e.ctx, e.hash())
	e.wantKind("SessionByTokenHash(unknown)", err, errs.KindNotFound)

	ids := func(now time.Time) []uuid.UUID {
		e.t.Helper()
		live, err := e.s.LiveSessions(e.ctx, a.ID, now)
		e.ok("LiveSessions", err)
		out := []uuid.UUID{}
		for _, x := range live {
			out = append(out, x.ID)
		}
		return out
	}
	same := func(what string, got []uuid.UUID, want ...uuid.UUID) {
		e.t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(append([]uuid.UUID{}, want...)) {
			e.t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
	same("LiveSessions (least recently used first)", ids(t0.Add(3*time.Minute)), s2.ID, s3.ID, s1.ID)
	// s2 is idle past its 15 minutes at t0+15m.
	same("LiveSessions after s2's idle expiry", ids(t0.Add(15*time.Minute)), s3.ID, s1.ID)
	e.ok("TouchSession", e.s.TouchSession(e.ctx, a.ID, s2.ID, t0.Add(10*time.Minute), t0.Add(25*time.Minute)))
	same("LiveSessions after touching s2", ids(t0.Add(15*time.Minute)), s3.ID, s1.ID, s2.ID)
	e.ok("RevokeSession", e.s.RevokeSession(e.ctx, a.ID, s2.ID, t0.Add(16*time.Minute)))
	e.wantKind("RevokeSession(again)", e.s.RevokeSession(e.ctx, a.ID, s2.ID, t0), errs.KindNotFound)
	same("LiveSessions after revoking s2", ids(t0.Add(11*time.Minute)), s3.ID, s1.ID)
	got, err = e.s.SessionByTokenHash(e.ctx, s2.TokenHash)
	e.ok("SessionByTokenHash(revoked)", err)
	if got.RevokedAt == nil {
		e.t.Fatal("revoked session has no RevokedAt")
	}
	e.sameTime("RevokedAt", *got.RevokedAt, t0.Add(16*time.Minute))
	// Absolute expiry: a session touched to stay idle-live still ends.
	e.ok("TouchSession", e.s.TouchSession(e.ctx, a.ID, s1.ID, t0.Add(12*time.Hour), t0.Add(13*time.Hour)))
	same("LiveSessions past absolute expiry", ids(t0.Add(12*time.Hour+3*time.Minute)))
	e.wantKind("TouchSession(unknown)", e.s.TouchSession(e.ctx, a.ID, newID(), t0, t0), errs.KindNotFound)
	n, err := e.s.RevokeSessions(e.ctx, a.ID, s3.ID, t0.Add(5*time.Minute))
	e.ok("RevokeSessions", err)
	if n != 1 { // s1 only: s2 is revoked already, s3 is kept
		e.t.Fatalf("RevokeSessions = %d, want 1", n)
	}
	same("LiveSessions after RevokeSessions", ids(t0.Add(6*time.Minute)), s3.ID)
	n, err = e.s.RevokeSessions(e.ctx, a.ID, uuid.UUID{}, t0.Add(7*time.Minute))
	e.ok("RevokeSessions(all)", err)
	if n != 1 {
		e.t.Fatalf("RevokeSessions(all) = %d, want 1", n)
	}
	if live, err := e.s.LiveSessions(e.ctx, newID(), t0); err != nil || live == nil || len(live) != 0 {
		e.t.Fatalf("LiveSessions(unknown) = %v, %v; want empty, non-nil", live, err)
	}
}

func testSessionScope(e *env) {
	p := e.practice()
	a, b := e.account(p), e.account(p)
	sa := e.session(a, t0)
	sb := e.session(b, t0)
	e.wantKind("RevokeSession(another account's)", e.s.RevokeSession(e.ctx, a.ID, sb.ID, t0), errs.KindNotFound)
	e.wantKind("TouchSession(another account's)", e.s.TouchSession(e.ctx, a.ID, sb.ID, t0, t0), errs.KindNotFound)
	n, err := e.s.RevokeSessions(e.ctx, a.ID, uuid.UUID{}, t0)
	e.ok("RevokeSessions", err)
	if n != 1 {
		e.t.Fatalf("RevokeSessions = %d, want 1", n)
	}
	live, err := e.s.LiveSessions(e.ctx, b.ID, t0)
	e.ok("LiveSessions", err)
	if len(live) != 1 || live[0].ID != sb.ID {
		e.t.Fatalf("b's sessions after revoking a's = %v", live)
	}
	_ = sa
	ghost := &identity.Session{ID: newID(), AccountID: newID(), Kind: identity.Staff, PracticeID: p, TokenHash: e.hash(),
		CreatedAt: t0, LastUsedAt: t0, IdleExpiresAt: t0, ExpiresAt: t0}
	e.wantKind("CreateSession(unknown account)", e.s.CreateSession(e.ctx, ghost), errs.KindNotFound)
}

func testSessionPolicy(e *env) {
	p, q := e.practice(), e.practice()
	_, err := e.s.GetSessionPolicy(e.ctx, p)
	e.wantKind("GetSessionPolicy(unset)", err, errs.KindNotFound)
	pol := identity.SessionPolicy{
		Staff:           identity.SessionLimits{Idle: 5 * time.Minute, Absolute: time.Hour, Devices: 1, OnLimit: identity.Refuse},
		Patient:         identity.SessionLimits{Idle: time.Hour, Absolute: 48 * time.Hour, Devices: 9, OnLimit: identity.EvictLRU},
		RequireStaffMFA: true,
	}
	e.ok("PutSessionPolicy", e.s.PutSessionPolicy(e.ctx, p, pol, t0))
	got, err := e.s.GetSessionPolicy(e.ctx, p)
	e.ok("GetSessionPolicy", err)
	if *got != pol {
		e.t.Fatalf("GetSessionPolicy = %+v, want %+v", *got, pol)
	}
	pol.Staff.Devices, pol.RequireStaffMFA = 2, false
	e.ok("PutSessionPolicy(replace)", e.s.PutSessionPolicy(e.ctx, p, pol, t0))
	got, err = e.s.GetSessionPolicy(e.ctx, p)
	e.ok("GetSessionPolicy", err)
	if *got != pol {
		e.t.Fatalf("GetSessionPolicy after replace = %+v, want %+v", *got, pol)
	}
	_, err = e.s.GetSessionPolicy(e.ctx, q)
	e.wantKind("GetSessionPolicy(other practice)", err, errs.KindNotFound)
}

func testInvitations(e *env) {
	p, q := e.practice(), e.practice()
	inviter := e.account(p)
	inv := &identity.Invitation{ID: newID(), PracticeID: p, Email: "new@example.com", Role: "front_desk",
		InvitedBy: inviter.ID, TokenHash: e.hash(), CreatedAt: t0, ExpiresAt: t0.Add(7 * 24 * time.Hour)}
	e.ok("CreateInvitation", e.s.CreateInvitation(e.ctx, inv))
	got, err := e.s.InvitationByTokenHash(e.ctx, inv.TokenHash)
	e.ok("InvitationByTokenHash", err)
	if got.ID != inv.ID || got.PracticeID != p || got.Email != inv.Email || got.Role != inv.Role ||
		got.InvitedBy != inviter.ID || got.AcceptedAt != nil || got.AccountID != nil {
		e.t.Fatalf("InvitationByTokenHash = %+v, want %+v", got, inv)
	}
	e.sameTime("ExpiresAt", got.ExpiresAt, inv.ExpiresAt)
	_, err = e.s.InvitationByTokenHash(e.ctx, e.hash())
	e.wantKind("InvitationByTokenHash(unknown)", err, errs.KindNotFound)
	acct := newID()
	e.wantKind("AcceptInvitation(other practice)", e.s.AcceptInvitation(e.ctx, q, inv.ID, acct, t0), errs.KindNotFound)
	e.ok("AcceptInvitation", e.s.AcceptInvitation(e.ctx, p, inv.ID, acct, t0.Add(time.Hour)))
	e.wantKind("AcceptInvitation(again)", e.s.AcceptInvitation(e.ctx, p, inv.ID, newID(), t0), errs.KindConflict)
	got, err = e.s.InvitationByTokenHash(e.ctx, inv.TokenHash)
	e.ok("InvitationByTokenHash", err)
	if got.AcceptedAt == nil || got.AccountID == nil || *got.AccountID != acct {
		e.t.Fatalf("accepted invitation = %+v", got)
	}
	e.sameTime("AcceptedAt", *got.AcceptedAt, t0.Add(time.Hour))
}

func testVerifications(e *env) {
	a := e.account(e.practice())
	v := &identity.Verification{TokenHash: e.hash(), AccountID: a.ID, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	e.ok("CreateVerification", e.s.CreateVerification(e.ctx, v))
	got, err := e.s.VerificationByTokenHash(e.ctx, v.TokenHash)
	e.ok("VerificationByTokenHash", err)
	if got.AccountID != a.ID || got.UsedAt != nil || !bytes.Equal(got.TokenHash, v.TokenHash) {
		e.t.Fatalf("VerificationByTokenHash = %+v", got)
	}
	e.sameTime("ExpiresAt", got.ExpiresAt, v.ExpiresAt)
	_, err = e.s.VerificationByTokenHash(e.ctx, e.hash())
	e.wantKind("VerificationByTokenHash(unknown)", err, errs.KindNotFound)
	e.ok("UseVerification", e.s.UseVerification(e.ctx, v.TokenHash, t0.Add(time.Minute)))
	e.wantKind("UseVerification(again)", e.s.UseVerification(e.ctx, v.TokenHash, t0), errs.KindConflict)
	e.wantKind("UseVerification(unknown)", e.s.UseVerification(e.ctx, e.hash(), t0), errs.KindNotFound)
	ghost := &identity.Verification{TokenHash: e.hash(), AccountID: newID(), CreatedAt: t0, ExpiresAt: t0}
	e.wantKind("CreateVerification(unknown account)", e.s.CreateVerification(e.ctx, ghost), errs.KindNotFound)
}

func testAPIKeys(e *env) {
	p, q := e.practice(), e.practice()
	by := newID()
	k1 := &identity.APIKey{ID: newID(), PracticeID: p, Name: "EHR sync", Permissions: []string{"appointments.read", "patients.read"},
		SecretHash: e.hash(), CreatedBy: by, CreatedAt: t0.Add(time.Minute)}
	k2 := &identity.APIKey{ID: newID(), PracticeID: p, Name: "Kiosk", Permissions: nil,
		SecretHash: e.hash(), CreatedBy: by, CreatedAt: t0}
	k3 := &identity.APIKey{ID: newID(), PracticeID: q, Name: "Other", Permissions: []string{"x"},
		SecretHash: e.hash(), CreatedBy: by, CreatedAt: t0}
	for _, k := range []*identity.APIKey{k1, k2, k3} {
		e.ok("CreateAPIKey", e.s.CreateAPIKey(e.ctx, k))
	}
	got, err := e.s.APIKeyByID(e.ctx, k1.ID)
	e.ok("APIKeyByID", err)
	if got.PracticeID != p || got.Name != k1.Name || fmt.Sprint(got.Permissions) != fmt.Sprint(k1.Permissions) ||
		!bytes.Equal(got.SecretHash, k1.SecretHash) || got.CreatedBy != by || got.RevokedAt != nil {
		e.t.Fatalf("APIKeyByID = %+v, want %+v", got, k1)
	}
	_, err = e.s.APIKeyByID(e.ctx, newID())
	e.wantKind("APIKeyByID(unknown)", err, errs.KindNotFound)
	list, err := e.s.ListAPIKeys(e.ctx, p)
	e.ok("ListAPIKeys", err)
	if len(list) != 2 || list[0].ID != k2.ID || list[1].ID != k1.ID || list[0].Permissions == nil {
		e.t.Fatalf("ListAPIKeys = %+v, want k2 then k1, non-nil permissions", list)
	}
	e.wantKind("RevokeAPIKey(other practice)", e.s.RevokeAPIKey(e.ctx, q, k1.ID, t0), errs.KindNotFound)
	e.ok("RevokeAPIKey", e.s.RevokeAPIKey(e.ctx, p, k1.ID, t0.Add(time.Hour)))
	e.wantKind("RevokeAPIKey(again)", e.s.RevokeAPIKey(e.ctx, p, k1.ID, t0), errs.KindNotFound)
	got, err = e.s.APIKeyByID(e.ctx, k1.ID)
	e.ok("APIKeyByID(revoked)", err)
	if got.RevokedAt == nil {
		e.t.Fatal("revoked key has no RevokedAt")
	}
	e.sameTime("RevokedAt", *got.RevokedAt, t0.Add(time.Hour))
	if list, err := e.s.ListAPIKeys(e.ctx, newID()); err != nil || list == nil || len(list) != 0 {
		e.t.Fatalf("ListAPIKeys(unknown) = %v, %v; want empty, non-nil", list, err)
	}
}

func testTxRollback(e *env) {
	a := e.account(e.practice())
	boom := fmt.Errorf("boom")
	err := e.s.InTx(e.ctx, func(ctx context.Context) error {
		if err := e.s.Lock(ctx, a.ID); err != nil {
			return err
		}
		if err := e.s.SetPassword(ctx, a.ID, "rolled-back", t0); err != nil {
			return err
		}
		// A nested call runs in the same transaction.
		return e.s.InTx(ctx, func(ctx context.Context) error {
			if err := e.s.SetEmailVerified(ctx, a.ID, t0); err != nil {
				return err
			}
			return boom
		})
	})
	if err != boom {
		e.t.Fatalf("InTx = %v, want the function's error", err)
	}
	got, err := e.s.GetAccount(e.ctx, a.ID)
	e.ok("GetAccount", err)
	if got.PasswordHash != a.PasswordHash || got.EmailVerifiedAt != nil {
		e.t.Fatalf("after rollback: %+v", got)
	}
}

// testSingleUse runs many concurrent consumers of one recovery code, one
// verification, one invitation and one TOTP step: exactly one of each wins.
func testSingleUse(e *env) {
	p := e.practice()
	a := e.account(p)
	code := e.hash()
	e.ok("ReplaceRecoveryCodes", e.s.ReplaceRecoveryCodes(e.ctx, a.ID, [][]byte{code}, t0))
	v := &identity.Verification{TokenHash: e.hash(), AccountID: a.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	e.ok("CreateVerification", e.s.CreateVerification(e.ctx, v))
	inv := &identity.Invitation{ID: newID(), PracticeID: p, Email: "race@example.com", Role: "r",
		TokenHash: e.hash(), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	e.ok("CreateInvitation", e.s.CreateInvitation(e.ctx, inv))
	e.ok("SetTOTP", e.s.SetTOTP(e.ctx, a.ID, "SECRET", true, 0, t0))
	for name, use := range map[string]func() error{
		"UseRecoveryCode":  func() error { return e.s.UseRecoveryCode(e.ctx, a.ID, code, t0) },
		"UseVerification":  func() error { return e.s.UseVerification(e.ctx, v.TokenHash, t0) },
		"AcceptInvitation": func() error { return e.s.AcceptInvitation(e.ctx, p, inv.ID, newID(), t0) },
		"UseTOTPStep":      func() error { return e.s.UseTOTPStep(e.ctx, a.ID, 7) },
	} {
		const n = 16
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			won, lost int
		)
		for range n {
			wg.Go(func() {
				err := use()
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errs.KindOf(err) == errs.KindConflict:
					lost++
				default:
					e.t.Errorf("%s: %v", name, err)
				}
			})
		}
		wg.Wait()
		if won != 1 || lost != n-1 {
			e.t.Fatalf("%s: %d won, %d lost; want 1 and %d", name, won, lost, n-1)
		}
	}
}
