package sqlstore

import (
	"net/url"
	"strings"

	"github.com/carebook/carebook/errs"
	"github.com/jackc/pgx/v5"
)

// DSN is a data source name taken apart by ParseDSN: which database, and
// what its driver needs.
type DSN struct {
	// Dialect is the database: Postgres or SQLite.
	Dialect Dialect
	// Path is the SQLite database file, "" for an in-memory database
	// (":memory:"). It is "" for PostgreSQL.
	Path string
	// Params are the SQLite DSN's query parameters as written, without the
	// "?"; Open passes them to the driver after its own defaults. "" for
	// none, and for PostgreSQL.
	Params string
	// Postgres is pgx's configuration of a PostgreSQL DSN, with queries in
	// pgx's "exec" mode unless the DSN sets default_query_exec_mode. It is
	// nil for SQLite.
	Postgres *pgx.ConnConfig
}

// sqliteDefaults are the driver parameters Open gives every SQLite
// connection, before the DSN's own.
const sqliteDefaults = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(NORMAL)&_txlock=immediate"

// ParseDSN takes dsn apart without connecting:
//
//   - "postgres://..." or "postgresql://..." is PostgreSQL, parsed by pgx
//     (which also reads the PG* environment variables it documents); unless
//     the DSN says otherwise, queries are sent without caching statements
//     (default_query_exec_mode=exec) and the prepared ones run on generic
//     plans (plan_cache_mode=force_generic_plan);
//   - "sqlite:PATH", "file:PATH" or a PATH ending in ".db" is SQLite, with
//     query parameters after a "?"; PATH ":memory:" is an in-memory
//     database.
//
// Its errors are of errs.KindInvalid and name the field "dsn".
func ParseDSN(dsn string) (DSN, error) {
	const op = "sqlstore.ParseDSN"
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return DSN{}, &errs.Error{Kind: errs.KindInvalid, Op: op, Field: "dsn", Msg: "bad PostgreSQL DSN", Err: err}
		}
		if !strings.Contains(dsn, "default_query_exec_mode=") {
			// bun sends each query with its arguments inlined: caching
			// those statements would only cost round trips.
			cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
		}
		if _, ok := cfg.RuntimeParams["plan_cache_mode"]; !ok {
			// Only the prepared hot reads (prepared.go) have parameters:
			// PostgreSQL would plan them anew at each execution (custom
			// plans), which costs a booking more than running them.
			cfg.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
		}
		return DSN{Dialect: Postgres, Postgres: cfg}, nil
	case strings.HasPrefix(dsn, "sqlite:"), strings.HasPrefix(dsn, "file:"), strings.HasSuffix(dsn, ".db"):
		path, params, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:"), "?")
		if path == "" {
			return DSN{}, errs.Invalid(op, "dsn", "SQLite DSN names no file")
		}
		if _, err := url.ParseQuery(params); err != nil {
			return DSN{}, &errs.Error{Kind: errs.KindInvalid, Op: op, Field: "dsn", Msg: "bad SQLite DSN parameters", Err: err}
		}
		if path == ":memory:" {
			path = ""
		}
		return DSN{Dialect: SQLite, Path: path, Params: params}, nil
	default:
		return DSN{}, errs.Invalid(op, "dsn", "DSN is neither postgres:// nor sqlite:, file: or *.db")
	}
}

// InMemory reports whether d is an in-memory SQLite database.
func (d DSN) InMemory() bool { return d.Dialect == SQLite && d.Path == "" }

// String returns the DSN d was parsed from, in a canonical form for SQLite
// ("sqlite:PATH?PARAMS"): ParseDSN(d.String()) is d again. For PostgreSQL
// it is the DSN as given, password included.
func (d DSN) String() string {
	if d.Dialect == Postgres {
		if d.Postgres == nil {
			return ""
		}
		return d.Postgres.ConnString()
	}
	s := "sqlite:" + d.sqlitePath()
	if strings.HasPrefix(d.Path, "file:") {
		// ParseDSN takes one "file:" off after "sqlite:": keep the path's.
		s = "sqlite:file:" + d.Path
	}
	if d.Params != "" {
		s += "?" + d.Params
	}
	return s
}

// sqlitePath is the file the SQLite driver opens: Path, or ":memory:".
func (d DSN) sqlitePath() string {
	if d.Path == "" {
		return ":memory:"
	}
	return d.Path
}

// driverDSN is what Open hands the SQLite driver: the file, Open's
// defaults, then the DSN's parameters.
func (d DSN) driverDSN() string {
	q := sqliteDefaults
	if d.Params != "" {
		q += "&" + d.Params
	}
	return "file:" + d.sqlitePath() + "?" + q
}
