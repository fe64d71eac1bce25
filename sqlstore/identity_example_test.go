package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/tenant"
)

// A patient registers, signs in, and presents the session token on a later
// request; the session ends after 30 idle minutes.
func Example_identityLogin() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "carebook-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "carebook.db"))
	if err != nil {
		panic(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		panic(err)
	}
	clk := clock.NewFixed(time.Date(2031, time.March, 10, 9, 0, 0, 0, time.UTC))
	tenants := tenant.NewService(st.Tenants, clk, clock.UUIDv7{})
	g, _ := tenants.CreateGroup(ctx, "Harbor Health")
	practice, _ := tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Family Clinic"})

	ids := identity.NewService(st.Identity, clk, clock.UUIDv7{}, identity.Config{})
	if _, _, err := ids.Register(ctx, identity.Registration{
		PracticeID: practice.ID, Email: "ana@example.com", Password: "a long passphrase",
	}); err != nil {
		panic(err)
	}

	token, session, err := ids.Login(ctx, identity.LoginRequest{
		Identifier: "ana@example.com", Password: "a long passphrase", Device: "Ana's phone",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("signed in:", session.Kind, "on", session.Device, "until", session.ExpiresAt.Format(time.DateOnly))

	clk.Advance(10 * time.Minute)
	s, err := ids.Authenticate(ctx, token)
	fmt.Println("10 minutes later:", s != nil, err)

	clk.Advance(31 * time.Minute)
	_, err = ids.Authenticate(ctx, token)
	fmt.Println("31 idle minutes later:", err)
	// Output:
	// signed in: patient on Ana's phone until 2031-03-17
	// 10 minutes later: true <nil>
	// 31 idle minutes later: identity.Authenticate: session expired
}
