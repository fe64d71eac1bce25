package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/audit/audittest"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

func auditStores(s *sqlstore.Store) audittest.Stores {
	return audittest.Stores{Tenants: s.Tenants, Audit: s.Audit}
}

func TestAuditConformanceSQLite(t *testing.T) {
	audittest.Run(t, func(t *testing.T) audittest.Stores { return auditStores(sqltest.SQLite(t)) })
}

func TestAuditConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	audittest.Run(t, func(t *testing.T) audittest.Stores { return auditStores(sqltest.Postgres(t)) })
}
