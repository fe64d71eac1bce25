package refserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/carebook/carebook/errs"
)

// Text inputs. PostgreSQL cannot store the NUL character in text, and no
// store should keep what is not UTF-8, so the server refuses both where
// input is decoded, once for every route, with a 400 naming the input:
//
//   - JSON bodies: checkJSON, which decodeBody runs on every body it
//     accepts, names the member by its JSON path ("reason",
//     "address.line1"; the elements of an array are named by the array's
//     member);
//   - path values and query parameters: checkRequestText, which
//     Server.api runs before authorization and the handler, names the
//     path value or the parameter.
//
// JSON bodies are held to I-JSON (RFC 7493) where encoding/json is lax:
//
//   - a string, member names included, must be valid UTF-8 and hold no NUL
//     (\u0000) and no unpaired surrogate escape (\ud800). encoding/json
//     would silently replace invalid UTF-8 and lone surrogates by U+FFFD,
//     storing something the client did not send, so they are refused
//     instead;
//   - an object must not name a member twice. Names are compared the way
//     encoding/json matches them to fields, without regard to case, since
//     "status" and "Status" would fill the same field and the last would
//     silently win.

// textFault says what is wrong with a path value or a query parameter, or
// "" if nothing is.
func textFault(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "must not hold a NUL character"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	return ""
}

// checkRequestText refuses a request whose path values or query
// parameters (names or values) textFault finds fault with, naming the
// first at fault: path values in the order of the route's pattern, then
// query parameters by name.
func checkRequestText(r *http.Request) error {
	const op = "refserver.text"
	for _, name := range wildcards(r.Pattern) {
		if msg := textFault(r.PathValue(name)); msg != "" {
			return errs.Invalid(op, name, msg)
		}
	}
	q := r.URL.Query()
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if msg := textFault(name); msg != "" {
			return errs.Invalid(op, printable(name), "the name of a query parameter "+msg)
		}
		for _, v := range q[name] {
			if msg := textFault(v); msg != "" {
				return errs.Invalid(op, name, msg)
			}
		}
	}
	return nil
}

// wildcards returns the names of the wildcards of a ServeMux pattern
// ("GET /a/{b}/{c...}" gives b and c).
func wildcards(pattern string) []string {
	var out []string
	for _, seg := range strings.Split(pattern, "/") {
		name, ok := strings.CutPrefix(seg, "{")
		if !ok {
			continue
		}
		name = strings.TrimSuffix(strings.TrimSuffix(name, "}"), "...")
		if name != "" && name != "$" {
			out = append(out, name)
		}
	}
	return out
}

// printable is s fit to name an input in a problem document: invalid UTF-8
// becomes U+FFFD and NUL the six characters \u0000.
func printable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", `\u0000`)
}

// jsonFrame is an object or an array checkJSON is inside of.
type jsonFrame struct {
	object  bool
	path    string            // the JSON path of the container
	key     string            // objects: the member being read
	wantKey bool              // objects: a member name comes next
	names   map[string]string // objects: folded names seen => as sent
}

// member returns the JSON path of the value being read inside f.
func (f *jsonFrame) member() string {
	switch {
	case f == nil:
		return ""
	case !f.object:
		return f.path
	}
	return joinPath(f.path, f.key)
}

// joinPath is the JSON path of the member key of the object at path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkJSON walks b, one JSON value that encoding/json accepted, and
// refuses what the I-JSON rules above forbid, naming the member at fault.
func checkJSON(b []byte) error {
	const op = "refserver.decode"
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var stack []*jsonFrame
	top := func() *jsonFrame {
		if len(stack) == 0 {
			return nil
		}
		return stack[len(stack)-1]
	}
	// done marks the end of a value inside the container on top.
	done := func() {
		if f := top(); f != nil && f.object {
			f.wantKey = true
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return jsonError(op, err)
		}
		f := top()
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				child := &jsonFrame{object: t == '{', path: f.member(), wantKey: t == '{'}
				if child.object {
					child.names = map[string]string{}
				}
				stack = append(stack, child)
			default:
				stack = stack[:len(stack)-1]
				done()
			}
			continue
		case string:
			if msg := jsonStringFault(rawToken(b, start, dec.InputOffset())); msg != "" {
				if f != nil && f.wantKey {
					return errs.Invalid(op, joinPath(f.path, printable(t)), "the member name "+msg)
				}
				return errs.Invalid(op, f.member(), msg)
			}
			if f != nil && f.wantKey {
				folded := strings.ToLower(strings.ToUpper(t))
				f.key, f.wantKey = t, false
				if first, dup := f.names[folded]; dup {
					msg := "is given twice in one object"
					if first != t {
						msg += " (as " + strconv.Quote(first) + " and " + strconv.Quote(t) + ": names match without regard to case)"
					}
					return errs.Invalid(op, f.member(), msg)
				}
				f.names[folded] = t
				continue
			}
		}
		done()
	}
}

// rawToken returns the token of b that ends at end, the previous one
// having ended at start: what lies between is white space, ',' or ':'.
func rawToken(b []byte, start, end int64) []byte {
	for ; start < end; start++ {
		switch b[start] {
		case ' ', '\t', '\r', '\n', ',', ':':
			continue
		}
		break
	}
	return b[start:end]
}

// jsonStringFault says what is wrong with raw, a JSON string as it was sent
// (quotes and escapes included, its syntax known to be valid), or "" if
// nothing is.
func jsonStringFault(raw []byte) string {
	if !utf8.Valid(raw) {
		return "is not valid UTF-8"
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if raw[i] != 'u' {
			continue
		}
		r := hex4(raw[i+1:])
		i += 4 // the last hex digit
		switch {
		case r == 0:
			return "must not hold a NUL character (\\u0000)"
		case r >= 0xD800 && r < 0xDC00:
			// A high surrogate must be followed by a low one.
			if i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if lo := hex4(raw[i+3:]); lo >= 0xDC00 && lo < 0xE000 {
					i += 6
					continue
				}
			}
			return "holds an unpaired UTF-16 surrogate escape"
		case r >= 0xDC00 && r < 0xE000:
			return "holds an unpaired UTF-16 surrogate escape"
		}
	}
	return ""
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b[:4]), 16, 16)
	return rune(n)
}
