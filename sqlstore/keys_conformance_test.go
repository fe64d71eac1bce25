package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/keys/keystest"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

func TestKeysConformanceSQLite(t *testing.T) {
	keystest.Run(t, func(t *testing.T) keys.Store { return sqltest.SQLite(t).Keys })
}

func TestKeysConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	keystest.Run(t, func(t *testing.T) keys.Store { return sqltest.Postgres(t).Keys })
}
