package sqlstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// TestTOTPSecretSealedAtRest checks that the stored TOTP secret is sealed
// by the store's keys (the column does not hold it) and still works; that
// a secret stored in clear by an earlier release keeps working and is
// sealed at its next sign-in; and that a sealed secret copied to another
// account does not open there (a clear refusal, not a crash).
func TestTOTPSecretSealedAtRest(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		e := newIDEnv(t, st, identity.Config{Keys: st.Sealer()})
		column := func(a *identity.Account) string {
			t.Helper()
			var s string
			if err := st.DB().NewSelect().Table("accounts").Column("totp_secret").Where("id = ?", a.ID).Scan(e.ctx, &s); err != nil {
				t.Fatal(err)
			}
			return s
		}
		code := func(secret string) string {
			t.Helper()
			c, err := identity.TOTPCode(secret, e.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		login := func(email, secret string) {
			t.Helper()
			e.clock.Advance(time.Minute) // a fresh time step
			if _, _, err := e.svc.Login(e.ctx, identity.LoginRequest{Identifier: email, Password: testPassword, TOTPCode: code(secret)}); err != nil {
				t.Fatalf("Login: %v", err)
			}
		}

		a := e.staff("sealed@example.com")
		en, err := e.svc.EnrollTOTP(e.ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c := column(a); !strings.HasPrefix(c, "tink:v1:") || strings.Contains(c, en.Secret) {
			t.Fatalf("stored secret after enrollment = %q, want it sealed", c)
		}
		if _, err := e.svc.ConfirmTOTP(e.ctx, a.ID, code(en.Secret)); err != nil {
			t.Fatal(err)
		}
		login("sealed@example.com", en.Secret)
		if c := column(a); !strings.HasPrefix(c, "tink:v1:") || strings.Contains(c, en.Secret) {
			t.Fatalf("stored secret after sign-in = %q, want it sealed", c)
		}

		// A row from before keys: in clear, enabled.
		b := e.staff("legacy@example.com")
		const clear = "JBSWY3DPEHPK3PXP"
		if err := st.Identity.SetTOTP(e.ctx, b.ID, clear, true, 0, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		login("legacy@example.com", clear)
		if c := column(b); !strings.HasPrefix(c, "tink:v1:") || strings.Contains(c, clear) {
			t.Fatalf("legacy secret after sign-in = %q, want it sealed", c)
		}
		login("legacy@example.com", clear)
		// The step just used is still refused: sealing kept it.
		_, _, err = e.svc.Login(e.ctx, identity.LoginRequest{Identifier: "legacy@example.com", Password: testPassword, TOTPCode: code(clear)})
		wantErr(t, "Login(same step)", err, errs.KindUnauthenticated, "totp_code")

		// a's sealed secret copied onto c's row is refused at c's sign-in.
		c := e.staff("copied@example.com")
		if err := st.Identity.SetTOTP(e.ctx, c.ID, column(a), true, 0, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		_, _, err = e.svc.Login(e.ctx, identity.LoginRequest{Identifier: "copied@example.com", Password: testPassword, TOTPCode: code(en.Secret)})
		if errs.KindOf(err) != errs.KindConflict || !strings.Contains(err.Error(), "accounts.totp_secret of row "+c.ID.String()) {
			t.Errorf("Login with a secret copied from another account = %v, want KindConflict naming the row", err)
		}
	})
}
