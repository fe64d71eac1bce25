package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
)

// fastArgon2 keeps tests quick; the parameters live in each hash, so the
// rules under test do not depend on them.
var fastArgon2 = identity.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const (
	testPassword = "correct horse battery"
	otherPass    = "another long passphrase"
)

// idEnv is a Service over one fresh database, with its clock and a practice.
type idEnv struct {
	t        testing.TB
	ctx      context.Context
	svc      *identity.Service
	clock    *clock.Fixed
	practice tenant.PracticeID
	store    *sqlstore.Store
}

func newIDEnv(t testing.TB, st *sqlstore.Store, cfg identity.Config) *idEnv {
	t.Helper()
	ctx := context.Background()
	if cfg.Keys == nil {
		cfg.Keys = st.Sealer()
	}
	c := clock.NewFixed(time.Date(2031, time.March, 10, 9, 0, 0, 0, time.UTC))
	ten := tenant.NewService(st.Tenants, c, clock.UUIDv7{})
	g, err := ten.CreateGroup(ctx, "Group")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ten.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Clinic"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Argon2 == (identity.Argon2Params{}) {
		cfg.Argon2 = fastArgon2
	}
	return &idEnv{t: t, ctx: ctx, svc: identity.NewService(st.Identity, c, clock.UUIDv7{}, cfg), clock: c, practice: p.ID, store: st}
}

// staff creates a staff account through an invitation and returns it.
func (e *idEnv) staff(email string) *identity.Account {
	e.t.Helper()
	tok, _, err := e.svc.CreateInvitation(e.ctx, e.practice, email, "front_desk", identity.AccountID{})
	if err != nil {
		e.t.Fatal(err)
	}
	a, _, err := e.svc.AcceptInvitation(e.ctx, tok, testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// patient registers a patient account and returns it.
func (e *idEnv) patient(email string) *identity.Account {
	e.t.Helper()
	a, _, err := e.svc.Register(e.ctx, identity.Registration{PracticeID: e.practice, Email: email, Password: testPassword})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *idEnv) login(id string) (string, *identity.Session, error) {
	return e.svc.Login(e.ctx, identity.LoginRequest{Identifier: id, Password: testPassword, Device: "laptop"})
}

func (e *idEnv) mustLogin(id string) (string, *identity.Session) {
	e.t.Helper()
	tok, s, err := e.login(id)
	if err != nil {
		e.t.Fatalf("Login(%s): %v", id, err)
	}
	return tok, s
}

func (e *idEnv) setPolicy(f func(p *identity.SessionPolicy)) {
	e.t.Helper()
	p := identity.DefaultSessionPolicy
	f(&p)
	if err := e.svc.SetSessionPolicy(e.ctx, e.practice, p); err != nil {
		e.t.Fatal(err)
	}
}

// wantErr fails unless err has kind k (and field, when not "").
func wantErr(t testing.TB, what string, err error, k errs.Kind, field string) {
	t.Helper()
	if err == nil || errs.KindOf(err) != k || (field != "" && errs.FieldOf(err) != field) {
		t.Fatalf("%s: err = %v, want kind %v field %q", what, err, k, field)
	}
}

func TestIdentitySessionExpiry(t *testing.T) {
	for _, c := range []struct {
		name  string
		kind  identity.AccountKind
		steps []time.Duration // clock advances, each followed by Authenticate
		want  bool            // whether the last Authenticate succeeds
	}{
		{"staff just inside idle", identity.Staff, []time.Duration{14*time.Minute + 59*time.Second}, true},
		{"staff idle", identity.Staff, []time.Duration{15 * time.Minute}, false},
		{"staff kept alive", identity.Staff, []time.Duration{10 * time.Minute, 10 * time.Minute, 10 * time.Minute}, true},
		{"staff absolute", identity.Staff, repeat(10*time.Minute, 72), false},
		{"staff just inside absolute", identity.Staff, append(repeat(10*time.Minute, 71), 9*time.Minute), true},
		{"patient just inside idle", identity.Patient, []time.Duration{29 * time.Minute}, true},
		{"patient idle", identity.Patient, []time.Duration{30 * time.Minute}, false},
		{"patient absolute", identity.Patient, repeat(20*time.Minute, 7*24*3), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
			id := "user@example.com"
			if c.kind == identity.Staff {
				e.staff(id)
			} else {
				e.patient(id)
			}
			tok, _ := e.mustLogin(id)
			var err error
			for i, d := range c.steps {
				e.clock.Advance(d)
				_, err = e.svc.Authenticate(e.ctx, tok)
				if i < len(c.steps)-1 && err != nil {
					t.Fatalf("Authenticate after step %d: %v", i, err)
				}
			}
			if got := err == nil; got != c.want {
				t.Fatalf("Authenticate ok = %v (err %v), want %v", got, err, c.want)
			}
			if !c.want {
				wantErr(t, "Authenticate", err, errs.KindUnauthenticated, "")
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestIdentityTouchAtMostOncePerInterval(t *testing.T) {
	e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
	e.patient("p@example.com")
	tok, s := e.mustLogin("p@example.com")
	login := s.LastUsedAt
	e.clock.Advance(30 * time.Second)
	if s, err := e.svc.Authenticate(e.ctx, tok); err != nil || !s.LastUsedAt.Equal(login) {
		t.Fatalf("Authenticate after 30s: last use %v, %v; want unchanged %v", s.LastUsedAt, err, login)
	}
	e.clock.Advance(31 * time.Second)
	s, err := e.svc.Authenticate(e.ctx, tok)
	if err != nil || !s.LastUsedAt.Equal(e.clock.Now()) {
		t.Fatalf("Authenticate after 61s: last use %v, %v; want %v", s.LastUsedAt, err, e.clock.Now())
	}
	list, err := e.svc.ListSessions(e.ctx, s.AccountID)
	if err != nil || len(list) != 1 || !list[0].LastUsedAt.Equal(e.clock.Now()) || list[0].Device != "laptop" {
		t.Fatalf("ListSessions = %+v, %v", list, err)
	}
}

func TestIdentityDeviceLimit(t *testing.T) {
	for _, c := range []struct {
		name    string
		onLimit identity.OnLimit
	}{{"refuse", identity.Refuse}, {"evict", identity.EvictLRU}} {
		t.Run(c.name, func(t *testing.T) {
			e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
			e.setPolicy(func(p *identity.SessionPolicy) { p.Staff.Devices, p.Staff.OnLimit = 3, c.onLimit })
			a := e.staff("s@example.com")
			var toks []string
			for range 3 {
				tok, _ := e.mustLogin("s@example.com")
				toks = append(toks, tok)
				e.clock.Advance(2 * time.Minute)
			}
			// The first session is used again, so the second is the least
			// recently used.
			if _, err := e.svc.Authenticate(e.ctx, toks[0]); err != nil {
				t.Fatal(err)
			}
			tok, _, err := e.login("s@example.com")
			if c.onLimit == identity.Refuse {
				wantErr(t, "4th login", err, errs.KindPreconditionFailed, "device")
			} else if err != nil {
				t.Fatalf("4th login: %v", err)
			}
			list, err := e.svc.ListSessions(e.ctx, a.ID)
			if err != nil || len(list) != 3 {
				t.Fatalf("ListSessions = %d sessions, %v; want 3", len(list), err)
			}
			_, err = e.svc.Authenticate(e.ctx, toks[1])
			if c.onLimit == identity.EvictLRU {
				wantErr(t, "evicted session", err, errs.KindUnauthenticated, "")
				for _, live := range []string{toks[0], toks[2], tok} {
					if _, err := e.svc.Authenticate(e.ctx, live); err != nil {
						t.Fatalf("kept session: %v", err)
					}
				}
			} else if err != nil {
				t.Fatalf("refused login ended a session: %v", err)
			}
		})
	}
}

func TestIdentityLockout(t *testing.T) {
	e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
	e.patient("p@example.com")
	fail := func(n int) {
		t.Helper()
		for i := range n {
			_, _, err := e.svc.Login(e.ctx, identity.LoginRequest{Identifier: "p@example.com", Password: "wrong password!"})
			wantErr(t, fmt.Sprintf("failure %d", i+1), err, errs.KindUnauthenticated, "")
		}
	}
	lockedFor := func(d time.Duration) {
		t.Helper()
		_, _, err := e.login("p@example.com")
		wantErr(t, "login while locked", err, errs.KindRateLimited, "")
		e.clock.Advance(d - time.Second)
		_, _, err = e.login("p@example.com")
		wantErr(t, "login a second before the lock ends", err, errs.KindRateLimited, "")
		e.clock.Advance(time.Second)
	}
	fail(4)
	e.mustLogin("p@example.com") // resets the count
	fail(5)
	lockedFor(15 * time.Minute)
	fail(5)
	lockedFor(30 * time.Minute)
	fail(5)
	lockedFor(time.Hour)
	e.mustLogin("p@example.com") // resets the backoff
	fail(5)
	lockedFor(15 * time.Minute)
	e.mustLogin("p@example.com")
}

func TestIdentityLockoutCap(t *testing.T) {
	e := newIDEnv(t, sqltest.SQLite(t), identity.Config{MaxFailedLogins: 1, LockoutBase: time.Hour, LockoutMax: 3 * time.Hour})
	e.patient("p@example.com")
	for _, d := range []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour, 3 * time.Hour} {
		_, _, err := e.svc.Login(e.ctx, identity.LoginRequest{Identifier: "p@example.com", Password: "wrong password!"})
		wantErr(t, "failure", err, errs.KindUnauthenticated, "")
		e.clock.Advance(d - time.Second)
		_, _, err = e.login("p@example.com")
		wantErr(t, "locked", err, errs.KindRateLimited, "")
		e.clock.Advance(time.Second)
	}
}

func TestIdentityUnknownAccountSameError(t *testing.T) {
	e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
	e.patient("known@example.com")
	var first *errs.Error
	for _, c := range []struct{ name, id, password string }{
		{"wrong password", "known@example.com", "wrong password!"},
		{"unknown email", "unknown@example.com", testPassword},
		{"unknown phone", "+12025550143", testPassword},
		{"malformed", "not an identifier", testPassword},
		{"empty", "", ""},
	} {
		_, _, err := e.svc.Login(e.ctx, identity.LoginRequest{Identifier: c.id, Password: c.password})
		got, ok := errs.As(err)
		if !ok {
			t.Fatalf("%s: err = %v, want an *errs.Error", c.name, err)
		}
		if first == nil {
			first = got
		}
		if got.Kind != errs.KindUnauthenticated || got.Kind != first.Kind || got.Field != first.Field || got.Msg != first.Msg {
			t.Fatalf("%s: err = %#v, want the same as %#v", c.name, got, first)
		}
	}
}

func TestIdentityLoginByPhoneAndCase(t *testing.T) {
	e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
	_, _, err := e.svc.Register(e.ctx, identity.Registration{PracticeID: e.practice, Email: "Mixed@Example.com",
		Phone: "+1 (202) 555-0143", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"mixed@example.com", "MIXED@EXAMPLE.COM", "+12025550143", "+1 202 555 0143"} {
		e.mustLogin(id)
	}
}

func TestIdentityRegisterValidation(t *testing.T) {
	e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
	e.patient("taken@example.com")
	for _, c := range []struct {
		name  string
		in    identity.Registration
		kind  errs.Kind
		field string
	}{
		{"neither email nor phone", identity.Registration{Password: testPassword}, errs.KindInvalid, "email"},
		{"bad email", identity.Registration{Email: "nope", Password: testPassword}, errs.KindInvalid, "email"},
		{"bad phone", identity.Registration{Phone: "555-0143", Password: testPassword}, errs.KindInvalid, "phone"},
		{"short password", identity.Registration{Email: "a@example.com", Password: "elevenchars"}, errs.KindInvalid, "password"},
		{"long password", identity.Registration{Email: "a@example.com", Password: string(make([]byte, 129))}, errs.KindInvalid, "password"},
		{"taken email", identity.Registration{Email: "TAKEN@example.com", Password: testPassword}, errs.KindConflict, "email"},
	} {
		c.in.PracticeID = e.practice
		_, _, err := e.svc.Register(e.ctx, c.in)
		wantErr(t, c.name, err, c.kind, c.field)
	}
	_, _, err := e.svc.Register(e.ctx, identity.Registration{PracticeID: e.practice, Phone: "+12025550143", Password: testPassword})
	if err != nil {
		t.Fatalf("phone-only registration: %v", err)
	}
}

func TestIdentityChangePassword(t *testing.T) {
	e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
	a := e.patient("p@example.com")
	keep, ks := e.mustLogin("p@example.com")
	other1, _ := e.mustLogin("p@example.com")
	other2, _ := e.mustLogin("p@example.com")
	wantErr(t, "wrong old password", e.svc.ChangePassword(e.ctx, a.ID, ks.ID, "wrong password!", otherPass),
		errs.KindUnauthenticated, "old_password")
	wantErr(t, "short new password", e.svc.ChangePassword(e.ctx, a.ID, ks.ID, testPassword, "short"),
		errs.KindInvalid, "new_password")
	if err := e.svc.ChangePassword(e.ctx, a.ID, ks.ID, testPassword, otherPass); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(e.ctx, keep); err != nil {
		t.Fatalf("the changing session: %v", err)
	}
	for _, tok := range []string{other1, other2} {
		_, err := e.svc.Authenticate(e.ctx, tok)
		wantErr(t, "other session", err, errs.KindUnauthenticated, "")
	}
	_, _, err := e.login("p@example.com")
	wantErr(t, "old password", err, errs.KindUnauthenticated, "")
	if _, _, err := e.svc.Login(e.ctx, identity.LoginRequest{Identifier: "p@example.com", Password: otherPass}); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestIdentityLogout(t *testing.T) {
	e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
	a := e.patient("p@example.com")
	b := e.patient("q@example.com")
	t1, _ := e.mustLogin("p@example.com")
	_, s2 := e.mustLogin("p@example.com")
	t3, _ := e.mustLogin("p@example.com")
	_, sb := e.mustLogin("q@example.com")
	if err := e.svc.Logout(e.ctx, t1); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Logout(e.ctx, t1); err != nil {
		t.Fatalf("second logout: %v", err)
	}
	wantErr(t, "Logout(unknown)", e.svc.Logout(e.ctx, "nope"), errs.KindUnauthenticated, "")
	wantErr(t, "RevokeSession(another account's)", e.svc.RevokeSession(e.ctx, a.ID, sb.ID), errs.KindNotFound, "")
	if err := e.svc.RevokeSession(e.ctx, a.ID, s2.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.LogoutEverywhere(e.ctx, a.ID); err != nil || n != 1 {
		t.Fatalf("LogoutEverywhere = %d, %v; want 1", n, err)
	}
	_, err := e.svc.Authenticate(e.ctx, t3)
	wantErr(t, "after LogoutEverywhere", err, errs.KindUnauthenticated, "")
	if list, err := e.svc.ListSessions(e.ctx, b.ID); err != nil || len(list) != 1 {
		t.Fatalf("b's sessions = %v, %v; want 1", list, err)
	}
}

func TestIdentityTOTP(t *testing.T) {
	e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
	a := e.staff("s@example.com")
	enr, err := e.svc.EnrollTOTP(e.ctx, a.ID)
	if err != nil || enr.Secret == "" || enr.URL == "" {
		t.Fatalf("EnrollTOTP = %+v, %v", enr, err)
	}
	code := func() string {
		t.Helper()
		c, err := identity.TOTPCode(enr.Secret, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	_, err = e.svc.ConfirmTOTP(e.ctx, a.ID, "000000")
	wantErr(t, "ConfirmTOTP(wrong)", err, errs.KindInvalid, "code")
	recovery, err := e.svc.ConfirmTOTP(e.ctx, a.ID, code())
	if err != nil || len(recovery) != identity.RecoveryCodeCount {
		t.Fatalf("ConfirmTOTP = %v, %v", recovery, err)
	}
	_, err = e.svc.EnrollTOTP(e.ctx, a.ID)
	wantErr(t, "EnrollTOTP(enabled)", err, errs.KindConflict, "")

	login := func(totp, rec string) error {
		_, _, err := e.svc.Login(e.ctx, identity.LoginRequest{Identifier: "s@example.com", Password: testPassword,
			TOTPCode: totp, RecoveryCode: rec})
		return err
	}
	// The confirming code's step is spent; move to the next one.
	e.clock.Advance(30 * time.Second)
	wantErr(t, "no second factor", login("", ""), errs.KindUnauthenticated, "totp_code")
	wantErr(t, "wrong code", login("123456", ""), errs.KindUnauthenticated, "totp_code")
	c := code()
	if err := login(c, ""); err != nil {
		t.Fatalf("valid code: %v", err)
	}
	wantErr(t, "same code again", login(c, ""), errs.KindUnauthenticated, "totp_code")
	e.clock.Advance(30 * time.Second)
	wantErr(t, "previous step's code after a later one was used", login(c, ""), errs.KindUnauthenticated, "totp_code")
	if err := login(code(), ""); err != nil {
		t.Fatalf("next step's code: %v", err)
	}
	if err := login("", recovery[0]); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	wantErr(t, "recovery code again", login("", recovery[0]), errs.KindUnauthenticated, "recovery_code")
	if err := login("", " "+strings.ToUpper(recovery[1])+" "); err != nil {
		t.Fatalf("recovery code in upper case: %v", err)
	}
	if n, err := e.svc.RecoveryCodesLeft(e.ctx, a.ID); err != nil || n != identity.RecoveryCodeCount-2 {
		t.Fatalf("RecoveryCodesLeft = %d, %v", n, err)
	}
}

func TestIdentityRequireStaffMFA(t *testing.T) {
	e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
	e.setPolicy(func(p *identity.SessionPolicy) { p.RequireStaffMFA = true })
	e.staff("s@example.com")
	e.patient("p@example.com")
	for _, c := range []struct {
		id   string
		want bool
	}{{"s@example.com", true}, {"p@example.com", false}} {
		tok, s := e.mustLogin(c.id)
		if s.NeedsMFAEnrollment != c.want {
			t.Fatalf("%s: NeedsMFAEnrollment = %v, want %v", c.id, s.NeedsMFAEnrollment, c.want)
		}
		if s, err := e.svc.Authenticate(e.ctx, tok); err != nil || s.NeedsMFAEnrollment != c.want {
			t.Fatalf("%s: Authenticate = %+v, %v", c.id, s, err)
		}
	}
}

func TestIdentityTokens(t *testing.T) {
	type tokenKind struct {
		name string
		ttl  time.Duration
		make func(e *idEnv, i int) string
		use  func(e *idEnv, tok string) error
	}
	kinds := []tokenKind{
		{"invitation", 7 * 24 * time.Hour,
			func(e *idEnv, i int) string {
				tok, inv, err := e.svc.CreateInvitation(e.ctx, e.practice, fmt.Sprintf("s%d@example.com", i), "front_desk", identity.AccountID{})
				if err != nil || inv.Role != "front_desk" {
					e.t.Fatalf("CreateInvitation = %+v, %v", inv, err)
				}
				return tok
			},
			func(e *idEnv, tok string) error {
				a, inv, err := e.svc.AcceptInvitation(e.ctx, tok, testPassword)
				if err == nil && (a.Kind != identity.Staff || inv.AccountID == nil || *inv.AccountID != a.ID || a.EmailVerifiedAt == nil) {
					e.t.Fatalf("AcceptInvitation = %+v, %+v", a, inv)
				}
				return err
			}},
		{"verification", 24 * time.Hour,
			func(e *idEnv, i int) string {
				a, tok, err := e.svc.Register(e.ctx, identity.Registration{PracticeID: e.practice,
					Email: fmt.Sprintf("p%d@example.com", i), Password: testPassword})
				if err != nil || a.EmailVerifiedAt != nil || a.Kind != identity.Patient {
					e.t.Fatalf("Register = %+v, %v", a, err)
				}
				return tok
			},
			func(e *idEnv, tok string) error {
				a, err := e.svc.VerifyEmail(e.ctx, tok)
				if err == nil && a.EmailVerifiedAt == nil {
					e.t.Fatalf("VerifyEmail = %+v", a)
				}
				return err
			}},
	}
	for _, k := range kinds {
		for _, c := range []struct {
			name  string
			setup func(e *idEnv, tok string) // before the use under test
			kind  errs.Kind
			field string
		}{
			{"fresh", func(*idEnv, string) {}, 0, ""},
			{"just before expiry", func(e *idEnv, _ string) { e.clock.Advance(k.ttl - time.Second) }, 0, ""},
			{"expired", func(e *idEnv, _ string) { e.clock.Advance(k.ttl) }, errs.KindPreconditionFailed, "token"},
			{"reused", func(e *idEnv, tok string) {
				if err := k.use(e, tok); err != nil {
					e.t.Fatal(err)
				}
			}, errs.KindPreconditionFailed, "token"},
		} {
			t.Run(k.name+"/"+c.name, func(t *testing.T) {
				e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
				tok := k.make(e, 1)
				c.setup(e, tok)
				err := k.use(e, tok)
				if c.kind == 0 {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				wantErr(t, "use", err, c.kind, c.field)
			})
		}
		t.Run(k.name+"/unknown", func(t *testing.T) {
			e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
			wantErr(t, "use", k.use(e, "no-such-token"), errs.KindNotFound, "token")
		})
	}
}

func TestIdentityAPIKeys(t *testing.T) {
	st := sqltest.SQLite(t)
	e := newIDEnv(t, st, identity.Config{})
	other := newIDEnv(t, st, identity.Config{}) // another practice, same database
	key, k, err := e.svc.CreateAPIKey(e.ctx, e.practice, "EHR sync", []string{"appointments.read"}, identity.AccountID{})
	if err != nil || !strings.HasPrefix(key, identity.APIKeyPrefix+k.ID.String()+"_") {
		t.Fatalf("CreateAPIKey = %q, %+v, %v", key, k, err)
	}
	got, err := e.svc.AuthenticateAPIKey(e.ctx, key)
	if err != nil || got.PracticeID != e.practice || len(got.Permissions) != 1 || got.Permissions[0] != "appointments.read" {
		t.Fatalf("AuthenticateAPIKey = %+v, %v", got, err)
	}
	for name, bad := range map[string]string{
		"empty":          "",
		"no prefix":      key[len(identity.APIKeyPrefix):],
		"wrong secret":   key[:len(key)-2] + "xx",
		"unknown id":     identity.APIKeyPrefix + "01900000-0000-7000-8000-000000000000_secret",
		"malformed id":   identity.APIKeyPrefix + "nope_secret",
		"missing secret": identity.APIKeyPrefix + k.ID.String() + "_",
	} {
		_, err := e.svc.AuthenticateAPIKey(e.ctx, bad)
		wantErr(t, name, err, errs.KindUnauthenticated, "")
	}
	wantErr(t, "revoke from another practice", other.svc.RevokeAPIKey(e.ctx, other.practice, k.ID), errs.KindNotFound, "")
	if _, err := e.svc.AuthenticateAPIKey(e.ctx, key); err != nil {
		t.Fatalf("key revoked by another practice: %v", err)
	}
	if err := e.svc.RevokeAPIKey(e.ctx, e.practice, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.AuthenticateAPIKey(e.ctx, key)
	wantErr(t, "revoked key", err, errs.KindUnauthenticated, "")
	if list, err := other.svc.APIKeys(e.ctx, other.practice); err != nil || len(list) != 0 {
		t.Fatalf("other practice's keys = %v, %v", list, err)
	}
}

func TestIdentitySessionPolicyValidation(t *testing.T) {
	e := newIDEnv(t, sqltest.SQLite(t), identity.Config{})
	for _, c := range []struct {
		name  string
		edit  func(p *identity.SessionPolicy)
		field string
	}{
		{"zero idle", func(p *identity.SessionPolicy) { p.Staff.Idle = 0 }, "policy.staff.idle"},
		{"absolute below idle", func(p *identity.SessionPolicy) { p.Patient.Absolute = time.Minute }, "policy.patient.absolute"},
		{"no devices", func(p *identity.SessionPolicy) { p.Staff.Devices = 0 }, "policy.staff.devices"},
		{"unknown on-limit", func(p *identity.SessionPolicy) { p.Patient.OnLimit = "drop" }, "policy.patient.on_limit"},
	} {
		p := identity.DefaultSessionPolicy
		c.edit(&p)
		wantErr(t, c.name, e.svc.SetSessionPolicy(e.ctx, e.practice, p), errs.KindInvalid, c.field)
	}
	if p, err := e.svc.SessionPolicy(e.ctx, e.practice); err != nil || p != identity.DefaultSessionPolicy {
		t.Fatalf("SessionPolicy after refusals = %+v, %v; want the default", p, err)
	}
}

// TestIdentityConcurrentLoginsPostgres has 32 logins of one account race
// for 3 devices under the refuse policy: exactly 3 win.
func TestIdentityConcurrentLoginsPostgres(t *testing.T) {
	e := newIDEnv(t, sqltest.Postgres(t), identity.Config{})
	e.setPolicy(func(p *identity.SessionPolicy) { p.Staff.Devices, p.Staff.OnLimit = 3, identity.Refuse })
	a := e.staff("s@example.com")
	const n = 32
	var (
		wg           sync.WaitGroup
		mu           sync.Mutex
		won, refused int
		unexpected   []error
		start        = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-start
			_, _, err := e.login("s@example.com")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errs.KindOf(err) == errs.KindPreconditionFailed && errs.FieldOf(err) == "device":
				refused++
			default:
				unexpected = append(unexpected, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(unexpected) > 0 || won != 3 || refused != n-3 {
		t.Fatalf("%d won, %d refused, unexpected %v; want 3, %d", won, refused, unexpected, n-3)
	}
	if list, err := e.svc.ListSessions(e.ctx, a.ID); err != nil || len(list) != 3 {
		t.Fatalf("ListSessions = %d, %v; want 3", len(list), err)
	}
}
