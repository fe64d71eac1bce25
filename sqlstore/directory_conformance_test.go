package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/directory/directorytest"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

func TestDirectoryConformanceSQLite(t *testing.T) {
	directorytest.Run(t, func(t *testing.T) directory.Store { return sqltest.SQLite(t).Directory })
}

func TestDirectoryConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	directorytest.Run(t, func(t *testing.T) directory.Store { return sqltest.Postgres(t).Directory })
}
