package directory

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/carebook/carebook/errs"
)

// Limits of a taxonomy file LoadTaxonomy reads. The NUCC's own file holds
// under 900 codes in about 1 MB (most of it the definitions).
const (
	MaxTaxonomyCodes = 10000
	MaxTaxonomyBytes = 16 << 20
)

// Taxonomy is a set of provider taxonomy codes with their display names:
// the curated table (DefaultTaxonomy), extended by the full NUCC code set
// when an operator loads the file they obtain from the NUCC (LoadTaxonomy).
// A Taxonomy never changes once made, so one value is safe to share between
// goroutines; the Engine holds the one its pages and searches name
// specialties by (carebook.WithTaxonomy). The nil *Taxonomy is the default.
type Taxonomy struct {
	byCode map[string]Specialty
	byName []Specialty // sorted by name, then code

	indexOnce sync.Once
	index     []codeWord // see wordIndex
}

// defaultTaxonomy is the curated table as a Taxonomy.
var defaultTaxonomy = newTaxonomy(byCode)

// DefaultTaxonomy returns the curated table of common physician
// specialties (see Specialties) as a Taxonomy.
func DefaultTaxonomy() *Taxonomy { return defaultTaxonomy }

func newTaxonomy(m map[string]Specialty) *Taxonomy {
	t := &Taxonomy{byCode: m, byName: make([]Specialty, 0, len(m))}
	for _, s := range m {
		t.byName = append(t.byName, s)
	}
	sort.Slice(t.byName, func(i, j int) bool {
		a, b := t.byName[i], t.byName[j]
		return a.Name < b.Name || a.Name == b.Name && a.Code < b.Code
	})
	return t
}

// Lookup returns the specialty of code, if t has it.
func (t *Taxonomy) Lookup(code string) (Specialty, bool) {
	if t == nil {
		t = defaultTaxonomy
	}
	s, ok := t.byCode[code]
	return s, ok
}

// Len is the number of codes in t.
func (t *Taxonomy) Len() int {
	if t == nil {
		t = defaultTaxonomy
	}
	return len(t.byCode)
}

// Specialties returns t's specialties sorted by name (a copy).
func (t *Taxonomy) Specialties() []Specialty {
	if t == nil {
		t = defaultTaxonomy
	}
	return append([]Specialty(nil), t.byName...)
}

// The columns of the NUCC's CSV that LoadTaxonomy reads, by their header.
// The file's other columns (Grouping, Definition, Notes, Section) are
// ignored; Display Name is absent from files before version 16.0.
const (
	colCode           = "Code"
	colClassification = "Classification"
	colSpecialization = "Specialization"
	colDisplayName    = "Display Name"
)

// LoadTaxonomy reads the NUCC's Health Care Provider Taxonomy CSV (as the
// NUCC publishes it, nucc_taxonomy_NNN.csv: a header row naming the columns
// Code, Grouping, Classification, Specialization, Definition, Notes,
// Display Name and Section, in any order, then one code a row) and returns
// the curated table extended by its codes. A code the curated table has
// keeps the curated name; any other is named by its Display Name, or
// without one by its Specialization and Classification, such as
// "Addiction Medicine (Family Medicine)".
//
// Bad input is an error of kind invalid whose Field is the column at fault
// and whose message starts with the line ("line 12: ..."); its Details are
// a TaxonomyPosition. Nothing is returned with it: a file is taken whole or
// not at all.
func LoadTaxonomy(r io.Reader) (*Taxonomy, error) {
	const op = "directory.LoadTaxonomy"
	lr := &io.LimitedReader{R: r, N: MaxTaxonomyBytes + 1}
	t, err := loadTaxonomy(op, lr)
	if lr.N <= 0 {
		// Whatever else went wrong came of the cut.
		return nil, taxonomyErr(op, 0, "", fmt.Sprintf("the file is larger than %d bytes", MaxTaxonomyBytes))
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

func loadTaxonomy(op string, lr *io.LimitedReader) (*Taxonomy, error) {
	cr := csv.NewReader(lr)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, taxonomyErr(op, 0, colCode, "the file is empty: it needs the NUCC's header row")
		}
		return nil, csvError(op, nil, err)
	}
	header = append([]string(nil), header...)
	cols := map[string]int{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // the NUCC's files start with a byte order mark
		}
		h = strings.TrimSpace(h)
		header[i] = h
		for _, want := range []string{colCode, colClassification, colSpecialization, colDisplayName} {
			if strings.EqualFold(h, want) {
				if _, dup := cols[want]; dup {
					return nil, taxonomyErr(op, 1, want, "the header names column "+strconv.Quote(want)+" twice")
				}
				cols[want] = i
			}
		}
	}
	for _, want := range []string{colCode, colClassification} {
		if _, ok := cols[want]; !ok {
			return nil, taxonomyErr(op, 1, want, "the header has no column "+strconv.Quote(want)+
				" (want the NUCC's: Code, Grouping, Classification, Specialization, Definition, Notes, Display Name, Section)")
		}
	}
	m := make(map[string]Specialty, len(byCode)+1000)
	line := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(op, header, err)
		}
		n, _ := cr.FieldPos(0)
		field := func(col string) string {
			if i, ok := cols[col]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		code := field(colCode)
		if !ValidTaxonomyCode(code) {
			return nil, taxonomyErr(op, n, colCode, "code "+quote(code)+" is not a taxonomy code (9 digits or capitals, then X)")
		}
		if first, dup := line[code]; dup {
			return nil, taxonomyErr(op, n, colCode, fmt.Sprintf("code %s is given again (first on line %d)", code, first))
		}
		line[code] = n
		if len(line) > MaxTaxonomyCodes {
			return nil, taxonomyErr(op, n, colCode, fmt.Sprintf("more than %d codes", MaxTaxonomyCodes))
		}
		for _, col := range []string{colClassification, colSpecialization, colDisplayName} {
			v := field(col)
			switch {
			case !utf8.ValidString(v) || !utf8Clean(v):
				return nil, taxonomyErr(op, n, col, "holds invalid UTF-8 or a control character")
			case len(v) > MaxText:
				return nil, taxonomyErr(op, n, col, fmt.Sprintf("is longer than %d bytes", MaxText))
			}
		}
		name := field(colDisplayName)
		if name == "" {
			name = field(colClassification)
			if name == "" {
				return nil, taxonomyErr(op, n, colClassification, "is required (the row has no Display Name)")
			}
			if spec := field(colSpecialization); spec != "" {
				name = spec + " (" + name + ")"
				if len(name) > MaxText {
					return nil, taxonomyErr(op, n, colSpecialization, fmt.Sprintf("with its classification is longer than %d bytes", MaxText))
				}
			}
		}
		m[code] = Specialty{Code: code, Name: name}
	}
	if len(m) == 0 {
		return nil, taxonomyErr(op, 2, colCode, "the file has a header but no codes")
	}
	for code, s := range byCode {
		m[code] = s
	}
	return newTaxonomy(m), nil
}

// TaxonomyPosition is where in a taxonomy file LoadTaxonomy found fault:
// the Details of its error.
type TaxonomyPosition struct {
	// Line is the file's line: 1 is the header; 0 is the file as a whole.
	Line int `json:"line"`
	// Column is the column's header, such as "Code"; for a row that is not
	// well-formed CSV it is empty and Char is set.
	Column string `json:"column,omitempty"`
	// Char is the character of Line (from 1) where the CSV went wrong.
	Char int `json:"char,omitempty"`
}

// taxonomyErr is LoadTaxonomy's error at line (0: the whole file) and
// column (the error's Field; "csv" if none).
func taxonomyErr(op string, line int, col, msg string) *errs.Error {
	field := col
	if field == "" {
		field = "csv"
	}
	e := errs.Invalid(op, field, msg)
	if line > 0 {
		e.Msg = fmt.Sprintf("line %d: %s", line, msg)
	}
	e.Details = TaxonomyPosition{Line: line, Column: col}
	return e
}

// csvError turns the csv package's error (malformed quoting, a row of the
// wrong width) into LoadTaxonomy's, naming the line and the character.
func csvError(op string, header []string, err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return errs.Wrap(errs.KindInvalid, op, "the file could not be read", err)
	}
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		return taxonomyErr(op, pe.StartLine, "", fmt.Sprintf("the row has a different number of fields than the header's %d", len(header)))
	}
	e := taxonomyErr(op, pe.Line, "", fmt.Sprintf("character %d: %v", pe.Column, pe.Err))
	e.Details = TaxonomyPosition{Line: pe.Line, Char: pe.Column}
	return e
}
