package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/scheduling/schedtest"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

func stores(s *sqlstore.Store) schedtest.Stores {
	return schedtest.Stores{Tenants: s.Tenants, Scheduling: s.Scheduling}
}

func TestConformanceSQLite(t *testing.T) {
	schedtest.Run(t, func(t *testing.T) schedtest.Stores { return stores(sqltest.SQLite(t)) })
}

func TestConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	schedtest.Run(t, func(t *testing.T) schedtest.Stores { return stores(sqltest.Postgres(t)) })
}
