package sqlstore_test

import (
	"testing"

	"github.com/carebook/carebook/billing/billingtest"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

func billingStores(s *sqlstore.Store) billingtest.Stores {
	return billingtest.Stores{Billing: s.Billing, Tenants: s.Tenants, Patients: s.Scheduling}
}

func TestBillingConformanceSQLite(t *testing.T) {
	billingtest.RunStore(t, func(t *testing.T) billingtest.Stores { return billingStores(sqltest.SQLite(t)) })
}

func TestBillingConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	billingtest.RunStore(t, func(t *testing.T) billingtest.Stores { return billingStores(sqltest.Postgres(t)) })
}

func usageStores(s *sqlstore.Store) billingtest.UsageStores {
	return billingtest.UsageStores{Usage: s.Billing, Tenants: s.Tenants, Patients: s.Scheduling}
}

func TestUsageConformanceSQLite(t *testing.T) {
	billingtest.RunUsage(t, func(t *testing.T) billingtest.UsageStores { return usageStores(sqltest.SQLite(t)) })
}

func TestUsageConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	billingtest.RunUsage(t, func(t *testing.T) billingtest.UsageStores { return usageStores(sqltest.Postgres(t)) })
}

func invoiceStores(s *sqlstore.Store) billingtest.InvoiceStores {
	return billingtest.InvoiceStores{Invoices: s.Billing, UsageStores: usageStores(s)}
}

func TestInvoiceConformanceSQLite(t *testing.T) {
	billingtest.RunInvoices(t, func(t *testing.T) billingtest.InvoiceStores { return invoiceStores(sqltest.SQLite(t)) })
}

func TestInvoiceConformancePostgres(t *testing.T) {
	sqltest.PostgresDSN(t)
	billingtest.RunInvoices(t, func(t *testing.T) billingtest.InvoiceStores { return invoiceStores(sqltest.Postgres(t)) })
}
