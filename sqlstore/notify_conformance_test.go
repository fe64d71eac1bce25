package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/notify/notifytest"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

func notifyStores(s *sqlstore.Store) notifytest.Stores {
	return notifytest.Stores{Tenants: s.Tenants, Scheduling: s.Scheduling, Notify: s.Notify, Outbox: s.Outbox}
}

func TestNotifyConformanceSQLite(t *testing.T) {
	notifytest.Run(t, func(t *testing.T) notifytest.Stores { return notifyStores(sqltest.SQLite(t)) })
}

func TestNotifyConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	notifytest.Run(t, func(t *testing.T) notifytest.Stores { return notifyStores(sqltest.Postgres(t)) })
}
