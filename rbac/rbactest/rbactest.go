// Package rbactest is the conformance suite for rbac.Store, and through the
// rbac.Service it drives, for carebook's authorization rules: the matrix of
// every permission by every built-in role over every kind of scope, no
// privilege escalation, tenant isolation and API-key principals. Every
// storage adapter runs it against each database it supports.
package rbactest

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// testCase is one subtest of the suite.
type testCase struct {
	name string
	fn   func(e *env)
}

// Run runs the conformance suite. Each subtest calls open to get a Store on
// a fresh, empty, migrated database; open should register its own clean-up
// with t.Cleanup and fail t if it cannot open the store. It returns a
// tenant.Store on the same database too (as sqlstore's Tenants), through
// which the suite creates the groups, practices and locations it needs.
func Run(t *testing.T, open func(t *testing.T) (rbac.Store, tenant.Store)) {
	t.Helper()
	var all []testCase
	all = append(all, storeCases...)
	all = append(all, matrixCases...)
	all = append(all, escalationCases...)
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) {
			st, ten := open(t)
			c.fn(newEnv(t, st, ten))
		})
	}
}

// env is what one subtest works with.
type env struct {
	t   *testing.T
	ctx context.Context // carries the acting actor
	st  rbac.Store
	ten tenant.Store
	svc *rbac.Service
	clk *clock.Fixed
}

// testTimeout bounds each subtest, so that a deadlocked store fails.
const testTimeout = 2 * time.Minute

// who is the actor the suite acts as.
var who = actor.Actor{Kind: actor.Staff, ID: "rbactest"}

func newEnv(t *testing.T, st rbac.Store, ten tenant.Store) *env {
	t.Helper()
	if st == nil || ten == nil {
		t.Fatal("open returned a nil store")
	}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	clk := clock.NewFixed(time.Date(2031, time.January, 2, 3, 4, 5, 123456000, time.UTC))
	return &env{
		t:   t,
		ctx: actor.With(ctx, who),
		st:  st,
		ten: ten,
		svc: rbac.NewService(st, ten, clk, clock.UUIDv7{}),
		clk: clk,
	}
}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// ok fails the test at once if err is not nil.
func (e *env) ok(err error, what string) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// wantKind checks that err is an *errs.Error of kind k.
func (e *env) wantKind(what string, err error, k errs.Kind) {
	e.t.Helper()
	if err == nil {
		e.t.Errorf("%s: err = nil, want kind %v", what, k)
		return
	}
	if got := errs.KindOf(err); got != k {
		e.t.Errorf("%s: kind = %v (err: %v), want %v", what, got, err, k)
	}
}

// wantField checks that err is KindInvalid naming field.
func (e *env) wantField(what string, err error, field string) {
	e.t.Helper()
	e.wantKind(what, err, errs.KindInvalid)
	if got := errs.FieldOf(err); err != nil && got != field {
		e.t.Errorf("%s: field = %q (err: %v), want %q", what, got, err, field)
	}
}

func (e *env) group(name string) tenant.GroupID {
	e.t.Helper()
	g := &tenant.Group{ID: newID(), Name: name, CreatedAt: e.clk.Now()}
	e.ok(e.ten.CreateGroup(e.ctx, g), "CreateGroup")
	return g.ID
}

func (e *env) practice(group tenant.GroupID, name string) tenant.PracticeID {
	e.t.Helper()
	p := &tenant.Practice{ID: newID(), GroupID: group, Name: name, Policy: tenant.DefaultPolicy, CreatedAt: e.clk.Now()}
	e.ok(e.ten.CreatePractice(e.ctx, p), "CreatePractice")
	return p.ID
}

func (e *env) location(practice tenant.PracticeID, name string) tenant.LocationID {
	e.t.Helper()
	l := &tenant.Location{
		ID: newID(), PracticeID: practice, Name: name, TimeZone: "America/New_York",
		Address:   tenant.Address{Line1: "1 Main St", City: "Springfield", Country: "US"},
		CreatedAt: e.clk.Now(),
	}
	e.ok(e.ten.CreateLocation(e.ctx, l), "CreateLocation")
	return l.ID
}

// bootstrap stores a grant directly, as a sign-up flow would for the first
// administrator, and returns the account's principal.
func (e *env) bootstrap(role rbac.RoleID, sc rbac.Scope) (rbac.AccountID, rbac.Principal) {
	e.t.Helper()
	account := newID()
	g := &rbac.Grant{ID: newID(), AccountID: account, RoleID: role, Scope: sc, CreatedAt: e.clk.Now(), CreatedBy: "system:signup"}
	e.ok(e.st.CreateGrant(e.ctx, g), "CreateGrant(bootstrap)")
	return account, e.principal(account)
}

// principal loads account's principal through the Service.
func (e *env) principal(account rbac.AccountID) rbac.Principal {
	e.t.Helper()
	p, err := e.svc.Principal(e.ctx, account)
	e.ok(err, "Principal")
	return p
}

// grant has by grant role to a fresh account at sc, and returns the
// account and its principal.
func (e *env) grant(by rbac.Principal, role rbac.RoleID, sc rbac.Scope) (rbac.AccountID, rbac.Principal) {
	e.t.Helper()
	account := newID()
	_, err := e.svc.Grant(e.ctx, by, rbac.NewGrant{AccountID: account, RoleID: role, Scope: sc})
	e.ok(err, "Grant")
	return account, e.principal(account)
}
