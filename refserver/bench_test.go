package refserver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// BenchmarkAuthOverhead measures what authentication and authorization add
// to a cheap route: GET …/visit-types of a small SQLite practice through the
// whole handler stack, signed in with a session token behind SessionAuth and
// the route's authorization ("session"), beside the same request in header
// mode, where neither runs ("none"). Both servers share one engine and one
// database, so the difference is the auth work: finding and touching the
// session, loading the account's grants, deciding the route's access.
func BenchmarkAuthOverhead(b *testing.B) {
	ctx := context.Background()
	st := sqltest.SQLite(b)
	eng := carebook.NewWithStore(st, carebook.WithClock(clock.NewFixed(testNow)),
		carebook.WithIdentityConfig(identity.Config{Argon2: fastArgon2}))
	g, err := eng.Tenants.CreateGroup(ctx, "Harbor Health")
	if err != nil {
		b.Fatal(err)
	}
	p, err := eng.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Pediatrics"})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 5 {
		if _, err := eng.Scheduling.CreateVisitType(ctx, p.ID, scheduling.NewVisitType{
			Name: fmt.Sprintf("Visit %d", i), Duration: 30 * time.Minute}); err != nil {
			b.Fatal(err)
		}
	}
	inv, _, err := eng.Identity.CreateInvitation(ctx, p.ID, "admin@example.com", "practice_admin", uuid.Nil)
	if err != nil {
		b.Fatal(err)
	}
	acct, _, err := eng.Identity.AcceptInvitation(ctx, inv, password)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.RBAC.CreateGrant(ctx, &rbac.Grant{ID: uuid.New(), AccountID: acct.ID, RoleID: rbac.PracticeAdminID,
		Scope: rbac.PracticeScope(g.ID, p.ID), CreatedAt: testNow, CreatedBy: "system:bench"}); err != nil {
		b.Fatal(err)
	}
	tok, _, err := eng.Identity.Login(ctx, identity.LoginRequest{Identifier: "admin@example.com", Password: password, Device: "bench"})
	if err != nil {
		b.Fatal(err)
	}

	path := "/api/v1/practices/" + p.ID.String() + "/visit-types"
	for _, c := range []struct {
		name string
		srv  *Server
		set  func(*http.Request)
	}{
		{"session", New(eng, Options{Authenticate: SessionAuth(eng.Identity)}),
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }},
		{"none", New(eng, Options{}),
			func(r *http.Request) { r.Header.Set(ActorHeader, staff) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			serve := func() *httptest.ResponseRecorder {
				r := httptest.NewRequest("GET", path, nil)
				c.set(r)
				w := httptest.NewRecorder()
				c.srv.ServeHTTP(w, r)
				return w
			}
			if w := serve(); w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
			b.ReportAllocs()
			for b.Loop() {
				if w := serve(); w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
