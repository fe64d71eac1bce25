package sqltest

import (
	"context"
	"strconv"
	"testing"

	"github.com/carebook/carebook/sqlstore"
)

// RowCounts counts the rows of every table of st's database, by table
// name, as its catalog lists them (sqlite_master on SQLite, the current
// schema's base tables in information_schema on PostgreSQL): what a test
// compares before and after an operation that must write nothing.
func RowCounts(t testing.TB, st *sqlstore.Store) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if st.Dialect() == sqlstore.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	var names []string
	if err := st.DB().NewRaw(q).Scan(ctx, &names); err != nil {
		t.Fatalf("the catalog's tables: %v", err)
	}
	if len(names) == 0 {
		t.Fatal("the catalog lists no table")
	}
	out := make(map[string]int64, len(names))
	for _, n := range names {
		var c int64
		if err := st.DB().NewRaw(`SELECT count(*) FROM `+strconv.Quote(n)).Scan(ctx, &c); err != nil {
			t.Fatalf("counting %s: %v", n, err)
		}
		out[n] = c
	}
	return out
}
