package sqlstore

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"
)

// timeLayout is how instants are written: UTC, microseconds, fixed width, so
// that on SQLite (where they are TEXT) string order is time order. PostgreSQL
// parses the same text into timestamptz.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// utcTime is an instant as stored: truncated to the microsecond and in UTC
// both ways.
type utcTime time.Time

// utc converts t for storage.
func utc(t time.Time) utcTime { return utcTime(t.UTC().Truncate(time.Microsecond)) }

// Time returns the instant in UTC.
func (t utcTime) Time() time.Time { return time.Time(t).UTC() }

func (t utcTime) text() string { return time.Time(t).UTC().Format(timeLayout) }

// AppendQuery writes t as a literal: typed timestamptz on PostgreSQL, text on
// SQLite.
func (t utcTime) AppendQuery(gen schema.QueryGen, b []byte) ([]byte, error) {
	b = gen.Dialect().AppendString(b, t.text())
	if gen.Dialect().Name() == dialect.PG {
		b = append(b, "::timestamptz"...)
	}
	return b, nil
}

// Value implements driver.Valuer for use outside bun's formatter.
func (t utcTime) Value() (driver.Value, error) { return t.text(), nil }

// Scan reads a timestamptz (time.Time) or the stored text.
func (t *utcTime) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*t = utcTime(v.UTC())
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	return nil
}

func (t *utcTime) parse(s string) error {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("sqlstore: bad stored time %q: %w", s, err)
	}
	*t = utcTime(v.UTC())
	return nil
}

// optTime converts an optional instant for storage.
func optTime(t *time.Time) *utcTime {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

// timePtr converts an optional stored instant back.
func (t *utcTime) timePtr() *time.Time {
	if t == nil {
		return nil
	}
	v := t.Time()
	return &v
}

// micros is a time.Duration stored as integer microseconds.
type micros int64

func us(d time.Duration) micros { return micros(d / time.Microsecond) }

func (m micros) Duration() time.Duration { return time.Duration(m) * time.Microsecond }

// jsonList is a slice stored as a JSON array (jsonb on PostgreSQL, TEXT on
// SQLite). It always reads back non-nil.
type jsonList[T any] []T

// Value encodes the list; nil is stored as [].
func (l jsonList[T]) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]T(l))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan decodes a JSON array.
func (l *jsonList[T]) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = jsonList[T]{}
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a list", src)
	}
	out := []T{}
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("sqlstore: bad stored list: %w", err)
	}
	*l = out
	return nil
}

// list returns a non-nil copy of s for storage.
func list[T any](s []T) jsonList[T] {
	out := make(jsonList[T], len(s))
	copy(out, s)
	return out
}

// slice returns l as a non-nil slice.
func slice[T any](l jsonList[T]) []T {
	if l == nil {
		return []T{}
	}
	return []T(l)
}
