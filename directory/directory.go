package directory

import (
	"context"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Point is a place on Earth, in degrees (WGS 84).
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Address is a location's postal address.
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	Region     string `json:"region"`      // state or province, such as "NY"
	PostalCode string `json:"postal_code"` // such as "11201"
	Country    string `json:"country"`     // ISO 3166-1 alpha-2, such as "US"
}

// VisitType is a visit type offered at a location, as published.
type VisitType struct {
	ID      scheduling.VisitTypeID `json:"id"`
	Name    string                 `json:"name"`
	Kind    VisitKind              `json:"kind"`
	Minutes int                    `json:"minutes"`
}

// Location is a place a provider works at, with the visit types offered
// there.
type Location struct {
	ID      tenant.LocationID `json:"id"`
	Name    string            `json:"name"`
	Address Address           `json:"address"`
	Geo     Point             `json:"geo"`
	// TimeZone is the location's IANA time zone ("America/New_York"), in
	// which pages show its open times; "" when the practice set none.
	TimeZone   string      `json:"time_zone,omitempty"`
	VisitTypes []VisitType `json:"visit_types"`
	// NextOpen is the soonest start a patient can book with the provider
	// here within Horizon, of visit type NextOpenVisitType (one of
	// VisitTypes), computed with scheduling's OpenSlots under the
	// practice's booking policy; nil when there is none. Stores keep it
	// beside the published record and update it alone (PutNextOpen).
	NextOpen          *time.Time             `json:"next_open,omitempty"`
	NextOpenVisitType scheduling.VisitTypeID `json:"next_open_visit_type"`
	// NextOpenUntil is the last instant NextOpen may still be booked:
	// NextOpen less the practice's minimum notice. After it NextOpen is
	// stale, and searches and the Engine count it as none; nil is NextOpen
	// itself.
	NextOpenUntil *time.Time `json:"next_open_until,omitempty"`
	// KindOpens are the location's next open times per visit kind, one for
	// each kind of VisitTypes that has one within Horizon, by kind name: what a
	// search by kind filters and orders by. Stores keep them beside the
	// published record, as NextOpen; Search fills them in no hit (it sets
	// NextOpen to Query.VisitKind's instead), Provider and Practice do.
	KindOpens []KindOpen `json:"kind_opens,omitempty"`
}

// KindOpen is a location's next open time for one visit kind: the soonest
// start a patient can book among the location's visit types of that kind,
// of visit type VisitTypeID, and the last instant it may be booked (see
// Location.NextOpenUntil; zero is At itself).
type KindOpen struct {
	Kind        VisitKind              `json:"kind"`
	At          time.Time              `json:"at"`
	VisitTypeID scheduling.VisitTypeID `json:"visit_type_id"`
	Until       time.Time              `json:"until"`
}

// Fresh reports whether o may still be booked at now (not past Until).
func (o KindOpen) Fresh(now time.Time) bool {
	until := o.Until
	if until.IsZero() {
		until = o.At
	}
	return !now.After(until)
}

// UseKind sets l's next open time (NextOpen, NextOpenVisitType,
// NextOpenUntil) to its kind k's, from KindOpens: none when k has none.
// The pages of a search by kind show the kind's time, the one booking
// takes for it.
func (l *Location) UseKind(k VisitKind) {
	l.NextOpen, l.NextOpenVisitType, l.NextOpenUntil = nil, uuid.Nil, nil
	for _, o := range l.KindOpens {
		if o.Kind == k {
			at, until := o.At, o.Until
			if until.IsZero() {
				until = at
			}
			l.NextOpen, l.NextOpenVisitType, l.NextOpenUntil = &at, o.VisitTypeID, &until
		}
	}
}

// OpenAt returns l's next open time as of now: nil when it has none or
// it is stale (after NextOpenUntil).
func (l *Location) OpenAt(now time.Time) *time.Time {
	if l.NextOpen == nil {
		return nil
	}
	until := l.NextOpen
	if l.NextOpenUntil != nil {
		until = l.NextOpenUntil
	}
	if now.After(*until) {
		return nil
	}
	return l.NextOpen
}

// Offers reports whether one of l's visit types is of kind k.
func (l *Location) Offers(k VisitKind) bool {
	for _, v := range l.VisitTypes {
		if v.Kind == k {
			return true
		}
	}
	return false
}

// Provider is a listed provider.
type Provider struct {
	ID          scheduling.ProviderID `json:"id"`
	NPI         string                `json:"npi"`
	GivenName   string                `json:"given_name"`
	FamilyName  string                `json:"family_name"`
	Specialties []string              `json:"specialties"` // NUCC taxonomy codes, the primary first
	Languages   []string              `json:"languages"`   // lower-case ISO 639 codes, such as "en"
	// AcceptingNew says whether the provider takes new patients.
	AcceptingNew bool       `json:"accepting_new"`
	Locations    []Location `json:"locations"`
	// Hidden keeps the provider out of the directory; a hidden provider
	// is never stored.
	Hidden bool `json:"-"`
}

// Listing is what one practice publishes: its providers, shown only if
// the practice opted in (Published).
type Listing struct {
	PracticeID   tenant.PracticeID
	PracticeName string
	Published    bool
	Providers    []Provider
	// Updated is when the listing was built. A store keeps the earlier
	// time of a provider (and of the practice) whose published record did
	// not change, so that a sitemap's dates move only with what pages show.
	Updated time.Time
	// Taxonomy names the providers' specialties in their search documents
	// (SearchDocumentIn; nil: the curated table). The Engine sets its own,
	// the one its searches resolve words by (Query.Taxonomy).
	Taxonomy *Taxonomy
}

// Limits of a listing and of a query.
const (
	MaxProviders   = 5000 // per listing
	MaxLocations   = 50   // per provider
	MaxVisitTypes  = 50   // per location
	MaxSpecialties = 10   // per provider, and per query
	MaxLanguages   = 20   // per provider
	MaxText        = 200  // bytes of a name, an address line or a query's words
	MaxWords       = 8    // words of a query
	MaxRadiusKm    = 500
	MaxLimit       = 100
	DefaultLimit   = 20
)

var language = regexp.MustCompile(`^[a-z]{2,3}$`)

// Validate checks l, naming the field at fault.
func (l *Listing) Validate() error {
	const op = "directory.Listing"
	if l.PracticeID == uuid.Nil {
		return errs.Invalid(op, "practice_id", "is required")
	}
	if err := text(op, "practice_name", l.PracticeName, true); err != nil {
		return err
	}
	if l.Updated.IsZero() {
		return errs.Invalid(op, "updated", "is required")
	}
	if len(l.Providers) > MaxProviders {
		return errs.Invalid(op, "providers", "more than 5000 providers")
	}
	seen := map[uuid.UUID]bool{}
	for i := range l.Providers {
		p := &l.Providers[i]
		if seen[p.ID] {
			return errs.Invalid(op, "providers", "provider "+p.ID.String()+" is listed twice")
		}
		seen[p.ID] = true
		if err := p.validate(op); err != nil {
			return err
		}
	}
	return nil
}

func (p *Provider) validate(op string) error {
	switch {
	case p.ID == uuid.Nil:
		return errs.Invalid(op, "providers.id", "is required")
	case !scheduling.ValidNPI(p.NPI):
		return errs.Invalid(op, "providers.npi", "is not a valid NPI (10 digits with its check digit)")
	case len(p.Specialties) == 0 || len(p.Specialties) > MaxSpecialties:
		return errs.Invalid(op, "providers.specialties", "needs 1 to 10 taxonomy codes")
	case len(p.Languages) > MaxLanguages:
		return errs.Invalid(op, "providers.languages", "more than 20 languages")
	case len(p.Locations) == 0 || len(p.Locations) > MaxLocations:
		return errs.Invalid(op, "providers.locations", "needs 1 to 50 locations")
	}
	if err := text(op, "providers.given_name", p.GivenName, false); err != nil {
		return err
	}
	if err := text(op, "providers.family_name", p.FamilyName, true); err != nil {
		return err
	}
	for _, c := range p.Specialties {
		if !ValidTaxonomyCode(c) {
			return errs.Invalid(op, "providers.specialties", "code "+quote(c)+" is not a taxonomy code (9 digits or capitals, then X)")
		}
	}
	for _, lang := range p.Languages {
		if !language.MatchString(lang) {
			return errs.Invalid(op, "providers.languages", "code "+quote(lang)+" is not a lower-case ISO 639 code")
		}
	}
	locs := map[uuid.UUID]bool{}
	for i := range p.Locations {
		l := &p.Locations[i]
		if l.ID == uuid.Nil || locs[l.ID] {
			return errs.Invalid(op, "providers.locations.id", "is missing or given twice")
		}
		locs[l.ID] = true
		if err := l.validate(op); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks l as a listing's location, naming the field at fault.
func (l *Location) Validate() error { return l.validate("directory.Location") }

func (l *Location) validate(op string) error {
	if err := l.Geo.validate(op, "providers.locations.geo"); err != nil {
		return err
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"providers.locations.name", l.Name, true},
		{"providers.locations.address.line1", l.Address.Line1, true},
		{"providers.locations.address.line2", l.Address.Line2, false},
		{"providers.locations.address.city", l.Address.City, true},
		{"providers.locations.address.region", l.Address.Region, false},
		{"providers.locations.address.postal_code", l.Address.PostalCode, true},
	} {
		if err := text(op, f.name, f.v, f.required); err != nil {
			return err
		}
	}
	if len(l.Address.Country) != 2 || strings.ToUpper(l.Address.Country) != l.Address.Country ||
		strings.IndexFunc(l.Address.Country, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return errs.Invalid(op, "providers.locations.address.country", "is not an ISO 3166-1 alpha-2 code")
	}
	if l.TimeZone != "" {
		if _, err := LoadZone(l.TimeZone); err != nil {
			return errs.Invalid(op, "providers.locations.time_zone", "is not an IANA time zone")
		}
	}
	if len(l.VisitTypes) > MaxVisitTypes {
		return errs.Invalid(op, "providers.locations.visit_types", "more than 50 visit types")
	}
	if l.NextOpen != nil && !slices.ContainsFunc(l.VisitTypes, func(v VisitType) bool { return v.ID == l.NextOpenVisitType }) {
		return errs.Invalid(op, "providers.locations.next_open_visit_type", "is not one of the location's visit types")
	}
	seen := map[VisitKind]bool{}
	for _, o := range l.KindOpens {
		switch {
		case !o.Kind.valid() || seen[o.Kind]:
			return errs.Invalid(op, "providers.locations.kind_opens.kind", "is not a visit kind, or is given twice")
		case o.At.IsZero():
			return errs.Invalid(op, "providers.locations.kind_opens.at", "is required")
		case !slices.ContainsFunc(l.VisitTypes, func(v VisitType) bool { return v.ID == o.VisitTypeID && v.Kind == o.Kind }):
			return errs.Invalid(op, "providers.locations.kind_opens.visit_type_id", "is not one of the location's visit types of its kind")
		}
		seen[o.Kind] = true
	}
	for _, v := range l.VisitTypes {
		switch {
		case v.ID == uuid.Nil:
			return errs.Invalid(op, "providers.locations.visit_types.id", "is required")
		case !v.Kind.valid():
			return errs.Invalid(op, "providers.locations.visit_types.kind", "is not a visit kind")
		case v.Minutes <= 0 || v.Minutes > 24*60:
			return errs.Invalid(op, "providers.locations.visit_types.minutes", "must be 1 to 1440")
		}
		if err := text(op, "providers.locations.visit_types.name", v.Name, true); err != nil {
			return err
		}
	}
	return nil
}

func (p Point) validate(op, field string) error {
	if math.IsNaN(p.Lat) || p.Lat < -90 || p.Lat > 90 {
		return errs.Invalid(op, field+".lat", "must be -90 to 90")
	}
	if math.IsNaN(p.Lon) || p.Lon < -180 || p.Lon > 180 {
		return errs.Invalid(op, field+".lon", "must be -180 to 180")
	}
	return nil
}

// text checks a free-text field: valid UTF-8 without NUL or other control
// characters, at most MaxText bytes, and not blank if required.
func text(op, field, s string, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return errs.Invalid(op, field, "is required")
	case len(s) > MaxText:
		return errs.Invalid(op, field, "is longer than 200 bytes")
	case !utf8Clean(s):
		return errs.Invalid(op, field, "holds invalid UTF-8 or a control character")
	}
	return nil
}

func utf8Clean(s string) bool {
	for _, r := range s {
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func quote(s string) string {
	if len(s) > 20 {
		s = s[:20] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}

// Words splits s into search words: runs of letters and digits, lower-cased;
// everything else separates them. "Back-pain!" is ["back" "pain"].
func Words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// SearchDocument returns the words a provider is found by: its names, its
// specialties' display names (from the curated table), and the names and
// synonyms of the concerns those specialties treat, each word once.
func (p *Provider) SearchDocument() string { return p.SearchDocumentIn(nil) }

// SearchDocumentIn is SearchDocument with the display names of taxonomy t
// (nil: the curated table), so that a specialty only a loaded NUCC file
// names is found by its name too.
func (p *Provider) SearchDocumentIn(t *Taxonomy) string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		for _, w := range Words(s) {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	add(p.GivenName)
	add(p.FamilyName)
	for _, c := range p.Specialties {
		if s, ok := t.Lookup(c); ok {
			add(s.Name)
		}
		for _, t := range concernTerms[c] {
			add(t)
		}
	}
	return strings.Join(out, " ")
}

// Query is a search of the directory. Every condition given must hold.
type Query struct {
	// Words must each begin a word of a provider's search document (see
	// SearchDocument): "back pa" finds the providers of back pain.
	Words []string
	// Specialties, if any: the provider has at least one of them.
	Specialties []string
	// Near and RadiusKm, if Near is set: a location of the provider is
	// within RadiusKm kilometres of Near (great-circle distance), and
	// results come nearest first. Without Near, by family then given name.
	Near     *Point
	RadiusKm float64
	// AcceptingNew keeps only providers who take new patients.
	AcceptingNew bool
	// Language, if set, keeps only providers who speak it.
	Language string
	// VisitKind, if set, keeps only locations offering a visit type of
	// that kind.
	VisitKind VisitKind
	// WithinDays, if not 0, keeps only locations whose next open time is
	// within that many days (1 to 90) of At: with VisitKind, the next open
	// time of that kind (Location.KindOpens), else of any.
	WithinDays int
	// OrderBySoonest orders results by the next open time (none last;
	// with VisitKind, that kind's), then by distance (with Near) or name,
	// and picks each provider's soonest matching location.
	OrderBySoonest bool
	// At is the time now, from which WithinDays counts; next open times
	// stale by then (see Location.NextOpenUntil) count as none. The Engine sets it from its
	// clock; it is required with WithinDays.
	At time.Time
	// Limit is the most results; 0 means DefaultLimit.
	Limit int
	// Taxonomy resolves Words to specialties (see Taxonomy.Terms; nil: the
	// curated table): it must be the one the listings' search documents
	// were built with (Listing.Taxonomy). The Engine sets its own.
	Taxonomy *Taxonomy
}

// ParseWords sets q.Words from what a patient typed.
func (q *Query) ParseWords(s string) { q.Words = Words(s) }

// Normalize checks q, naming the field at fault, and returns it with its
// defaults filled in.
func (q Query) Normalize() (Query, error) {
	const op = "directory.Search"
	if len(q.Words) > MaxWords {
		return q, errs.Invalid(op, "q", "more than 8 words")
	}
	n := 0
	for _, w := range q.Words {
		n += len(w)
		if ws := Words(w); len(ws) != 1 || ws[0] != w {
			return q, errs.Invalid(op, "q", "word "+quote(w)+" is not one lower-case word of letters and digits")
		}
	}
	if n > MaxText {
		return q, errs.Invalid(op, "q", "is longer than 200 bytes")
	}
	if len(q.Specialties) > MaxSpecialties {
		return q, errs.Invalid(op, "specialty", "more than 10 specialties")
	}
	for _, c := range q.Specialties {
		if !ValidTaxonomyCode(c) {
			return q, errs.Invalid(op, "specialty", "code "+quote(c)+" is not a taxonomy code")
		}
	}
	if q.Near != nil {
		if err := q.Near.validate(op, "near"); err != nil {
			return q, err
		}
		if math.IsNaN(q.RadiusKm) || q.RadiusKm <= 0 || q.RadiusKm > MaxRadiusKm {
			return q, errs.Invalid(op, "radius", "must be more than 0 and at most 500 km")
		}
	} else if q.RadiusKm != 0 {
		return q, errs.Invalid(op, "radius", "needs a point to be near")
	}
	if q.Language != "" && !language.MatchString(q.Language) {
		return q, errs.Invalid(op, "language", "is not a lower-case ISO 639 code")
	}
	if q.VisitKind != "" && !q.VisitKind.valid() {
		return q, errs.Invalid(op, "visit_kind", "is not a visit kind (new-patient, problem, preventive or follow-up)")
	}
	switch {
	case q.WithinDays < 0 || q.WithinDays > int(Horizon/(24*time.Hour)):
		return q, errs.Invalid(op, "within_days", "must be 0 to 90")
	case q.WithinDays > 0 && q.At.IsZero():
		return q, errs.Invalid(op, "within_days", "needs the time it counts from (Query.At)")
	}
	switch {
	case q.Limit < 0 || q.Limit > MaxLimit:
		return q, errs.Invalid(op, "limit", "must be 0 to 100")
	case q.Limit == 0:
		q.Limit = DefaultLimit
	}
	return q, nil
}

// Hit is one provider found, at the nearest of its locations that matched
// (without Near, its first location).
type Hit struct {
	PracticeID   tenant.PracticeID
	PracticeName string
	Provider     Provider
	Location     Location
	DistanceKm   float64 // 0 without Near
}

// Store keeps the directory. It spans practices: it is the one store not
// scoped to a tenant, and it holds only what practices publish.
type Store interface {
	// InTx runs fn in one transaction carried in its context.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// PutListing replaces practice l.PracticeID's whole listing with l (valid,
	// see Listing.Validate): if l is not Published, the practice's listing
	// is removed; its hidden providers are left out.
	PutListing(ctx context.Context, l *Listing) error
	// RemoveListing removes every provider practice listed; none is no error.
	RemoveListing(ctx context.Context, practice tenant.PracticeID) error
	// Search returns the providers matching q (normalized, see
	// Query.Normalize), at most q.Limit of them, each location of each
	// hit's provider with its next open time: with q.VisitKind, that
	// kind's (none when it has none), and KindOpens left empty.
	Search(ctx context.Context, q Query) ([]Hit, error)
	// Provider returns a listed provider with every listed location (and
	// its next open times, NextOpen and KindOpens), Location its first;
	// KindNotFound when no published practice lists it.
	Provider(ctx context.Context, id scheduling.ProviderID) (*Hit, error)
	// Practice returns practice's published listing, its providers by
	// name with their next open times (NextOpen and KindOpens);
	// KindNotFound when it is not published.
	Practice(ctx context.Context, id tenant.PracticeID) (*Listing, error)
	// Index returns the listed practices (by ID), then the listed
	// providers (by ID), after the cursor after (see IndexEntry.Cursor;
	// "" is the start), at most limit (1 to MaxIndexLimit) of them. A bad
	// cursor or limit is KindInvalid naming it.
	Index(ctx context.Context, after string, limit int) ([]IndexEntry, error)
	// PutNextOpen sets the next open times of provider's listed locations
	// that opens name, as given (the caller computed them for the visit
	// types it listed), each location's per-kind times (NextOpen.Kinds)
	// replacing its earlier ones whole; locations not listed are passed
	// over, and a provider not listed is no error.
	PutNextOpen(ctx context.Context, practice tenant.PracticeID, provider scheduling.ProviderID, opens []NextOpen) error
}
