package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/carebook/carebook/errs"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// PostgreSQL SQLSTATE codes that are the caller's doing, not an outage.
const (
	pgUniqueViolation     = "23505"
	pgExclusionViolation  = "23P01"
	pgForeignKeyViolation = "23503"
	pgCheckViolation      = "23514"
	// Text PostgreSQL cannot store: NUL (in text, or \u0000 in jsonb) and
	// bytes that are not UTF-8. The server refuses both before they reach a
	// store; these are the second line, for embedders and for what the
	// server does not check.
	pgUntranslatableCharacter  = "22P05"
	pgCharacterNotInRepertoire = "22021"
	// A time outside PostgreSQL's range (such as the year 0).
	pgDatetimeFieldOverflow = "22008"
)

// failure translates a database error of operation op into carebook's
// errors, by SQLSTATE on PostgreSQL and by extended result code on SQLite,
// never by message text:
//
//   - no rows: KindNotFound for what;
//   - unique or exclusion violation: KindConflict;
//   - foreign key violation: KindNotFound (a referenced record is missing);
//   - check violation: KindInvalid;
//   - text PostgreSQL cannot store (NUL, invalid UTF-8), a time outside
//     its range: KindInvalid;
//   - anything else is wrapped with op.
//
// SQLite stores NUL and invalid UTF-8 in text without an error, so it has
// no code to translate for them.
func failure(op, what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errs.NotFound(op, what)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgUniqueViolation:
			return errs.Wrap(errs.KindConflict, op, what+" already exists", err)
		case pgExclusionViolation:
			return errs.Wrap(errs.KindConflict, op, "the time is already taken", err)
		case pgForeignKeyViolation:
			return errs.Wrap(errs.KindNotFound, op, "a record "+what+" refers to was not found", err)
		case pgCheckViolation:
			return errs.Wrap(errs.KindInvalid, op, what+" breaks a rule of the schema", err)
		case pgUntranslatableCharacter, pgCharacterNotInRepertoire:
			return errs.Wrap(errs.KindInvalid, op, what+" holds a NUL character or text that is not UTF-8", err)
		case pgDatetimeFieldOverflow:
			return errs.Wrap(errs.KindInvalid, op, what+" holds a time out of range", err)
		}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return errs.Wrap(errs.KindConflict, op, what+" already exists", err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return errs.Wrap(errs.KindNotFound, op, "a record "+what+" refers to was not found", err)
		case sqlite3.SQLITE_CONSTRAINT_CHECK:
			return errs.Wrap(errs.KindInvalid, op, what+" breaks a rule of the schema", err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// takenConflict is the error of a booking whose hold overlaps another's.
func takenConflict(op, what string) error {
	return errs.Conflict(op, what+" is already taken at that time")
}
