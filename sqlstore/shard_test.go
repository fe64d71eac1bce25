package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/sqlstore/sqltest"
)

// notDistributed names every table of the PostgreSQL schema that is not
// distributed on practice_id, with why. On Citus these become reference
// tables (copied to every node) or stay on the coordinator; docs/scaling.md
// says which. A table without a practice_id column must be named here, so
// that a new one cannot slip by unexamined.
var notDistributed = map[string]string{
	"carebook_migrations":      "bun's record of applied migrations: one per database, on the coordinator",
	"carebook_migration_locks": "bun's migration lock: one per database, on the coordinator",
	"groups":                   "a group spans its practices; reference table",
	"practices":                "the tenants themselves, read in joins with every tenant table; reference table",
	"accounts":                 "one login per person across practices, found by email or phone alone (unique across practices); practice_id is the home practice",
	"sessions":                 "per account, found by the token alone on every request; practice_id copies the account's home practice",
	"recovery_codes":           "per account, like its login",
	"email_verifications":      "per account, found by the token of an emailed link alone",
	"invitations":              "found by the token of an emailed link, which names no practice; few and rarely written: reference table",
	"api_keys":                 "presented without their practice on every API request and found by ID alone; few and rarely written: reference table",
	"rbac_roles":               "custom roles belong to a group (practice_id NULL) or one of its practices; reference table",
	"rbac_grants":              "grants reach a whole group (practice_id NULL) and are read at every request by account; reference table",
	"notify_webhooks":          "providers' webhook replay memory, keyed by the provider's event ID, which names no practice",
	"billing_events":           "payment providers' webhook events, keyed by the provider's event ID, which names no practice (an event may name no payment of ours)",
	"signup_codes":             "the operator's invitations to sign a clinic up, found by the code alone before any practice exists",
	"billing_plans":            "the operator's plans, shared by every practice; reference table",
	"operator_staff":           "the operator's support staff, outside every practice: one login across all tenants, found by email alone",
	"operator_sessions":        "an operator staff member's sessions, found by the token alone on every request; they belong to no practice",
	"rate_limits":              "the rate limiter's TAT per key, which names a practice, a client address or an account; UNLOGGED, written on every request: distributed on its own key",
}

// crossingFKs names the foreign keys from a table of notDistributed to a
// distributed one, with why they stay for now. A reference table cannot
// refer to a distributed table on Citus: each must become a check in the
// store before the referenced table is distributed.
var crossingFKs = map[string]string{
	"rbac_grants_practice_id_location_id_fkey": "a location grant names an existing location of its practice; " +
		"rbac.Service checks it too, and CreateGrant's KindNotFound rests on it",
}

// TestShardReady reads the migrated PostgreSQL schema and checks what a
// Citus distribution of the tenant tables on practice_id requires: every
// table with a practice_id column (but those named in notDistributed) has it
// NOT NULL and in its primary key, every unique constraint and unique index,
// every exclusion constraint (compared with =), and every foreign key to
// another distributed table, where it must meet the other table's
// practice_id. A table of notDistributed must not refer to a distributed
// one (except by crossingFKs), and every table without practice_id must be
// named in notDistributed.
func TestShardReady(t *testing.T) {
	db := sqltest.Postgres(t).DB()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Tables, and whether each has practice_id NOT NULL or nullable.
	type table struct {
		hasPractice, nullable bool
	}
	tables := map[string]table{}
	rows, err := db.QueryContext(ctx, `
SELECT c.relname, a.attname IS NOT NULL, COALESCE(NOT a.attnotnull, false)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'practice_id' AND NOT a.attisdropped
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`)
	if err != nil {
		t.Fatalf("read tables: %v", err)
	}
	for rows.Next() {
		var name string
		var tb table
		if err := rows.Scan(&name, &tb.hasPractice, &tb.nullable); err != nil {
			t.Fatalf("read tables: %v", err)
		}
		tables[name] = tb
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read tables: %v", err)
	}
	rows.Close()
	if len(tables) < 20 {
		t.Fatalf("read %d tables from the migrated schema, want the whole schema: %v", len(tables), tables)
	}
	distributed := func(name string) bool {
		_, except := notDistributed[name]
		return tables[name].hasPractice && !except
	}

	var offenders []string
	offend := func(format string, args ...any) { offenders = append(offenders, fmt.Sprintf(format, args...)) }
	for name := range notDistributed {
		if _, ok := tables[name]; !ok {
			offend("notDistributed names %s, which the schema does not have", name)
		}
	}
	for name, tb := range tables {
		_, except := notDistributed[name]
		switch {
		case !tb.hasPractice && !except:
			offend("%s has no practice_id and is not named in notDistributed", name)
		case distributed(name) && tb.nullable:
			offend("%s.practice_id may be NULL", name)
		}
	}

	// Keys: primary, unique and exclusion constraints and foreign keys,
	// with their columns in order (an expression's position is empty).
	rows, err = db.QueryContext(ctx, `
SELECT t.relname, con.conname, con.contype, COALESCE(ft.relname, ''),
	array_to_string(ARRAY(SELECT COALESCE(a.attname, '') FROM unnest(con.conkey) WITH ORDINALITY AS k (num, i)
		LEFT JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.i), ',', ''),
	array_to_string(ARRAY(SELECT COALESCE(a.attname, '') FROM unnest(con.confkey) WITH ORDINALITY AS k (num, i)
		LEFT JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.i), ',', ''),
	array_to_string(ARRAY(SELECT o.oprname FROM unnest(con.conexclop) WITH ORDINALITY AS k (op, i)
		JOIN pg_operator o ON o.oid = k.op ORDER BY k.i), ',', '')
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_class ft ON ft.oid = con.confrelid
WHERE n.nspname = current_schema() AND con.contype IN ('p', 'u', 'x', 'f')`)
	if err != nil {
		t.Fatalf("read constraints: %v", err)
	}
	seenFK := map[string]bool{}
	for rows.Next() {
		var tbl, name, kind, ref, cols, refCols, ops string
		if err := rows.Scan(&tbl, &name, &kind, &ref, &cols, &refCols, &ops); err != nil {
			t.Fatalf("read constraints: %v", err)
		}
		c, rc, op := strings.Split(cols, ","), strings.Split(refCols, ","), strings.Split(ops, ",")
		at := slices.Index(c, "practice_id")
		switch {
		case kind == "f" && !distributed(tbl):
			if distributed(ref) {
				if _, ok := crossingFKs[name]; ok {
					seenFK[name] = true
				} else {
					offend("%s: foreign key %s (%s) from a table not distributed to distributed %s", tbl, name, cols, ref)
				}
			}
		case !distributed(tbl):
		case kind == "f":
			if distributed(ref) && (at < 0 || rc[at] != "practice_id") {
				offend("%s: foreign key %s (%s) -> %s (%s) does not match practice_id to practice_id", tbl, name, cols, ref, refCols)
			}
		case kind == "x":
			if at < 0 || op[at] != "=" {
				offend("%s: exclusion constraint %s (%s WITH %s) does not compare practice_id with =", tbl, name, cols, ops)
			}
		case at < 0:
			what := map[string]string{"p": "primary key", "u": "unique constraint"}[kind]
			offend("%s: %s %s (%s) lacks practice_id", tbl, what, name, cols)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read constraints: %v", err)
	}
	rows.Close()
	for name := range crossingFKs {
		if !seenFK[name] {
			offend("crossingFKs names %s, which the schema does not have (or which no longer crosses)", name)
		}
	}

	// Unique indexes that back no constraint, with their key columns
	// (INCLUDE columns are not part of what is unique).
	rows, err = db.QueryContext(ctx, `
SELECT t.relname, i.relname,
	array_to_string(ARRAY(SELECT COALESCE(a.attname, '') FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k (num, i)
		LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.num
		WHERE k.i <= x.indnkeyatts ORDER BY k.i), ',', '')
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = current_schema() AND x.indisunique AND NOT EXISTS (
	SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid)`)
	if err != nil {
		t.Fatalf("read unique indexes: %v", err)
	}
	for rows.Next() {
		var tbl, name, cols string
		if err := rows.Scan(&tbl, &name, &cols); err != nil {
			t.Fatalf("read unique indexes: %v", err)
		}
		if distributed(tbl) && !slices.Contains(strings.Split(cols, ","), "practice_id") {
			offend("%s: unique index %s (%s) lacks practice_id", tbl, name, cols)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read unique indexes: %v", err)
	}
	rows.Close()

	if len(offenders) > 0 {
		sort.Strings(offenders)
		t.Errorf("the schema cannot be distributed on practice_id; %d offenders:\n\t%s",
			len(offenders), strings.Join(offenders, "\n\t"))
	}
}
