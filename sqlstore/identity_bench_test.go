package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// BenchmarkLogin measures a whole Login on SQLite with OWASP's argon2id
// parameters, beside the baseline of Authenticate (a SHA-256 token check and
// one indexed read) in the same run. The ratio is the cost of a password
// check that an attacker pays per guess.
func BenchmarkLogin(b *testing.B) {
	e := newIDEnv(b, sqltest.SQLite(b), identity.Config{Argon2: identity.OWASPArgon2})
	e.setPolicy(func(p *identity.SessionPolicy) { p.Patient.Devices = 100 })
	e.patient("bench@example.com")
	b.Run("argon2id", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := e.login("bench@example.com"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-token", func(b *testing.B) {
		tok, _ := e.mustLogin("bench@example.com")
		for b.Loop() {
			if _, err := e.svc.Authenticate(e.ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
