package carebook_test

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// fastArgon2 keeps password hashing cheap in tests; hashes carry their own
// parameters, so nothing else depends on it.
var fastArgon2 = identity.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// TestEngineWiresIdentityRBACAndAudit checks that an Engine on SQLite gives
// working identity, rbac and audit services over its one store, on its clock.
func TestEngineWiresIdentityRBACAndAudit(t *testing.T) {
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.System, ID: "test"})
	now := time.Date(2030, 3, 4, 15, 0, 0, 0, time.UTC)
	clk := clock.NewFixed(now)
	e := carebook.NewWithStore(sqltest.SQLite(t), carebook.WithClock(clk),
		carebook.WithIdentityConfig(identity.Config{Argon2: fastArgon2}))
	if e.Identity == nil || e.RBAC == nil || e.Audit == nil {
		t.Fatalf("Identity, RBAC, Audit = %v, %v, %v; want all set", e.Identity, e.RBAC, e.Audit)
	}
	g, err := e.Tenants.CreateGroup(ctx, "Harbor Health")
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Pediatrics"})
	if err != nil {
		t.Fatal(err)
	}

	// Identity: register, then log in on the engine's clock.
	acct, _, err := e.Identity.Register(ctx, identity.Registration{PracticeID: p.ID, Email: "ada@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	tok, sess, err := e.Identity.Login(ctx, identity.LoginRequest{Identifier: "ada@example.com", Password: "correct horse battery", Device: "laptop"})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if sess.AccountID != acct.ID || !sess.CreatedAt.Equal(now) {
		t.Errorf("session = account %v created %v, want %v at %v", sess.AccountID, sess.CreatedAt, acct.ID, now)
	}
	if got, err := e.Identity.Authenticate(ctx, tok); err != nil || got.ID != sess.ID {
		t.Fatalf("Authenticate = %v, %v; want session %v", got, err, sess.ID)
	}

	// RBAC: a bootstrapped practice admin grants front desk; the grantee may
	// then book but not read charts.
	admin := uuid.New()
	if err := e.Store().RBAC.CreateGrant(ctx, &rbac.Grant{ID: uuid.New(), AccountID: admin, RoleID: rbac.PracticeAdminID,
		Scope: rbac.PracticeScope(g.ID, p.ID), CreatedAt: now, CreatedBy: "system:test"}); err != nil {
		t.Fatal(err)
	}
	ap, err := e.RBAC.Principal(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.RBAC.Grant(ctx, ap, rbac.NewGrant{AccountID: acct.ID, RoleID: rbac.FrontDeskID, Scope: rbac.PracticeScope(uuid.Nil, p.ID)}); err != nil {
		t.Fatalf("Grant: %v", err)
	}
	desk, err := e.RBAC.Principal(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	here := rbac.Target{GroupID: g.ID, PracticeID: p.ID}
	if err := e.RBAC.Authorize(ctx, desk, rbac.AppointmentBook, here); err != nil {
		t.Errorf("Authorize(appointment.book) = %v, want nil", err)
	}
	if err := e.RBAC.Authorize(ctx, desk, rbac.PatientClinicalRead, here); err == nil {
		t.Error("Authorize(patient.clinical.read) = nil, want forbidden")
	}

	// Audit: append, read back, verify the chain.
	ent, err := e.Audit.Record(ctx, audit.Entry{PracticeID: p.ID, Actor: acct.ID.String(), Action: "login", Outcome: audit.Allowed})
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	if ent.Seq != 1 || !ent.At.Equal(now) {
		t.Errorf("entry seq %d at %v, want 1 at %v", ent.Seq, ent.At, now)
	}
	got, err := e.Audit.Query(ctx, p.ID, audit.Filter{})
	if err != nil || len(got) != 1 || got[0].Action != "login" {
		t.Fatalf("Query = %v, %v; want the one login entry", got, err)
	}
	if b, err := e.Audit.Verify(ctx, p.ID); err != nil || b != nil {
		t.Fatalf("Verify = %v, %v; want a whole chain", b, err)
	}
}
