package directory_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/directory/directorytest"
	"github.com/carebook/carebook/errs"
)

func TestValidTaxonomyCode(t *testing.T) {
	for _, tc := range []struct {
		code string
		ok   bool
	}{
		{"207Q00000X", true},
		{"2084P0800X", true},
		{"208000000X", true},
		{"207q00000X", false},  // lower case
		{"207Q00000Y", false},  // not ending in X
		{"207Q0000X", false},   // 9 characters
		{"207Q000000X", false}, // 11
		{"207Q-0000X", false},
		{"", false},
		{"207Q00000X\n", false},
	} {
		if got := directory.ValidTaxonomyCode(tc.code); got != tc.ok {
			t.Errorf("ValidTaxonomyCode(%q) = %v, want %v", tc.code, got, tc.ok)
		}
	}
}

func TestSpecialtiesTable(t *testing.T) {
	specs := directory.Specialties()
	if len(specs) < 25 {
		t.Errorf("%d specialties, want the common ones (25 or more)", len(specs))
	}
	seen := map[string]bool{}
	names := map[string]bool{}
	for i, s := range specs {
		if !directory.ValidTaxonomyCode(s.Code) {
			t.Errorf("%q (%s) is not a taxonomy code", s.Code, s.Name)
		}
		if seen[s.Code] || names[s.Name] {
			t.Errorf("%s %q is listed twice", s.Code, s.Name)
		}
		seen[s.Code], names[s.Name] = true, true
		if strings.TrimSpace(s.Name) != s.Name || s.Name == "" {
			t.Errorf("%s has the name %q", s.Code, s.Name)
		}
		if i > 0 && specs[i-1].Name > s.Name {
			t.Errorf("Specialties not sorted by name at %q", s.Name)
		}
		if got, ok := directory.LookupSpecialty(s.Code); !ok || got != s {
			t.Errorf("LookupSpecialty(%s) = %v, %v", s.Code, got, ok)
		}
	}
	for code, name := range map[string]string{"207Q00000X": "Family Medicine", "207RC0000X": "Cardiovascular Disease", "208000000X": "Pediatrics"} {
		if s, _ := directory.LookupSpecialty(code); s.Name != name {
			t.Errorf("LookupSpecialty(%s) = %q, want %q", code, s.Name, name)
		}
	}
	if _, ok := directory.LookupSpecialty("999999999X"); ok {
		t.Error("LookupSpecialty of a code not in the table found one")
	}
	if !strings.Contains(directory.Attribution, "National Uniform Claim Committee") || !strings.Contains(directory.Attribution, "nucc.org") {
		t.Errorf("Attribution = %q, want it to name the NUCC and its site", directory.Attribution)
	}
}

func TestConcernsTable(t *testing.T) {
	cs := directory.Concerns()
	terms := map[string]string{}
	for _, c := range cs {
		if len(c.Specialties) == 0 {
			t.Errorf("concern %q maps to no specialty", c.Name)
		}
		for _, code := range c.Specialties {
			if _, ok := directory.LookupSpecialty(code); !ok {
				t.Errorf("concern %q maps to %s, not in the specialties table", c.Name, code)
			}
		}
		switch c.Visit {
		case directory.VisitNewPatient, directory.VisitProblem, directory.VisitPreventive, directory.VisitFollowUp:
		default:
			t.Errorf("concern %q has the visit kind %q", c.Name, c.Visit)
		}
		for _, term := range append([]string{c.Name}, c.Synonyms...) {
			if term != strings.ToLower(term) || strings.TrimSpace(term) != term || len(directory.Words(term)) == 0 {
				t.Errorf("concern %q: term %q is not lower-case words", c.Name, term)
			}
			if other, dup := terms[term]; dup {
				t.Errorf("term %q is under both %q and %q", term, other, c.Name)
			}
			terms[term] = c.Name
		}
	}
	for _, want := range []string{"back pain", "rash", "anxiety", "annual physical"} {
		if _, ok := terms[want]; !ok {
			t.Errorf("no concern %q", want)
		}
	}
	// A copy: changing it changes nothing.
	cs[0].Specialties[0] = "changed"
	if directory.Concerns()[0].Specialties[0] == "changed" {
		t.Error("Concerns returned the table itself")
	}
}

func TestWords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Back pain", "[back pain]"},
		{"  back-PAIN!! ", "[back pain]"},
		{`"back" OR *`, "[back or]"},
		{"O'Brien", "[o brien]"},
		{"Ünïcödé 東京", "[ünïcödé 東京]"},
		{"", "[]"},
		{"&|!:*()", "[]"},
	} {
		if got := fmt.Sprint(directory.Words(tc.in)); got != tc.want {
			t.Errorf("Words(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestSearchDocument(t *testing.T) {
	p := directorytest.Provider(1, "Nguyen-Smith", []string{"207X00000X", "207RC0000X"}, directorytest.Location("A", directorytest.Brooklyn))
	doc := " " + p.SearchDocument() + " "
	for _, w := range []string{"ana", "nguyen", "smith", "orthopaedic", "surgery", "back", "sciatica", "cardiovascular", "hypertension"} {
		if !strings.Contains(doc, " "+w+" ") {
			t.Errorf("SearchDocument() lacks %q: %s", w, doc)
		}
	}
	if strings.Contains(doc, " rash ") {
		t.Errorf("SearchDocument() has a dermatologist's concern: %s", doc)
	}
	if strings.Count(doc, " pain ") != 1 {
		t.Errorf("SearchDocument() repeats a word: %s", doc)
	}
}

func TestQueryNormalize(t *testing.T) {
	here := directorytest.Brooklyn
	long := strings.Repeat("a", 201)
	for _, tc := range []struct {
		q     directory.Query
		field string
	}{
		{directory.Query{}, ""},
		{directory.Query{Words: []string{"back", "pain"}, Near: &here, RadiusKm: 25, Language: "es", Limit: 100}, ""},
		{directory.Query{Words: strings.Fields("a b c d e f g h i")}, "q"},
		{directory.Query{Words: []string{long}}, "q"},
		{directory.Query{Words: []string{"Back"}}, "q"},
		{directory.Query{Words: []string{""}}, "q"},
		{directory.Query{Specialties: []string{"207Q00000X", "x"}}, "specialty"},
		{directory.Query{Specialties: strings.Fields(strings.Repeat("207Q00000X ", 11))}, "specialty"},
		{directory.Query{Near: &here, RadiusKm: 0}, "radius"},
		{directory.Query{Near: &here, RadiusKm: -1}, "radius"},
		{directory.Query{Near: &directory.Point{Lat: 91}, RadiusKm: 1}, "near.lat"},
		{directory.Query{RadiusKm: 1}, "radius"},
		{directory.Query{Language: "EN"}, "language"},
		{directory.Query{Limit: -1}, "limit"},
	} {
		got, err := tc.q.Normalize()
		if tc.field == "" {
			if err != nil {
				t.Errorf("Normalize(%+v) = %v", tc.q, err)
			} else if got.Limit == 0 || (tc.q.Limit == 0 && got.Limit != directory.DefaultLimit) {
				t.Errorf("Normalize(%+v).Limit = %d", tc.q, got.Limit)
			}
			continue
		}
		if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tc.field {
			t.Errorf("Normalize(%+v) = %v, want KindInvalid naming %s", tc.q, err, tc.field)
		}
	}
}

func TestListingValidate(t *testing.T) {
	valid := func() *directory.Listing {
		return directorytest.Listing("Riverside", directorytest.Provider(1, "Ng", []string{"207Q00000X"},
			directorytest.Location("Main", directorytest.Brooklyn)))
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("Validate of a valid listing: %v", err)
	}
	for _, tc := range []struct {
		field string
		edit  func(l *directory.Listing)
	}{
		{"practice_name", func(l *directory.Listing) { l.PracticeName = strings.Repeat("x", 201) }},
		{"providers.id", func(l *directory.Listing) { l.Providers[0].ID = [16]byte{} }},
		{"providers.npi", func(l *directory.Listing) { l.Providers[0].NPI = "12345" }},
		{"providers.specialties", func(l *directory.Listing) { l.Providers[0].Specialties = nil }},
		{"providers.given_name", func(l *directory.Listing) { l.Providers[0].GivenName = "\xff" }},
		{"providers.locations", func(l *directory.Listing) { l.Providers[0].Locations = nil }},
		{"providers.locations.id", func(l *directory.Listing) {
			l.Providers[0].Locations = append(l.Providers[0].Locations, l.Providers[0].Locations[0])
		}},
		{"providers.locations.geo.lon", func(l *directory.Listing) { l.Providers[0].Locations[0].Geo.Lon = -180.5 }},
		{"providers.locations.name", func(l *directory.Listing) { l.Providers[0].Locations[0].Name = "" }},
		{"providers.locations.address.postal_code", func(l *directory.Listing) { l.Providers[0].Locations[0].Address.PostalCode = "" }},
		{"providers.locations.visit_types.kind", func(l *directory.Listing) { l.Providers[0].Locations[0].VisitTypes[0].Kind = "spa" }},
		{"providers.locations.visit_types.minutes", func(l *directory.Listing) { l.Providers[0].Locations[0].VisitTypes[0].Minutes = 0 }},
		{"providers.locations.visit_types.name", func(l *directory.Listing) { l.Providers[0].Locations[0].VisitTypes[0].Name = "a\tb" }},
	} {
		l := valid()
		tc.edit(l)
		if err := l.Validate(); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tc.field {
			t.Errorf("Validate with a bad %s = %v, want KindInvalid naming it", tc.field, err)
		}
	}
}

func TestGenerate(t *testing.T) {
	ls := directorytest.Generate(120, 7)
	n := 0
	for _, l := range ls {
		if err := l.Validate(); err != nil {
			t.Fatalf("a generated listing: %v", err)
		}
		n += len(l.Providers)
	}
	if n != 120 || len(ls) != 3 {
		t.Errorf("Generate(120) made %d providers in %d listings, want 120 in 3", n, len(ls))
	}
}
