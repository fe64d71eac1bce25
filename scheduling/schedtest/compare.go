package schedtest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/google/uuid"
)

var (
	timeType     = reflect.TypeFor[time.Time]()
	uuidType     = reflect.TypeFor[uuid.UUID]()
	overrideType = reflect.TypeFor[scheduling.Override]()
)

// normalized returns a deep copy of v in which every time is truncated to
// the microsecond and in UTC, every nil slice is empty, and slices of IDs,
// strings and overrides are sorted. The contract gives those slice fields
// (Specialties, LocationIDs, ResourceIDs, ExDates, Overrides) no order, so
// the suite compares them as sets.
func normalized[T any](v T) T {
	c := reflect.New(reflect.TypeOf(&v).Elem()).Elem()
	c.Set(reflect.ValueOf(&v).Elem())
	normalize(c)
	return c.Interface().(T)
}

func normalize(v reflect.Value) {
	if v.Type() == timeType {
		t := v.Interface().(time.Time)
		v.Set(reflect.ValueOf(t.Truncate(time.Microsecond).UTC()))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalize(v.Field(i))
			}
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(v.Elem())
		normalize(c.Elem())
		v.Set(c)
	case reflect.Slice:
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(n, v)
		for i := range n.Len() {
			normalize(n.Index(i))
		}
		switch et := v.Type().Elem(); {
		case et == uuidType, et == overrideType, et.Kind() == reflect.String:
			keys := make([]string, n.Len())
			for i := range keys {
				keys[i] = fmt.Sprint(n.Index(i).Interface())
			}
			swap := reflect.Swapper(n.Interface())
			// Selection sort: the slices are tiny.
			for i := range keys {
				m := i
				for j := i + 1; j < len(keys); j++ {
					if keys[j] < keys[m] {
						m = j
					}
				}
				keys[i], keys[m] = keys[m], keys[i]
				swap(i, m)
			}
		}
		v.Set(n)
	}
}

// shapeProblems lists what in v breaks the contract's shape rules: times
// not in UTC, nil slices.
func shapeProblems(v reflect.Value, path string, out *[]string) {
	if v.Type() == timeType {
		if t := v.Interface().(time.Time); t.Location() != time.UTC {
			*out = append(*out, fmt.Sprintf("%s is in %q, want UTC", path, t.Location()))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				shapeProblems(v.Field(i), path+"."+f.Name, out)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			shapeProblems(v.Elem(), path, out)
		}
	case reflect.Slice:
		if v.IsNil() {
			*out = append(*out, path+" is a nil slice, want non-nil")
		}
		for i := range v.Len() {
			shapeProblems(v.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
}

// checkShape reports times not in UTC and nil slices anywhere in v.
func checkShape(t *testing.T, what string, v any) {
	t.Helper()
	var p []string
	shapeProblems(reflect.ValueOf(v), "", &p)
	if len(p) > 0 {
		t.Errorf("%s: %s", what, strings.Join(p, "; "))
	}
}

// same checks that got is what was stored as want: every field equal, times
// to the microsecond and returned in UTC, slices non-nil.
func same[T any](t *testing.T, what string, got, want *T) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil record", what)
		return
	}
	checkShape(t, what, got)
	assertEqual(t, normalized(want), normalized(got), what)
}

// sameList checks that got holds the records of want, in that order, each
// with every field equal.
func sameList[T any](t *testing.T, what string, got, want []*T) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got a nil slice, want non-nil", what)
	}
	if !assertEqual(t, idsOf(want), idsOf(got), what+": IDs in order") {
		return
	}
	for i := range got {
		same(t, fmt.Sprintf("%s[%d]", what, i), got[i], want[i])
	}
}

// idsOf returns the ID field of each record, as strings for readable diffs.
func idsOf[T any](xs []*T) []string {
	ids := make([]string, 0, len(xs))
	for _, x := range xs {
		if x == nil {
			ids = append(ids, "<nil>")
			continue
		}
		ids = append(ids, reflect.ValueOf(x).Elem().FieldByName("ID").Interface().(uuid.UUID).String())
	}
	return ids
}

// strs returns the IDs of records as idsOf does.
func strs(ids ...uuid.UUID) []string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return s
}

// wantIDs checks that got holds exactly the records with the IDs of want, in
// that order, and is not nil.
func wantIDs[T any](t *testing.T, what string, got []*T, want ...uuid.UUID) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got a nil slice, want non-nil", what)
	}
	assertEqual(t, strs(want...), idsOf(got), what)
}

// wantErrKind checks that err is an *errs.Error of kind k.
func wantErrKind(t *testing.T, what string, err error, k errs.Kind) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: err = nil, want kind %v", what, k)
		return
	}
	if got := errs.KindOf(err); got != k {
		t.Errorf("%s: kind = %v (err: %v), want %v", what, got, err, k)
	}
}

// ids returns the IDs of appointments in the order given.
func ids(as ...*scheduling.Appointment) []uuid.UUID {
	out := make([]uuid.UUID, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

// sortedBy returns xs sorted by the key function, ties broken by ID.
func sortedBy[T any](xs []*T, cmp func(a, b *T) int) []*T {
	s := slices.Clone(xs)
	slices.SortStableFunc(s, func(a, b *T) int {
		if c := cmp(a, b); c != 0 {
			return c
		}
		ia := reflect.ValueOf(a).Elem().FieldByName("ID").Interface().(uuid.UUID)
		ib := reflect.ValueOf(b).Elem().FieldByName("ID").Interface().(uuid.UUID)
		return strings.Compare(ia.String(), ib.String())
	})
	return s
}

// assertEqual reports, and returns false, when got differs from want, naming
// each differing path.
func assertEqual(t *testing.T, want, got any, what string) bool {
	t.Helper()
	if reflect.DeepEqual(want, got) {
		return true
	}
	var d []string
	diff(reflect.ValueOf(want), reflect.ValueOf(got), "", &d)
	if len(d) == 0 {
		d = append(d, fmt.Sprintf("want %+v, got %+v", want, got))
	}
	t.Errorf("%s: differs:\n\t%s", what, strings.Join(d, "\n\t"))
	return false
}

// diff appends a line per path where want and got differ.
func diff(want, got reflect.Value, path string, out *[]string) {
	if !want.IsValid() || !got.IsValid() {
		if want.IsValid() != got.IsValid() {
			*out = append(*out, fmt.Sprintf("%s: want %v, got %v", path, want, got))
		}
		return
	}
	if want.Type() != got.Type() {
		*out = append(*out, fmt.Sprintf("%s: want type %v, got %v", path, want.Type(), got.Type()))
		return
	}
	if want.Type() == timeType || want.Type() == uuidType {
		if !reflect.DeepEqual(want.Interface(), got.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: want %v, got %v", path, want.Interface(), got.Interface()))
		}
		return
	}
	switch want.Kind() {
	case reflect.Pointer:
		if want.IsNil() || got.IsNil() {
			if want.IsNil() != got.IsNil() {
				*out = append(*out, fmt.Sprintf("%s: want %s, got %s", path, show(want), show(got)))
			}
			return
		}
		diff(want.Elem(), got.Elem(), path, out)
	case reflect.Struct:
		for i := range want.NumField() {
			if f := want.Type().Field(i); f.IsExported() {
				diff(want.Field(i), got.Field(i), path+"."+f.Name, out)
			}
		}
	case reflect.Slice:
		if want.Len() != got.Len() {
			*out = append(*out, fmt.Sprintf("%s: want %d elements %s, got %d elements %s", path, want.Len(), show(want), got.Len(), show(got)))
			return
		}
		for i := range want.Len() {
			diff(want.Index(i), got.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	default:
		if !reflect.DeepEqual(want.Interface(), got.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: want %#v, got %#v", path, want.Interface(), got.Interface()))
		}
	}
}

// show formats v for a diff line, dereferencing pointers.
func show(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "nil"
		}
		v = v.Elem()
	}
	return fmt.Sprintf("%+v", v.Interface())
}
