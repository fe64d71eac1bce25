package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/identity/identitytest"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
)

func TestIdentityConformanceSQLite(t *testing.T) {
	identitytest.Run(t, func(t *testing.T) (identity.Store, tenant.Store) {
		s := sqltest.SQLite(t)
		return s.Identity, s.Tenants
	})
}

func TestIdentityConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	identitytest.Run(t, func(t *testing.T) (identity.Store, tenant.Store) {
		s := sqltest.Postgres(t)
		return s.Identity, s.Tenants
	})
}
