package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/rbac/rbactest"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
)

func TestRBACConformanceSQLite(t *testing.T) {
	rbactest.Run(t, func(t *testing.T) (rbac.Store, tenant.Store) {
		s := sqltest.SQLite(t)
		return s.RBAC, s.Tenants
	})
}

func TestRBACConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	rbactest.Run(t, func(t *testing.T) (rbac.Store, tenant.Store) {
		s := sqltest.Postgres(t)
		return s.RBAC, s.Tenants
	})
}
