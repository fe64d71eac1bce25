package sqlstore

import (
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestFailureTranslatesByCode checks the SQLSTATE codes failure translates,
// whatever the message says.
func TestFailureTranslatesByCode(t *testing.T) {
	for code, want := range map[string]errs.Kind{
		"23505": errs.KindConflict,
		"23P01": errs.KindConflict,
		"23503": errs.KindNotFound,
		"23514": errs.KindInvalid,
		"22P05": errs.KindInvalid,
		"22021": errs.KindInvalid,
		"22008": errs.KindInvalid,
		"42601": errs.KindInternal, // a syntax error is the server's bug
		"57P01": errs.KindInternal,
	} {
		err := failure("op", "thing", &pgconn.PgError{Code: code, Message: "unique violation"})
		if got := errs.KindOf(err); got != want {
			t.Errorf("SQLSTATE %s: kind %v, want %v", code, got, want)
		}
	}
}
