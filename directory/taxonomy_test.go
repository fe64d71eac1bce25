package directory_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/errs"
)

// nuccHeader is the header row of the NUCC's CSV (version 16.0 on), with
// the byte order mark the NUCC's files begin with.
const nuccHeader = "\ufeffCode,Grouping,Classification,Specialization,Definition,Notes,Display Name,Section\r\n"

// nuccSample is a few rows shaped as the NUCC's file: quoted fields with
// commas and quotes, CRLF line ends, a multi-line definition. The
// definitions are this test's own words.
const nuccSample = nuccHeader +
	`207Q00000X,Allopathic & Osteopathic Physicians,Family Medicine,,"A test definition, with a comma.",,Family Medicine Physician,Individual` + "\r\n" +
	`207QA0401X,Allopathic & Osteopathic Physicians,Family Medicine,Addiction Medicine,"Two lines` + "\r\n" + `of definition.","Notes with ""quotes""",Addiction Medicine (Family Medicine) Physician,Individual` + "\r\n" +
	`363LF0000X,Physician Assistants & Advanced Practice Nursing Providers,Nurse Practitioner,Family,Test.,,Family Nurse Practitioner,Individual` + "\r\n" +
	`261QU0200X,Ambulatory Health Care Facilities,Clinic/Center,Urgent Care,Test.,,Urgent Care Clinic/Center,Non-Individual` + "\r\n"

func TestLoadTaxonomy(t *testing.T) {
	tx, err := directory.LoadTaxonomy(strings.NewReader(nuccSample))
	if err != nil {
		t.Fatal(err)
	}
	curated := directory.Specialties()
	if got, want := tx.Len(), len(curated)+3; got != want {
		t.Errorf("Len() = %d, want %d (the curated table and the file's 3 new codes)", got, want)
	}
	for code, name := range map[string]string{
		"207Q00000X": "Family Medicine", // curated: its name stays
		"207QA0401X": "Addiction Medicine (Family Medicine) Physician",
		"363LF0000X": "Family Nurse Practitioner",
		"261QU0200X": "Urgent Care Clinic/Center",
		"207RC0000X": "Cardiovascular Disease", // curated, not in the file
	} {
		if s, ok := tx.Lookup(code); !ok || s.Name != name || s.Code != code {
			t.Errorf("Lookup(%s) = %+v, %v; want %q", code, s, ok, name)
		}
	}
	if _, ok := tx.Lookup("999999999X"); ok {
		t.Error("Lookup of a code in neither found one")
	}
	// The package-level table is untouched by a load.
	if _, ok := directory.LookupSpecialty("363LF0000X"); ok {
		t.Error("LookupSpecialty answers a loaded code: the curated table changed")
	}
	specs := tx.Specialties()
	for i := 1; i < len(specs); i++ {
		if specs[i-1].Name > specs[i].Name {
			t.Errorf("Specialties not sorted at %q", specs[i].Name)
		}
	}
	var nilTx *directory.Taxonomy
	if nilTx.Len() != len(curated) || directory.DefaultTaxonomy().Len() != len(curated) {
		t.Errorf("the nil and default Taxonomy hold %d and %d codes, want the curated %d", nilTx.Len(), directory.DefaultTaxonomy().Len(), len(curated))
	}

	p := directory.Provider{GivenName: "Ana", FamilyName: "Ruiz", Specialties: []string{"363LF0000X"}}
	if doc := p.SearchDocumentIn(tx); !strings.Contains(doc, "nurse") || !strings.Contains(doc, "practitioner") {
		t.Errorf("SearchDocumentIn(loaded) = %q, want the loaded name's words", doc)
	}
	if doc := p.SearchDocument(); strings.Contains(doc, "nurse") {
		t.Errorf("SearchDocument() = %q names a code only the file has", doc)
	}
}

func TestLoadTaxonomyWithoutDisplayName(t *testing.T) {
	// Files before version 16.0 have no Display Name: the name is made of
	// the Specialization and Classification. Columns in another order and
	// an upper-case header are taken too.
	in := "CLASSIFICATION,Specialization,Code\n" +
		"Family Medicine,Addiction Medicine,207QA0401X\n" +
		"Clinic/Center,,261Q00000X\n"
	tx, err := directory.LoadTaxonomy(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for code, name := range map[string]string{"207QA0401X": "Addiction Medicine (Family Medicine)", "261Q00000X": "Clinic/Center"} {
		if s, _ := tx.Lookup(code); s.Name != name {
			t.Errorf("Lookup(%s) = %q, want %q", code, s.Name, name)
		}
	}
}

func TestLoadTaxonomyRefuses(t *testing.T) {
	row := func(code, display string) string {
		return code + ",Allopathic & Osteopathic Physicians,Family Medicine,,Test.,," + display + ",Individual\r\n"
	}
	good := row("207QA0401X", "Addiction Medicine Physician")
	for _, tc := range []struct {
		name  string
		in    string
		field string
		line  int
		msg   string
	}{
		{"empty", "", "Code", 0, "empty"},
		{"no code column", "Grouping,Classification\r\nx,y\r\n", "Code", 1, `no column "Code"`},
		{"no classification column", "Code,Display Name\r\n207Q00000X,Family\r\n", "Classification", 1, `no column "Classification"`},
		{"header twice", "Code,Classification,code\r\n", "Code", 1, "twice"},
		{"header only", nuccHeader, "Code", 2, "no codes"},
		{"lower-case code", nuccHeader + good + row("207qa0401X", "x"), "Code", 3, `"207qa0401X" is not a taxonomy code`},
		{"blank code", nuccHeader + row("", "x"), "Code", 2, "is not a taxonomy code"},
		{"short code", nuccHeader + good + good[:0] + row("207Q0000X", "x"), "Code", 3, "is not a taxonomy code"},
		{"code twice", nuccHeader + good + row("207Q00000X", "x") + good, "Code", 4, "first on line 2"},
		{"control character", nuccHeader + row("207Q00000X", "Family\x07"), "Display Name", 2, "control character"},
		{"invalid UTF-8", nuccHeader + row("207Q00000X", "Fam\xffily"), "Display Name", 2, "invalid UTF-8"},
		{"long name", nuccHeader + row("207Q00000X", strings.Repeat("a", 201)), "Display Name", 2, "longer than 200"},
		{"no name at all", "Code,Classification,Display Name\r\n207Q00000X,,\r\n", "Classification", 2, "is required"},
		{"too few fields", nuccHeader + good + "207Q00000X,Allopathic\r\n", "csv", 3, "number of fields"},
		{"bare quote", nuccHeader + good + `207Q00000X,Allo"pathic,Family Medicine,,,,,` + "\r\n", "csv", 3, "character 16"},
		{"unterminated quote", nuccHeader + good + `207Q00000X,"Allopathic,Family Medicine,,,,,` + "\r\n", "csv", 3, "quote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := directory.LoadTaxonomy(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("loaded %d codes, want an error", tx.Len())
			}
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field != tc.field {
				t.Fatalf("error %v (%T), want kind invalid in field %s", err, err, tc.field)
			}
			pos, ok := e.Details.(directory.TaxonomyPosition)
			if !ok || pos.Line != tc.line {
				t.Errorf("error %v: Details %+v, want line %d", err, e.Details, tc.line)
			}
			if !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("error %q, want it to say %q", e.Msg, tc.msg)
			}
			if tc.line > 0 && !strings.HasPrefix(e.Msg, "line ") {
				t.Errorf("error %q does not start with its line", e.Msg)
			}
		})
	}
}

func TestLoadTaxonomyTooLarge(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(nuccHeader)
	def := strings.Repeat("d", 2000)
	for i := 0; b.Len() <= directory.MaxTaxonomyBytes; i++ {
		fmt.Fprintf(&b, "%09dX,G,Family Medicine,,%s,,,Individual\r\n", i, def)
	}
	_, err := directory.LoadTaxonomy(&b)
	if e := (*errs.Error)(nil); !errors.As(err, &e) || e.Kind != errs.KindInvalid || !strings.Contains(e.Msg, "larger than") {
		t.Fatalf("error %v, want the file refused as too large", err)
	}
}

// FuzzLoadTaxonomy holds LoadTaxonomy to its contract on any input: it does
// not panic; it either loads codes that are all valid, named and found, or
// refuses with an invalid error naming a field and a position.
func FuzzLoadTaxonomy(f *testing.F) {
	f.Add([]byte(nuccSample))
	f.Add([]byte("Code,Classification\n207Q00000X,Family\n"))
	f.Add([]byte("Code,Classification\n207Q00000X,\"Fam\nily\"\n207Q0000X,x\n"))
	f.Add([]byte("\ufeffCode\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		tx, err := directory.LoadTaxonomy(bytes.NewReader(in))
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Field == "" {
				t.Fatalf("error %v (%T), want kind invalid naming a field", err, err)
			}
			if _, ok := e.Details.(directory.TaxonomyPosition); !ok && e.Err == nil {
				t.Fatalf("error %v without its position", err)
			}
			return
		}
		for _, s := range tx.Specialties() {
			if !directory.ValidTaxonomyCode(s.Code) || strings.TrimSpace(s.Name) == "" {
				t.Fatalf("loaded %+v", s)
			}
			if got, ok := tx.Lookup(s.Code); !ok || got != s {
				t.Fatalf("Lookup(%s) = %+v, %v; want %+v", s.Code, got, ok, s)
			}
		}
		for _, s := range directory.Specialties() {
			if got, _ := tx.Lookup(s.Code); got != s {
				t.Fatalf("curated %+v became %+v", s, got)
			}
		}
	})
}

// TestTerms checks Terms against SearchDocumentIn: a provider's search
// document holds a word beginning with w exactly when one of its
// specialties is among the Term's codes or a word of its names begins
// with w, for every prefix of every word of the documents, over the
// curated table and a loaded one.
func TestTerms(t *testing.T) {
	loaded, err := directory.LoadTaxonomy(strings.NewReader(nuccSample))
	if err != nil {
		t.Fatal(err)
	}
	var provs []directory.Provider
	for i, s := range append(directory.Specialties(), directory.Specialty{Code: "363LF0000X"}, directory.Specialty{Code: "999999999X"}) {
		provs = append(provs, directory.Provider{GivenName: "Ana-Sofía", FamilyName: fmt.Sprintf("O'Brien%d", i), Specialties: []string{s.Code}})
	}
	provs = append(provs, directory.Provider{FamilyName: "Lee", Specialties: []string{"207X00000X", "207RC0000X"}})
	for _, tx := range []*directory.Taxonomy{nil, loaded} {
		prefixes := map[string]bool{"zzz": true, "backx": true}
		docs := make([][]string, len(provs))
		for i, p := range provs {
			docs[i] = strings.Fields(p.SearchDocumentIn(tx))
			for _, w := range docs[i] {
				for n := 1; n <= len(w); n++ {
					prefixes[w[:n]] = true
				}
			}
		}
		checked := 0
		for w := range prefixes {
			terms, ok := tx.Terms([]string{w})
			if !ok {
				continue
			}
			checked++
			term := terms[0]
			if term.Word != w || len(term.Codes) > directory.MaxTermCodes {
				t.Fatalf("Terms(%q) = %+v", w, term)
			}
			for i, p := range provs {
				inDoc := false
				for _, dw := range docs[i] {
					inDoc = inDoc || strings.HasPrefix(dw, w)
				}
				byTerm := false
				for _, c := range p.Specialties {
					byTerm = byTerm || slices.Contains(term.Codes, c)
				}
				for _, nw := range p.NameWords() {
					byTerm = byTerm || strings.HasPrefix(nw, w)
				}
				if inDoc != byTerm {
					t.Errorf("word %q, provider %q %v: in the document %v, by the term %v (codes %v)", w, p.FamilyName, p.Specialties, inDoc, byTerm, term.Codes)
				}
			}
		}
		if checked < len(prefixes)/2 {
			t.Errorf("only %d of %d prefixes resolved", checked, len(prefixes))
		}
	}
	if terms, ok := loaded.Terms([]string{"nurse", "fam"}); !ok || !slices.Contains(terms[0].Codes, "363LF0000X") || !slices.Contains(terms[1].Codes, "207Q00000X") {
		t.Errorf("Terms(nurse fam) over the loaded table = %+v, %v", terms, ok)
	}
}
