// Package directorytest is the conformance suite of directory.Store: every
// implementation runs Run against a fresh database. It also makes
// generated listings (Generate) for tests and benchmarks.
package directorytest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/google/uuid"
)

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// NPI returns the n-th of a series of valid NPIs (n below 100,000,000).
func NPI(n int) string {
	base := fmt.Sprintf("1%08d", n)
	for d := 0; d <= 9; d++ {
		if s := base + strconv.Itoa(d); scheduling.ValidNPI(s) {
			return s
		}
	}
	panic("directorytest: no check digit for " + base)
}

// Brooklyn is a point in Brooklyn Heights (ZIP 11201).
var Brooklyn = directory.Point{Lat: 40.6959, Lon: -73.9936}

// Offset returns the point d km from p towards bearing degrees (0 north,
// 90 east), on earthdistance's sphere.
func Offset(p directory.Point, km, bearing float64) directory.Point {
	const r = 6378.168
	φ1, λ1, θ, δ := p.Lat*math.Pi/180, p.Lon*math.Pi/180, bearing*math.Pi/180, km/r
	φ2 := math.Asin(math.Sin(φ1)*math.Cos(δ) + math.Cos(φ1)*math.Sin(δ)*math.Cos(θ))
	λ2 := λ1 + math.Atan2(math.Sin(θ)*math.Sin(δ)*math.Cos(φ1), math.Cos(δ)-math.Sin(φ1)*math.Sin(φ2))
	lon := math.Mod(λ2*180/math.Pi+540, 360) - 180 // into [-180, 180)
	return directory.Point{Lat: φ2 * 180 / math.Pi, Lon: lon}
}

// Location returns a location at p, in New York's time zone, with one
// new-patient visit type.
func Location(name string, p directory.Point) directory.Location {
	return directory.Location{ID: newID(), Name: name, Geo: p, TimeZone: "America/New_York",
		Address:    directory.Address{Line1: "1 Main St", City: "Brooklyn", Region: "NY", PostalCode: "11201", Country: "US"},
		VisitTypes: []directory.VisitType{{ID: newID(), Name: "New patient visit", Kind: directory.VisitNewPatient, Minutes: 30}}}
}

// Provider returns a provider accepting new patients, speaking English, of
// specialties, at locs.
func Provider(n int, family string, specialties []string, locs ...directory.Location) directory.Provider {
	return directory.Provider{ID: newID(), NPI: NPI(n), GivenName: "Ana", FamilyName: family,
		Specialties: specialties, Languages: []string{"en"}, AcceptingNew: true, Locations: locs}
}

// Epoch is the Updated time of the listings Listing returns.
var Epoch = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// Listing returns a published listing of a new practice named name.
func Listing(name string, providers ...directory.Provider) *directory.Listing {
	return &directory.Listing{PracticeID: newID(), PracticeName: name, Published: true, Providers: providers, Updated: Epoch}
}

// Generate returns listings of n providers in practices of 50, drawn by
// seed: 60% within 50 km of Brooklyn, the rest across the contiguous
// United States; each with one to three of the curated specialties (the
// first drawn from the most common), one or two locations, English and
// sometimes Spanish or Chinese, 80% accepting new patients.
func Generate(n int, seed uint64) []*directory.Listing {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	specs := directory.Specialties()
	var out []*directory.Listing
	for i := 0; i < n; i++ {
		if i%50 == 0 {
			out = append(out, Listing(fmt.Sprintf("Practice %d", i/50)))
		}
		l := out[len(out)-1]
		at := func() directory.Point {
			if rng.Float64() < 0.6 {
				return Offset(Brooklyn, 50*math.Sqrt(rng.Float64()), 360*rng.Float64())
			}
			return directory.Point{Lat: 25 + 24*rng.Float64(), Lon: -124 + 57*rng.Float64()}
		}
		var codes []string
		for k := 1 + rng.IntN(3); len(codes) < k; {
			c := specs[int(float64(len(specs))*math.Pow(rng.Float64(), 2))].Code
			dup := false
			for _, d := range codes {
				dup = dup || d == c
			}
			if !dup {
				codes = append(codes, c)
			}
		}
		locs := []directory.Location{Location("Office", at())}
		if rng.IntN(3) == 0 {
			locs = append(locs, Location("Second office", at()))
		}
		p := Provider(i, fmt.Sprintf("Doctor%d", i), codes, locs...)
		p.AcceptingNew = rng.IntN(5) != 0
		switch rng.IntN(6) {
		case 0:
			p.Languages = append(p.Languages, "es")
		case 1:
			p.Languages = append(p.Languages, "zh")
		}
		l.Providers = append(l.Providers, p)
	}
	return out
}

// Run runs the conformance suite; open returns a fresh store for each test.
func Run(t *testing.T, open func(t *testing.T) directory.Store) {
	ctx := context.Background()
	const (
		ortho  = "207X00000X"
		cardio = "207RC0000X"
		derm   = "207N00000X"
	)
	put := func(t *testing.T, s directory.Store, l *directory.Listing) {
		t.Helper()
		if err := s.PutListing(ctx, l); err != nil {
			t.Fatalf("PutListing(%s): %v", l.PracticeName, err)
		}
	}
	search := func(t *testing.T, s directory.Store, q directory.Query) []directory.Hit {
		t.Helper()
		hits, err := s.Search(ctx, q)
		if err != nil {
			t.Fatalf("Search(%+v): %v", q, err)
		}
		return hits
	}
	names := func(hits []directory.Hit) []string {
		out := make([]string, len(hits))
		for i, h := range hits {
			out[i] = h.Provider.FamilyName
		}
		return out
	}
	same := func(t *testing.T, what string, got []directory.Hit, want ...string) {
		t.Helper()
		g := names(got)
		if fmt.Sprint(g) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", what, g, want)
		}
	}

	t.Run("only opted-in practices and visible providers appear", func(t *testing.T) {
		s := open(t)
		hidden := Provider(1, "Hidden", []string{ortho}, Location("A", Brooklyn))
		hidden.Hidden = true
		a := Listing("Published", Provider(2, "Shown", []string{ortho}, Location("A", Brooklyn)), hidden)
		b := Listing("Not opted in", Provider(3, "Unlisted", []string{ortho}, Location("B", Brooklyn)))
		b.Published = false
		put(t, s, a)
		put(t, s, b)
		all := directory.Query{Limit: 100}
		near := directory.Query{Near: &Brooklyn, RadiusKm: 10, Limit: 100}
		words := directory.Query{Words: []string{"back"}, Limit: 100}
		spec := directory.Query{Specialties: []string{ortho}, Limit: 100}
		for _, q := range []directory.Query{all, near, words, spec} {
			same(t, fmt.Sprintf("Search(%+v)", q), search(t, s, q), "Shown")
		}
		b.Published = true
		put(t, s, b)
		same(t, "after b opts in", search(t, s, all), "Shown", "Unlisted")
		a.Published = false
		put(t, s, a)
		same(t, "after a opts out", search(t, s, all), "Unlisted")
		if err := s.RemoveListing(ctx, b.PracticeID); err != nil {
			t.Fatalf("RemoveListing: %v", err)
		}
		same(t, "after b is removed", search(t, s, near))
		if err := s.RemoveListing(ctx, b.PracticeID); err != nil {
			t.Errorf("RemoveListing of nothing: %v", err)
		}
	})

	t.Run("a listing is replaced whole, and read back as published", func(t *testing.T) {
		s := open(t)
		p1 := Provider(1, "Old", []string{derm}, Location("A", Brooklyn))
		l := Listing("Practice", p1)
		put(t, s, l)
		p2 := Provider(2, "New", []string{derm, cardio}, Location("A", Brooklyn), Location("B", Offset(Brooklyn, 3, 0)))
		p2.Languages = []string{"en", "es"}
		l.Providers = []directory.Provider{p2}
		put(t, s, l)
		hits := search(t, s, directory.Query{})
		same(t, "after the replacement", hits, "New")
		if len(hits) == 1 {
			h := hits[0]
			if h.PracticeID != l.PracticeID || h.PracticeName != "Practice" || h.DistanceKm != 0 {
				t.Errorf("hit = %+v", h)
			}
			if fmt.Sprintf("%+v", h.Provider) != fmt.Sprintf("%+v", p2) {
				t.Errorf("provider = %+v\nwant %+v", h.Provider, p2)
			}
			if fmt.Sprintf("%+v", h.Location) != fmt.Sprintf("%+v", p2.Locations[0]) {
				t.Errorf("location = %+v, want the first, %+v", h.Location, p2.Locations[0])
			}
		}
		other := Listing("Other", Provider(3, "Elsewhere", []string{derm}, Location("C", Brooklyn)))
		put(t, s, other)
		if err := s.RemoveListing(ctx, l.PracticeID); err != nil {
			t.Fatalf("RemoveListing: %v", err)
		}
		same(t, "another practice's listing stays", search(t, s, directory.Query{}), "Elsewhere")
	})

	t.Run("words and prefixes of concerns, specialties and names", func(t *testing.T) {
		s := open(t)
		put(t, s, Listing("P",
			Provider(1, "Bones", []string{ortho}, Location("A", Brooklyn)),
			Provider(2, "Hart", []string{cardio}, Location("A", Brooklyn)),
			Provider(3, "Skinner", []string{derm}, Location("A", Brooklyn))))
		for _, tc := range []struct {
			text string
			want []string
		}{
			{"back pain", []string{"Bones"}},
			{"Back pa", []string{"Bones"}},
			{"sciat", []string{"Bones"}},
			{"cardio", []string{"Hart"}},
			{"hypertension", []string{"Hart"}},
			{"rash", []string{"Skinner"}},
			{"ecz", []string{"Skinner"}},
			{"hart", []string{"Hart"}},
			{"an", []string{"Bones", "Hart", "Skinner"}}, // Ana
			{"ana sk", []string{"Skinner"}},
			{"ana cardio", []string{"Hart"}},
			{"pain", []string{"Bones", "Hart"}}, // back pain; chest pain
			{"back rash", nil},
			{"zzz", nil},
		} {
			var q directory.Query
			q.ParseWords(tc.text)
			same(t, fmt.Sprintf("Search(%q)", tc.text), search(t, s, q), tc.want...)
			// Near a point, the words are resolved to specialties and
			// names (directory.Terms): the same providers are found.
			q.Near, q.RadiusKm = &Brooklyn, 10
			same(t, fmt.Sprintf("Search(%q) near a point", tc.text), search(t, s, q), tc.want...)
		}
		same(t, "specialty filter", search(t, s, directory.Query{Specialties: []string{cardio, derm}}), "Hart", "Skinner")
		same(t, "words and specialty", search(t, s, directory.Query{Words: []string{"pain"}, Specialties: []string{cardio}}), "Hart")
	})

	t.Run("words name the specialties of the listing's taxonomy", func(t *testing.T) {
		s := open(t)
		tx, err := directory.LoadTaxonomy(strings.NewReader("Code,Classification,Specialization,Display Name\n" +
			"363LF0000X,Nurse Practitioner,Family,Family Nurse Practitioner\n"))
		if err != nil {
			t.Fatal(err)
		}
		l := Listing("P", Provider(1, "Ruiz", []string{"363LF0000X"}, Location("A", Brooklyn)),
			Provider(2, "Bones", []string{ortho}, Location("A", Brooklyn)))
		l.Taxonomy = tx
		put(t, s, l)
		for _, near := range []*directory.Point{nil, &Brooklyn} {
			q := directory.Query{Words: []string{"nurse", "pract"}, Taxonomy: tx}
			if near != nil {
				q.Near, q.RadiusKm = near, 10
			}
			same(t, fmt.Sprintf("Search(nurse pract, near %v)", near), search(t, s, q), "Ruiz")
		}
	})

	t.Run("near a point: within the radius, nearest first, each provider once", func(t *testing.T) {
		s := open(t)
		far := Provider(1, "Far", []string{ortho}, Location("far", Offset(Brooklyn, 30, 90)))
		two := Provider(2, "Two", []string{ortho}, Location("away", Offset(Brooklyn, 20, 0)), Location("near", Offset(Brooklyn, 5, 180)))
		mid := Provider(3, "Mid", []string{ortho}, Location("mid", Offset(Brooklyn, 10, 270)))
		edge := Provider(4, "Edge", []string{ortho}, Location("edge", Offset(Brooklyn, 24.9, 45)))
		put(t, s, Listing("P", far, two, mid, edge))
		hits := search(t, s, directory.Query{Near: &Brooklyn, RadiusKm: 25})
		same(t, "within 25 km", hits, "Two", "Mid", "Edge")
		for i, want := range []float64{5, 10, 24.9} {
			if i < len(hits) && math.Abs(hits[i].DistanceKm-want) > 0.01 {
				t.Errorf("%s at %.3f km, want %.1f", hits[i].Provider.FamilyName, hits[i].DistanceKm, want)
			}
		}
		if len(hits) > 0 && hits[0].Location.Name != "near" {
			t.Errorf("Two's location = %q, want its nearest, near", hits[0].Location.Name)
		}
		same(t, "within 7 km", search(t, s, directory.Query{Near: &Brooklyn, RadiusKm: 7}), "Two")
		same(t, "limit 2", search(t, s, directory.Query{Near: &Brooklyn, RadiusKm: 50, Limit: 2}), "Two", "Mid")
		same(t, "within 50 km", search(t, s, directory.Query{Near: &Brooklyn, RadiusKm: 50}), "Two", "Mid", "Edge", "Far")
		// Across the antimeridian and at a pole the box widens to every longitude.
		fiji := directory.Point{Lat: -17, Lon: 179.99}
		put(t, s, Listing("Q", Provider(5, "West", []string{ortho}, Location("w", Offset(fiji, 5, 90)))))
		same(t, "across the antimeridian", search(t, s, directory.Query{Near: &fiji, RadiusKm: 10}), "West")
	})

	t.Run("filters: accepting new patients, language", func(t *testing.T) {
		s := open(t)
		closed := Provider(1, "Closed", []string{ortho}, Location("A", Brooklyn))
		closed.AcceptingNew = false
		spanish := Provider(2, "Spanish", []string{ortho}, Location("A", Offset(Brooklyn, 1, 0)))
		spanish.Languages = []string{"es"}
		none := Provider(3, "Silent", []string{ortho}, Location("A", Offset(Brooklyn, 2, 0)))
		none.Languages = nil
		put(t, s, Listing("P", closed, spanish, none))
		same(t, "accepting", search(t, s, directory.Query{AcceptingNew: true}), "Silent", "Spanish")
		same(t, "es", search(t, s, directory.Query{Language: "es"}), "Spanish")
		same(t, "en", search(t, s, directory.Query{Language: "en", Near: &Brooklyn, RadiusKm: 5}), "Closed")
		same(t, "zh", search(t, s, directory.Query{Language: "zh"}))
	})

	t.Run("bad input names its field and writes nothing", func(t *testing.T) {
		s := open(t)
		ok := Provider(1, "Fine", []string{ortho}, Location("A", Brooklyn))
		for _, tc := range []struct {
			field string
			edit  func(l *directory.Listing)
		}{
			{"practice_id", func(l *directory.Listing) { l.PracticeID = uuid.Nil }},
			{"practice_name", func(l *directory.Listing) { l.PracticeName = " " }},
			{"providers.npi", func(l *directory.Listing) { l.Providers[1].NPI = "1234567890" }},
			{"providers.specialties", func(l *directory.Listing) { l.Providers[1].Specialties = []string{"207x00000X"} }},
			{"providers.languages", func(l *directory.Listing) { l.Providers[1].Languages = []string{"EN"} }},
			{"providers.family_name", func(l *directory.Listing) { l.Providers[1].FamilyName = "a\x00b" }},
			{"providers.locations.geo.lat", func(l *directory.Listing) { l.Providers[1].Locations[0].Geo.Lat = math.NaN() }},
			{"providers.locations.address.country", func(l *directory.Listing) { l.Providers[1].Locations[0].Address.Country = "usa" }},
			{"providers", func(l *directory.Listing) { l.Providers[1].ID = l.Providers[0].ID }},
		} {
			p := Provider(2, "Broken", []string{ortho}, Location("B", Brooklyn))
			l := Listing("P", ok, p)
			tc.edit(l)
			err := s.PutListing(ctx, l)
			if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tc.field {
				t.Errorf("PutListing with a bad %s = %v, want KindInvalid naming it", tc.field, err)
			}
		}
		same(t, "after the refusals", search(t, s, directory.Query{}))
		for _, tc := range []struct {
			field string
			q     directory.Query
		}{
			{"q", directory.Query{Words: []string{"Back"}}},
			{"q", directory.Query{Words: []string{"a b"}}},
			{"q", directory.Query{Words: []string{`"*`}}},
			{"specialty", directory.Query{Specialties: []string{"cardiology"}}},
			{"radius", directory.Query{Near: &Brooklyn}},
			{"radius", directory.Query{Near: &Brooklyn, RadiusKm: 501}},
			{"radius", directory.Query{RadiusKm: 5}},
			{"near.lon", directory.Query{Near: &directory.Point{Lat: 0, Lon: 181}, RadiusKm: 5}},
			{"language", directory.Query{Language: "en'--"}},
			{"language", directory.Query{Language: "e"}},
			{"limit", directory.Query{Limit: 101}},
		} {
			_, err := s.Search(ctx, tc.q)
			if !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tc.field {
				t.Errorf("Search(%+v) = %v, want KindInvalid naming %s", tc.q, err, tc.field)
			}
		}
	})

	t.Run("any words a patient types are searched safely", func(t *testing.T) {
		s := open(t)
		put(t, s, Listing("P", Provider(1, "Bones", []string{ortho}, Location("A", Brooklyn))))
		for _, text := range []string{`back" OR "*`, "NEAR(back pain)", "back AND NOT pain", "O'Brien", "pain:* | !x", "ünïcödé 東京", "-", "a & b"} {
			var q directory.Query
			q.ParseWords(text)
			if _, err := s.Search(ctx, q); err != nil {
				t.Errorf("Search(%q): %v", text, err)
			}
		}
	})

	t.Run("concurrent replacements of one listing leave one of them whole", func(t *testing.T) {
		s := open(t)
		base := Listing("P")
		const writers = 8
		lists := make([]*directory.Listing, writers)
		for i := range lists {
			l := *base
			l.Providers = []directory.Provider{
				Provider(2*i, fmt.Sprintf("W%dA", i), []string{ortho}, Location("A", Brooklyn)),
				Provider(2*i+1, fmt.Sprintf("W%dB", i), []string{ortho}, Location("B", Brooklyn)),
			}
			lists[i] = &l
		}
		errc := make(chan error, writers)
		for _, l := range lists {
			go func() { errc <- s.PutListing(ctx, l) }()
		}
		for range writers {
			if err := <-errc; err != nil {
				t.Errorf("PutListing: %v", err)
			}
		}
		got := names(search(t, s, directory.Query{Limit: 100}))
		if len(got) != 2 || got[0][:2] != got[1][:2] {
			t.Errorf("after %d concurrent replacements: %v, want both providers of one of them", writers, got)
		}
	})

	t.Run("a provider, a practice and the index show only what is published and visible", func(t *testing.T) {
		s := open(t)
		hidden := Provider(1, "Hidden", []string{ortho}, Location("A", Brooklyn))
		hidden.Hidden = true
		two := Provider(2, "Two", []string{ortho}, Location("A", Brooklyn), Location("B", Offset(Brooklyn, 3, 0)))
		a := Listing("Published", two, hidden, Provider(3, "Alpha", []string{derm}, Location("C", Brooklyn)))
		b := Listing("Not opted in", Provider(4, "Unlisted", []string{ortho}, Location("B", Brooklyn)))
		b.Published = false
		put(t, s, a)
		put(t, s, b)
		h, err := s.Provider(ctx, two.ID)
		if err != nil {
			t.Fatalf("Provider: %v", err)
		}
		if h.PracticeID != a.PracticeID || h.PracticeName != "Published" || len(h.Provider.Locations) != 2 || h.Location.ID != two.Locations[0].ID {
			t.Errorf("Provider = %+v", h)
		}
		for _, id := range []uuid.UUID{hidden.ID, b.Providers[0].ID, newID()} {
			if _, err := s.Provider(ctx, id); !errs.Is(err, errs.KindNotFound) {
				t.Errorf("Provider(%s) = %v, want KindNotFound", id, err)
			}
		}
		l, err := s.Practice(ctx, a.PracticeID)
		if err != nil {
			t.Fatalf("Practice: %v", err)
		}
		if got := fmt.Sprint(l.PracticeName, " ", l.Published, " ", len(l.Providers)); got != "Published true 2" {
			t.Errorf("Practice = %s", got)
		} else if l.Providers[0].FamilyName != "Alpha" || l.Providers[1].FamilyName != "Two" {
			t.Errorf("Practice's providers = %s, %s, want by name", l.Providers[0].FamilyName, l.Providers[1].FamilyName)
		}
		if _, err := s.Practice(ctx, b.PracticeID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("Practice(not opted in) = %v, want KindNotFound", err)
		}
		// The index: the practice, then its two visible providers by ID,
		// in pages of one.
		want := []string{directory.IndexEntry{Kind: directory.IndexPractice, ID: a.PracticeID}.Cursor()}
		ids := []uuid.UUID{two.ID, a.Providers[2].ID}
		slices.SortFunc(ids, func(x, y uuid.UUID) int { return strings.Compare(x.String(), y.String()) })
		for _, id := range ids {
			want = append(want, directory.IndexEntry{Kind: directory.IndexProvider, ID: id}.Cursor())
		}
		var got []string
		after := ""
		for range 10 {
			page, err := s.Index(ctx, after, 1)
			if err != nil {
				t.Fatalf("Index(%q): %v", after, err)
			}
			if len(page) == 0 {
				break
			}
			if !page[0].Updated.Equal(Epoch) {
				t.Errorf("%s updated %v, want %v", page[0].Cursor(), page[0].Updated, Epoch)
			}
			after = page[0].Cursor()
			got = append(got, after)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("index = %v\nwant %v", got, want)
		}
		all, err := s.Index(ctx, "", directory.MaxIndexLimit)
		if err != nil || len(all) != 3 {
			t.Errorf("Index in one page = %v, %v", all, err)
		}
		for _, tc := range []struct {
			field, after string
			limit        int
		}{{"after", "nope", 1}, {"after", "provider:" + strings.Repeat("z", 36), 1}, {"after", "clinic:" + newID().String(), 1},
			{"limit", "", 0}, {"limit", "", directory.MaxIndexLimit + 1}} {
			if _, err := s.Index(ctx, tc.after, tc.limit); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tc.field {
				t.Errorf("Index(%q, %d) = %v, want KindInvalid naming %s", tc.after, tc.limit, err, tc.field)
			}
		}
		b.Published = true
		put(t, s, b)
		a.Published = false
		put(t, s, a)
		all, _ = s.Index(ctx, "", 100)
		if len(all) != 2 || all[0].ID != b.PracticeID || all[1].ID != b.Providers[0].ID {
			t.Errorf("index after a opts out and b in = %+v", all)
		}
	})

	t.Run("a listing replaced unchanged keeps its times; a change moves them", func(t *testing.T) {
		s := open(t)
		p1 := Provider(1, "Same", []string{ortho}, Location("A", Brooklyn))
		p2 := Provider(2, "Moves", []string{ortho}, Location("B", Brooklyn))
		l := Listing("P", p1, p2)
		put(t, s, l)
		later := Epoch.Add(time.Hour)
		l.Updated = later
		soon := later.Add(3 * time.Hour)
		l.Providers[0].Locations[0].NextOpen = &soon // next open times are no change
		l.Providers[0].Locations[0].NextOpenVisitType = l.Providers[0].Locations[0].VisitTypes[0].ID
		put(t, s, l)
		times := func() map[uuid.UUID]time.Time {
			out := map[uuid.UUID]time.Time{}
			entries, err := s.Index(ctx, "", 10)
			if err != nil {
				t.Fatalf("Index: %v", err)
			}
			for _, e := range entries {
				out[e.ID] = e.Updated
			}
			return out
		}
		if m := times(); !m[l.PracticeID].Equal(Epoch) || !m[p1.ID].Equal(Epoch) || !m[p2.ID].Equal(Epoch) {
			t.Errorf("after an unchanged replacement: %v, want all %v", m, Epoch)
		}
		l.Providers[1].Languages = []string{"en", "fr"}
		put(t, s, l)
		if m := times(); !m[l.PracticeID].Equal(later) || !m[p1.ID].Equal(Epoch) || !m[p2.ID].Equal(later) {
			t.Errorf("after Moves changed: %v, want the practice and Moves at %v", m, later)
		}
	})

	t.Run("next open times: stored with the listing, updated alone, filtered and ordered by", func(t *testing.T) {
		s := open(t)
		now := Epoch
		at := func(h int) *time.Time {
			v := now.Add(time.Duration(h) * time.Hour)
			return &v
		}
		withOpen := func(p directory.Provider, h int) directory.Provider {
			if h >= 0 {
				p.Locations[0].NextOpen, p.Locations[0].NextOpenVisitType = at(h), p.Locations[0].VisitTypes[0].ID
				p.Locations[0].NextOpenUntil = at(h - 1)
			}
			return p
		}
		soon := withOpen(Provider(1, "Soon", []string{ortho}, Location("far", Offset(Brooklyn, 8, 0))), 2)
		week := withOpen(Provider(2, "Week", []string{ortho}, Location("mid", Offset(Brooklyn, 4, 0))), 24*6)
		none := withOpen(Provider(3, "None", []string{ortho}, Location("near", Offset(Brooklyn, 1, 0))), -1)
		stale := withOpen(Provider(4, "Stale", []string{ortho}, Location("nearer", Offset(Brooklyn, 0.5, 0))), -3)
		// Stale's next open time is to come, but past its last bookable
		// instant (the practice's notice).
		stale.Locations[0].NextOpen, stale.Locations[0].NextOpenVisitType = at(1), stale.Locations[0].VisitTypes[0].ID
		stale.Locations[0].NextOpenUntil = at(-1)
		prev := Location("prev", Offset(Brooklyn, 2, 90))
		prev.VisitTypes[0].Kind = directory.VisitPreventive
		two := Provider(5, "Two", []string{ortho}, Location("problem", Offset(Brooklyn, 0.2, 0)), prev)
		two.Locations[0].VisitTypes[0].Kind = directory.VisitProblem
		two.Locations[1].NextOpen, two.Locations[1].NextOpenVisitType = at(30), prev.VisitTypes[0].ID
		l := Listing("P", soon, week, none, stale, two)
		put(t, s, l)
		near := func(q directory.Query) directory.Query {
			q.Near, q.RadiusKm, q.At = &Brooklyn, 25, now
			return q
		}
		same(t, "nearest", search(t, s, near(directory.Query{})), "Two", "Stale", "None", "Week", "Soon")
		hits := search(t, s, near(directory.Query{OrderBySoonest: true}))
		same(t, "soonest near", hits, "Soon", "Two", "Week", "Stale", "None")
		if len(hits) == 5 && (hits[1].Location.Name != "prev" || hits[1].Location.NextOpen == nil || !hits[1].Location.NextOpen.Equal(*at(30))) {
			t.Errorf("Two's hit = %+v, want its location prev with its next open time", hits[1].Location)
		}
		same(t, "soonest anywhere", search(t, s, directory.Query{OrderBySoonest: true, At: now}), "Soon", "Two", "Week", "None", "Stale")
		same(t, "within 1 day", search(t, s, near(directory.Query{WithinDays: 1})), "Soon")
		hits = search(t, s, near(directory.Query{WithinDays: 2}))
		same(t, "within 2 days", hits, "Two", "Soon")
		if len(hits) == 2 {
			if hits[0].Location.Name != "prev" {
				t.Errorf("Two's location within 2 days = %s, want prev", hits[0].Location.Name)
			}
			if o := hits[0].Provider.Locations[1].NextOpen; o == nil || !o.Equal(*at(30)) {
				t.Errorf("Two's locations carry next open %v, want %v", o, at(30))
			}
		}
		same(t, "within 7 days", search(t, s, near(directory.Query{WithinDays: 7})), "Two", "Week", "Soon")
		same(t, "preventive", search(t, s, near(directory.Query{VisitKind: directory.VisitPreventive})), "Two")
		same(t, "new-patient", search(t, s, near(directory.Query{VisitKind: directory.VisitNewPatient})), "Stale", "None", "Week", "Soon")
		if h, err := s.Provider(ctx, stale.ID); err != nil || h.Location.NextOpen == nil || !h.Location.NextOpen.Equal(*at(1)) ||
			h.Location.NextOpenUntil == nil || !h.Location.NextOpenUntil.Equal(*at(-1)) || h.Location.OpenAt(now) != nil {
			t.Errorf("Provider(Stale) = %+v, %v: the store keeps the times as written, stale by now", h, err)
		}

		// PutNextOpen updates the times alone.
		for _, u := range []struct {
			p     directory.Provider
			opens []directory.NextOpen
		}{
			{none, []directory.NextOpen{{LocationID: none.Locations[0].ID, At: at(1), VisitTypeID: none.Locations[0].VisitTypes[0].ID}, {LocationID: newID(), At: at(1)}}},
			{soon, []directory.NextOpen{{LocationID: soon.Locations[0].ID}}},
			{Provider(9, "Unlisted", []string{ortho}, Location("x", Brooklyn)), []directory.NextOpen{{LocationID: newID(), At: at(1)}}},
		} {
			if err := s.PutNextOpen(ctx, l.PracticeID, u.p.ID, u.opens); err != nil {
				t.Errorf("PutNextOpen(%s): %v", u.p.FamilyName, err)
			}
		}
		same(t, "soonest after PutNextOpen", search(t, s, near(directory.Query{OrderBySoonest: true})), "None", "Two", "Week", "Stale", "Soon")
		same(t, "within 1 day after PutNextOpen", search(t, s, near(directory.Query{WithinDays: 1})), "None")
		if err := s.PutNextOpen(ctx, newID(), none.ID, []directory.NextOpen{{LocationID: none.Locations[0].ID}}); err != nil {
			t.Errorf("PutNextOpen of another practice: %v", err)
		}
		same(t, "another practice's PutNextOpen changes nothing", search(t, s, near(directory.Query{WithinDays: 1})), "None")

		bad := Listing("Q", withOpen(Provider(10, "Bad", []string{ortho}, Location("y", Brooklyn)), 1))
		bad.Providers[0].Locations[0].NextOpenVisitType = newID()
		if err := s.PutListing(ctx, bad); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "providers.locations.next_open_visit_type" {
			t.Errorf("PutListing with a next open of no listed visit type = %v", err)
		}
		for _, tc := range []struct {
			field string
			q     directory.Query
		}{
			{"within_days", directory.Query{WithinDays: 1}},
			{"within_days", directory.Query{WithinDays: 91, At: now}},
			{"within_days", directory.Query{WithinDays: -1, At: now}},
			{"visit_kind", directory.Query{VisitKind: "urgent"}},
		} {
			if _, err := s.Search(ctx, tc.q); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tc.field {
				t.Errorf("Search(%+v) = %v, want KindInvalid naming %s", tc.q, err, tc.field)
			}
		}
	})

	t.Run("next open times per kind: stored, replaced, filtered and ordered by, gone with the listing", func(t *testing.T) {
		s := open(t)
		now := Epoch
		at := func(h int) time.Time { return now.Add(time.Duration(h) * time.Hour) }
		// Both offers a new-patient visit in 20 days and a follow-up in 2
		// hours; New a new-patient visit in 3 days; Stale one in 5 hours,
		// no longer bookable (past its notice).
		both := Provider(1, "Both", []string{ortho}, Location("A", Offset(Brooklyn, 1, 0)))
		a := &both.Locations[0]
		a.VisitTypes = append(a.VisitTypes, directory.VisitType{ID: newID(), Name: "Follow-up", Kind: directory.VisitFollowUp, Minutes: 15})
		npVT, fuVT := a.VisitTypes[0].ID, a.VisitTypes[1].ID
		soon := at(2)
		a.NextOpen, a.NextOpenVisitType, a.NextOpenUntil = &soon, fuVT, &soon
		a.KindOpens = []directory.KindOpen{{Kind: directory.VisitFollowUp, At: soon, VisitTypeID: fuVT, Until: soon},
			{Kind: directory.VisitNewPatient, At: at(480), VisitTypeID: npVT, Until: at(479)}}
		kindOnly := func(p directory.Provider, h, until int) directory.Provider {
			l := &p.Locations[0]
			v, u := at(h), at(until)
			l.NextOpen, l.NextOpenVisitType, l.NextOpenUntil = &v, l.VisitTypes[0].ID, &u
			l.KindOpens = []directory.KindOpen{{Kind: directory.VisitNewPatient, At: v, VisitTypeID: l.VisitTypes[0].ID, Until: u}}
			return p
		}
		fresh := kindOnly(Provider(2, "New", []string{ortho}, Location("B", Offset(Brooklyn, 2, 0))), 72, 71)
		stale := kindOnly(Provider(3, "Stale", []string{ortho}, Location("C", Offset(Brooklyn, 3, 0))), 5, -1)
		l := Listing("P", both, fresh, stale)
		put(t, s, l)
		q := func(kind directory.VisitKind, within int, soonest bool) directory.Query {
			return directory.Query{Near: &Brooklyn, RadiusKm: 25, At: now, VisitKind: kind, WithinDays: within, OrderBySoonest: soonest}
		}
		np := directory.VisitNewPatient
		same(t, "new-patient within 7 days", search(t, s, q(np, 7, false)), "New")
		same(t, "any kind within 7 days", search(t, s, q("", 7, false)), "Both", "New")
		hits := search(t, s, q(np, 30, false))
		same(t, "new-patient within 30 days", hits, "Both", "New")
		if len(hits) == 2 {
			if o := hits[0].Location.NextOpen; o == nil || !o.Equal(at(480)) || hits[0].Location.NextOpenVisitType != npVT ||
				hits[0].Provider.Locations[0].NextOpen == nil || !hits[0].Provider.Locations[0].NextOpen.Equal(at(480)) {
				t.Errorf("Both's new-patient hit shows %v of %v, want %v of the new-patient visit type", o, hits[0].Location.NextOpenVisitType, at(480))
			}
			if hits[0].Location.KindOpens != nil {
				t.Errorf("a search's hit carries KindOpens %v, want none", hits[0].Location.KindOpens)
			}
		}
		same(t, "soonest new-patient", search(t, s, q(np, 0, true)), "New", "Both", "Stale")
		same(t, "soonest of any kind", search(t, s, q("", 0, true)), "Both", "New", "Stale")
		hits = search(t, s, q(directory.VisitPreventive, 0, true))
		same(t, "no preventive visits", hits)
		if h, err := s.Provider(ctx, both.ID); err != nil || fmt.Sprint(h.Location.KindOpens) != fmt.Sprint(a.KindOpens) {
			t.Errorf("Provider(Both) = %+v, %v: want its kinds' times %v", h, err, a.KindOpens)
		}
		if pr, err := s.Practice(ctx, l.PracticeID); err != nil || len(pr.Providers) != 3 || len(pr.Providers[0].Locations[0].KindOpens) != 2 {
			t.Errorf("Practice = %+v, %v: want Both's two kinds' times", pr, err)
		}

		// PutNextOpen replaces a location's kinds whole; unlisted
		// locations are passed over.
		day := at(24)
		if err := s.PutNextOpen(ctx, l.PracticeID, both.ID, []directory.NextOpen{
			{LocationID: a.ID, At: &day, VisitTypeID: npVT, Kinds: []directory.KindOpen{{Kind: np, At: day, VisitTypeID: npVT}}},
			{LocationID: newID(), At: &day, VisitTypeID: npVT, Kinds: []directory.KindOpen{{Kind: np, At: day, VisitTypeID: npVT}}},
		}); err != nil {
			t.Fatalf("PutNextOpen: %v", err)
		}
		same(t, "new-patient within 2 days after PutNextOpen", search(t, s, q(np, 2, false)), "Both")
		same(t, "follow-up within 7 days after PutNextOpen", search(t, s, q(directory.VisitFollowUp, 7, false)))
		if h, err := s.Provider(ctx, both.ID); err != nil || len(h.Location.KindOpens) != 1 || !h.Location.KindOpens[0].Until.Equal(day) {
			t.Errorf("Provider(Both) after PutNextOpen = %+v, %v: want one kind's time, until itself", h, err)
		}
		if err := s.PutNextOpen(ctx, newID(), fresh.ID, []directory.NextOpen{{LocationID: fresh.Locations[0].ID}}); err != nil {
			t.Errorf("PutNextOpen of another practice: %v", err)
		}
		same(t, "another practice's PutNextOpen changes nothing", search(t, s, q(np, 7, false)), "Both", "New")

		// PutListing replaces them too; they go with the listing.
		l.Providers[1].Locations[0].KindOpens = nil
		put(t, s, l)
		same(t, "new-patient within 30 days after the replacement", search(t, s, q(np, 30, false)), "Both")
		if err := s.RemoveListing(ctx, l.PracticeID); err != nil {
			t.Fatalf("RemoveListing: %v", err)
		}
		for i := range l.Providers {
			l.Providers[i].Locations[0].KindOpens = nil
		}
		put(t, s, l)
		same(t, "new-patient within 30 days after removal", search(t, s, q(np, 30, false)))
		if h, err := s.Provider(ctx, both.ID); err != nil || len(h.Location.KindOpens) != 0 {
			t.Errorf("Provider(Both) after removal = %+v, %v: want no kinds' times", h, err)
		}

		for _, tc := range []struct {
			field string
			o     directory.KindOpen
		}{
			{"providers.locations.kind_opens.visit_type_id", directory.KindOpen{Kind: directory.VisitFollowUp, At: day, VisitTypeID: npVT}},
			{"providers.locations.kind_opens.kind", directory.KindOpen{Kind: "urgent", At: day, VisitTypeID: npVT}},
			{"providers.locations.kind_opens.at", directory.KindOpen{Kind: np, VisitTypeID: npVT}},
		} {
			bad := Listing("Q", Provider(10, "Bad", []string{ortho}, Location("y", Brooklyn)))
			tc.o.VisitTypeID = bad.Providers[0].Locations[0].VisitTypes[0].ID
			bad.Providers[0].Locations[0].KindOpens = []directory.KindOpen{tc.o}
			if err := s.PutListing(ctx, bad); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != tc.field {
				t.Errorf("PutListing with a bad %s = %v", tc.field, err)
			}
		}
	})

	t.Run("a generated directory", func(t *testing.T) {
		s := open(t)
		for _, l := range Generate(300, 1) {
			put(t, s, l)
		}
		hits := search(t, s, directory.Query{Specialties: []string{"207Q00000X"}, Near: &Brooklyn, RadiusKm: 25, Limit: 20})
		if len(hits) == 0 {
			t.Fatal("no family doctor within 25 km of Brooklyn")
		}
		for i, h := range hits {
			if h.DistanceKm > 25 || (i > 0 && h.DistanceKm < hits[i-1].DistanceKm) {
				t.Errorf("hit %d at %.2f km after %.2f", i, h.DistanceKm, hits[max(i-1, 0)].DistanceKm)
			}
		}
	})
}
