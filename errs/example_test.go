package errs_test

import (
	"errors"
	"fmt"

	"github.com/carebook/carebook/errs"
)

// Callers branch on the kind of an error, however deeply it is wrapped;
// anything that is not an *errs.Error is internal.
func ExampleKindOf() {
	err := fmt.Errorf("booking for the front desk: %w",
		errs.Invalid("scheduling.Book", "start", "is in the past"))

	switch errs.KindOf(err) {
	case errs.KindInvalid:
		fmt.Printf("fix field %q: %v\n", errs.FieldOf(err), err)
	case errs.KindConflict:
		fmt.Println("pick another time")
	}
	fmt.Println(errs.KindOf(errors.New("disk full")))
	// Output:
	// fix field "start": booking for the front desk: scheduling.Book: start: is in the past
	// internal
}
