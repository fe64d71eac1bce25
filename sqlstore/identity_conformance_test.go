package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/identity/identitytest"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

func TestIdentityConformanceSQLite(t *testing.T) {
	identitytest.Run(t, func(t *testing.T) identity.Store { return sqltest.SQLite(t) })
}

func TestIdentityConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	identitytest.Run(t, func(t *testing.T) identity.Store { return sqltest.Postgres(t) })
}
