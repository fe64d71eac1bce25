package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/files/filestest"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

func TestFilesConformanceSQLite(t *testing.T) {
	filestest.Run(t, func(t *testing.T) filestest.Stores {
		s := sqltest.SQLite(t)
		return filestest.Stores{Meta: s.Files, Tenants: s.Tenants, Patients: s.Scheduling}
	})
}

func TestFilesConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	filestest.Run(t, func(t *testing.T) filestest.Stores {
		s := sqltest.Postgres(t)
		return filestest.Stores{Meta: s.Files, Tenants: s.Tenants, Patients: s.Scheduling}
	})
}
