package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/scheduling/schedtest"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

func TestServiceSQLite(t *testing.T) {
	schedtest.RunService(t, func(t *testing.T) schedtest.Stores { return stores(sqltest.SQLite(t)) })
}

func TestServicePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	schedtest.RunService(t, func(t *testing.T) schedtest.Stores { return stores(sqltest.Postgres(t)) })
}
