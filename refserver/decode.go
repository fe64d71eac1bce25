package refserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// DefaultMaxBodyBytes bounds a request body unless Options.MaxBodyBytes says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// DecodeJSON reads r's body, which must be application/json, at most limit
// bytes and exactly one JSON value, into dst, refusing unknown fields and
// what checkJSON refuses. Its errors are *errs.Error naming the field at
// fault: KindUnsupportedMedia for a body of another Content-Type (or of a
// charset other than UTF-8), KindTooLarge past limit, KindInvalid else.
func DecodeJSON(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	const op = "refserver.decode"
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.ContentLength == 0 {
		return errs.Invalid(op, "", "the request body is empty")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if cs, ok := params["charset"]; err != nil || mt != "application/json" || (ok && !strings.EqualFold(cs, "utf-8")) {
		return &errs.Error{Kind: errs.KindUnsupportedMedia, Op: op, Field: "Content-Type",
			Msg: "the request body must be application/json (UTF-8)"}
	}
	if r.ContentLength > limit {
		return &errs.Error{Kind: errs.KindTooLarge, Op: op, Msg: "the request body exceeds " + strconv.FormatInt(limit, 10) + " bytes"}
	}
	return decodeBody(http.MaxBytesReader(w, r.Body, limit), dst)
}

// decodeBody decodes exactly one JSON value from body into dst, refusing
// unknown fields, then checks it with checkJSON.
func decodeBody(body io.Reader, dst any) error {
	const op = "refserver.decode"
	b, err := io.ReadAll(body)
	if err != nil {
		return jsonError(op, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(op, err)
	}
	// Exactly one value: only white space may follow.
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return checkJSON(b)
	case err == nil:
		return errs.Invalid(op, "", "the body must hold exactly one JSON value")
	default:
		return jsonError(op, err)
	}
}

// jsonError turns an error of encoding/json (or of reading the body) into an
// *errs.Error that names the field at fault or the byte offset.
func jsonError(op string, err error) error {
	var (
		syn   *json.SyntaxError
		typ   *json.UnmarshalTypeError
		large *http.MaxBytesError
	)
	switch {
	case errors.As(err, &large):
		return &errs.Error{Kind: errs.KindTooLarge, Op: op, Msg: "the request body exceeds " + strconv.FormatInt(large.Limit, 10) + " bytes", Err: err}
	case errors.As(err, &syn):
		e := errs.Invalid(op, "", "malformed JSON at byte "+strconv.FormatInt(syn.Offset, 10)+": "+syn.Error())
		e.Details = map[string]int64{"offset": syn.Offset}
		return e
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return errs.Invalid(op, "", "the body must be a JSON object")
		}
		return errs.Invalid(op, field, "must be "+jsonKind(typ.Type.String())+", not "+typ.Value)
	case errors.Is(err, io.EOF):
		return errs.Invalid(op, "", "the request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.Invalid(op, "", "malformed JSON: the body ends too soon")
	}
	// encoding/json has no type for an unknown field; its message is fixed.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f, uerr := strconv.Unquote(name)
		if uerr != nil {
			f = name
		}
		return errs.Invalid(op, printable(f), "unknown field")
	}
	return errs.Wrap(errs.KindInvalid, op, "the request body could not be read", err)
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "struct"), strings.Contains(goType, "."):
		return "an object"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "a boolean"
	case goType == "string":
		return "a string"
	}
	return goType
}

// writeJSON answers v as JSON with status. Encoding happens before the header
// is written so a failure can still become a 500.
func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"type":"`+ProblemTypePrefix+`internal","title":"Internal Server Error","status":500,"kind":"internal"}`+"\n")
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// Reply answers v as application/json with status.
func Reply(w http.ResponseWriter, status int, v any) error {
	writeJSON(w, status, "application/json", v)
	return nil
}

// ParseID parses a UUID in canonical form (8-4-4-4-12 hex digits); field
// names the input in errors.
func ParseID(field, s string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, errs.Invalid("refserver.parseID", field, "is required")
	}
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, errs.Invalid("refserver.parseID", field, "must be a UUID such as 0190f0c2-8e3a-7c4d-9b1e-2f3a4b5c6d7e")
	}
	return id, nil
}

// OptID parses an optional UUID: "" gives nil.
func OptID(field, s string) (*uuid.UUID, error) {
	if s == "" {
		return nil, nil
	}
	id, err := ParseID(field, s)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// ParseIDs parses a list of UUIDs, naming field in errors.
func ParseIDs(field string, in []string) ([]uuid.UUID, error) {
	out := make([]uuid.UUID, 0, len(in))
	for _, s := range in {
		id, err := ParseID(field, s)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// pathID parses the path value name of r as a UUID.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	return ParseID(name, r.PathValue(name))
}

// ParseTime parses an RFC 3339 time, naming field in errors. "" is the zero time.
// The time must fall in the years 1 to 9999 in UTC: PostgreSQL has no year
// 0, and JSON (RFC 3339) no year past 9999.
func ParseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errs.Invalid("refserver.parseTime", field, "must be an RFC 3339 time such as 2030-01-31T09:00:00Z")
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return time.Time{}, errs.Invalid("refserver.parseTime", field, "must fall in the years 1 to 9999 (UTC)")
	}
	return t, nil
}

// Minutes converts whole minutes into a duration, refusing values so large
// that they would overflow; the services check the real bounds.
func Minutes(field string, m int64) (time.Duration, error) {
	const max = 100 * 366 * 24 * 60 // a century
	if m > max || m < -max {
		return 0, errs.Invalid("refserver.minutes", field, "is out of range")
	}
	return time.Duration(m) * time.Minute, nil
}

// practiceID parses the {practice} path value.
func practiceID(r *http.Request) (tenant.PracticeID, error) { return pathID(r, "practice") }
