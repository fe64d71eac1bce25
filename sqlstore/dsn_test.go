package sqlstore_test

import (
	"strings"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/sqlstore"
	"github.com/jackc/pgx/v5"
)

// dsnCases are ParseDSN's table, and the fuzz target's seeds.
var dsnCases = []struct {
	dsn     string
	dialect sqlstore.Dialect // "" for an error
	path    string           // SQLite
	params  string           // SQLite
	host    string           // PostgreSQL
	db      string           // PostgreSQL
	mode    pgx.QueryExecMode
	plans   string // PostgreSQL: plan_cache_mode
	err     string // in the error's text
}{
	{dsn: "postgres://u:pw@db.example:5433/carebook?sslmode=disable", dialect: sqlstore.Postgres, host: "db.example", db: "carebook",
		mode: pgx.QueryExecModeExec, plans: "force_generic_plan"},
	{dsn: "postgresql://u@h/x?default_query_exec_mode=cache_describe&plan_cache_mode=auto", dialect: sqlstore.Postgres, host: "h", db: "x",
		mode: pgx.QueryExecModeCacheDescribe, plans: "auto"},
	{dsn: "postgres://h:notaport/x", err: "bad PostgreSQL DSN"},
	{dsn: "sqlite:/data/x/carebook.db?_pragma=cache_size(-2000)", dialect: sqlstore.SQLite, path: "/data/x/carebook.db",
		params: "_pragma=cache_size(-2000)"},
	{dsn: "sqlite:rel/carebook.db", dialect: sqlstore.SQLite, path: "rel/carebook.db"},
	{dsn: "sqlite:carebook.db?", dialect: sqlstore.SQLite, path: "carebook.db"},
	{dsn: "file:rel/c.sqlite", dialect: sqlstore.SQLite, path: "rel/c.sqlite"},
	{dsn: "sqlite:file:x.db", dialect: sqlstore.SQLite, path: "x.db"},
	{dsn: "file:file:x", dialect: sqlstore.SQLite, path: "file:x"},
	{dsn: "/data/y.db", dialect: sqlstore.SQLite, path: "/data/y.db"},
	{dsn: "a?b.db", dialect: sqlstore.SQLite, path: "a", params: "b.db"},
	{dsn: "sqlite::memory:", dialect: sqlstore.SQLite},
	{dsn: "file::memory:?cache=shared", dialect: sqlstore.SQLite, params: "cache=shared"},
	{dsn: "sqlite:", err: "names no file"},
	{dsn: "sqlite:?mode=ro", err: "names no file"},
	{dsn: "sqlite:x.db?a=%zz", err: "bad SQLite DSN parameters"},
	{dsn: "sqlite:x.db?a=1;b=2", err: "bad SQLite DSN parameters"},
	{dsn: "mysql://x", err: "neither postgres://"},
	{dsn: "x.txt", err: "neither postgres://"},
	{dsn: "", err: "neither postgres://"},
}

func TestParseDSN(t *testing.T) {
	for _, c := range dsnCases {
		t.Run(c.dsn, func(t *testing.T) {
			d, err := sqlstore.ParseDSN(c.dsn)
			if c.err != "" {
				if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "dsn" || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("ParseDSN = %+v, %v; want KindInvalid naming dsn, %q", d, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Dialect != c.dialect || d.Path != c.path || d.Params != c.params {
				t.Fatalf("ParseDSN = %+v; want %s, path %q, params %q", d, c.dialect, c.path, c.params)
			}
			if got, want := d.InMemory(), c.dialect == sqlstore.SQLite && c.path == ""; got != want {
				t.Errorf("InMemory = %v, want %v", got, want)
			}
			switch d.Dialect {
			case sqlstore.Postgres:
				p := d.Postgres
				if p == nil || p.Host != c.host || p.Database != c.db || p.DefaultQueryExecMode != c.mode ||
					p.RuntimeParams["plan_cache_mode"] != c.plans {
					t.Fatalf("pgx config = %+v; want host %q, database %q, mode %v, plan_cache_mode %q", p, c.host, c.db, c.mode, c.plans)
				}
				if d.String() != c.dsn {
					t.Errorf("String = %q, want the DSN given", d.String())
				}
			case sqlstore.SQLite:
				if d.Postgres != nil {
					t.Errorf("a SQLite DSN has a pgx config")
				}
				if again, err := sqlstore.ParseDSN(d.String()); err != nil || again != d {
					t.Errorf("ParseDSN(%q) = %+v, %v; want %+v", d.String(), again, err, d)
				}
			}
		})
	}
}

// FuzzParseDSN checks that ParseDSN never panics, that its errors are
// KindInvalid naming the dsn, and that what it parses agrees with itself:
// a parsed DSN's String parses to the same DSN.
func FuzzParseDSN(f *testing.F) {
	for _, c := range dsnCases {
		f.Add(c.dsn)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		d, err := sqlstore.ParseDSN(dsn)
		if err != nil {
			if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "dsn" {
				t.Fatalf("ParseDSN(%q) error %v: want KindInvalid naming dsn", dsn, err)
			}
			return
		}
		again, err := sqlstore.ParseDSN(d.String())
		if err != nil {
			t.Fatalf("ParseDSN(%q) = %+v, but its String %q: %v", dsn, d, d.String(), err)
		}
		switch d.Dialect {
		case sqlstore.SQLite:
			if d.Postgres != nil || strings.Contains(d.Path, "?") || d.InMemory() != (d.Path == "") {
				t.Fatalf("ParseDSN(%q) = %+v", dsn, d)
			}
			if again != d {
				t.Fatalf("ParseDSN(%q) = %+v; its String %q parses to %+v", dsn, d, d.String(), again)
			}
		case sqlstore.Postgres:
			p, q := d.Postgres, again.Postgres
			if p == nil || d.Path != "" || d.Params != "" || d.InMemory() {
				t.Fatalf("ParseDSN(%q) = %+v", dsn, d)
			}
			if q == nil || p.Host != q.Host || p.Port != q.Port || p.Database != q.Database || p.User != q.User ||
				p.Password != q.Password || p.DefaultQueryExecMode != q.DefaultQueryExecMode {
				t.Fatalf("ParseDSN(%q) = %+v; its String parses to %+v", dsn, p, q)
			}
		default:
			t.Fatalf("ParseDSN(%q) dialect %q", dsn, d.Dialect)
		}
	})
}
