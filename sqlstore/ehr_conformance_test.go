package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/ehr/ehrtest"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

func ehrStores(s *sqlstore.Store) ehrtest.Stores {
	return ehrtest.Stores{EHR: s.EHR, Tenants: s.Tenants, Patients: s.Scheduling}
}

func TestEHRConformanceSQLite(t *testing.T) {
	ehrtest.Run(t, func(t *testing.T) ehrtest.Stores { return ehrStores(sqltest.SQLite(t)) })
}

func TestEHRConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	ehrtest.Run(t, func(t *testing.T) ehrtest.Stores { return ehrStores(sqltest.Postgres(t)) })
}

func exportStores(s *sqlstore.Store) ehrtest.ExportStores {
	return ehrtest.ExportStores{Exports: s.EHR, Stores: ehrStores(s)}
}

func TestExportsConformanceSQLite(t *testing.T) {
	ehrtest.RunExports(t, func(t *testing.T) ehrtest.ExportStores { return exportStores(sqltest.SQLite(t)) })
}

func TestExportsConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	ehrtest.RunExports(t, func(t *testing.T) ehrtest.ExportStores { return exportStores(sqltest.Postgres(t)) })
}
