package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/rbac/rbactest"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

func TestRBACConformanceSQLite(t *testing.T) {
	rbactest.Run(t, func(t *testing.T) rbac.Store { return sqltest.SQLite(t) })
}

func TestRBACConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	rbactest.Run(t, func(t *testing.T) rbac.Store { return sqltest.Postgres(t) })
}
