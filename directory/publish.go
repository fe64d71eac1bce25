package directory

import (
	"context"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Profile is what a practice publishes of one of its providers beyond the
// scheduling record: the provider's specialties as NUCC taxonomy codes
// (scheduling's specialty words are the practice's own), languages,
// whether they take new patients, and whether they are hidden. A provider
// without a profile is not listed.
type Profile struct {
	ProviderID scheduling.ProviderID `json:"provider_id"`
	// Taxonomies are NUCC provider taxonomy codes, the primary first.
	Taxonomies []string `json:"taxonomies"`
	// Languages are lower-case ISO 639 codes, such as "en".
	Languages    []string `json:"languages"`
	AcceptingNew bool     `json:"accepting_new"`
	// Hidden keeps the provider out of the directory.
	Hidden bool `json:"hidden"`
}

// Validate checks p, naming the field at fault.
func (p *Profile) Validate() error {
	const op = "directory.Profile"
	switch {
	case p.ProviderID == uuid.Nil:
		return errs.Invalid(op, "provider_id", "is required")
	case len(p.Taxonomies) == 0 || len(p.Taxonomies) > MaxSpecialties:
		return errs.Invalid(op, "taxonomies", "needs 1 to 10 taxonomy codes")
	case len(p.Languages) > MaxLanguages:
		return errs.Invalid(op, "languages", "more than 20 languages")
	}
	seen := map[string]bool{}
	for _, c := range p.Taxonomies {
		if !ValidTaxonomyCode(c) {
			return errs.Invalid(op, "taxonomies", "code "+quote(c)+" is not a taxonomy code (9 digits or capitals, then X)")
		}
		if seen[c] {
			return errs.Invalid(op, "taxonomies", "code "+quote(c)+" is given twice")
		}
		seen[c] = true
	}
	for _, l := range p.Languages {
		if !language.MatchString(l) {
			return errs.Invalid(op, "languages", "code "+quote(l)+" is not a lower-case ISO 639 code")
		}
		if seen[l] {
			return errs.Invalid(op, "languages", "code "+quote(l)+" is given twice")
		}
		seen[l] = true
	}
	return nil
}

// VisitSetting is how a practice lists one of its visit types: its kind,
// and whether it is left out of the directory.
type VisitSetting struct {
	VisitTypeID scheduling.VisitTypeID `json:"visit_type_id"`
	Kind        VisitKind              `json:"kind"`
	Hidden      bool                   `json:"hidden"`
}

// Validate checks v, naming the field at fault.
func (v *VisitSetting) Validate() error {
	const op = "directory.VisitSetting"
	switch {
	case v.VisitTypeID == uuid.Nil:
		return errs.Invalid(op, "visit_type_id", "is required")
	case !v.Kind.valid():
		return errs.Invalid(op, "kind", "is not a visit kind (new-patient, problem, preventive or follow-up)")
	}
	return nil
}

// Valid reports whether k is one of the kinds.
func (k VisitKind) Valid() bool { return k.valid() }

// DefaultKind is the kind of a visit type that its practice has not set:
// new-patient for a visit type only for new patients, otherwise problem.
func DefaultKind(a scheduling.Audience) VisitKind {
	if a == scheduling.NewOnly {
		return VisitNewPatient
	}
	return VisitProblem
}

// Settings are a practice's directory settings: whether it is published,
// and the visit types it set a kind for or hid.
type Settings struct {
	PracticeID tenant.PracticeID `json:"practice_id"`
	Published  bool              `json:"published"`
	// VisitTypes are the visit types' settings, by visit type ID; a visit
	// type without one is listed with DefaultKind.
	VisitTypes []VisitSetting `json:"visit_types"`
}

// VisitSetting returns the setting of visit type vt: its own, or the
// default of a listed visit type of audience a.
func (s *Settings) VisitSetting(vt scheduling.VisitTypeID, a scheduling.Audience) VisitSetting {
	for _, v := range s.VisitTypes {
		if v.VisitTypeID == vt {
			return v
		}
	}
	return VisitSetting{VisitTypeID: vt, Kind: DefaultKind(a)}
}

// SettingsStore keeps each practice's directory settings and its
// providers' profiles: tenant data, every call scoped by its practice.
type SettingsStore interface {
	// PutPublished sets whether practice is published.
	PutPublished(ctx context.Context, practice tenant.PracticeID, published bool, at time.Time) error
	// PutProfile writes p (valid), replacing the provider's profile; a
	// provider unknown to practice is KindNotFound naming provider_id.
	PutProfile(ctx context.Context, practice tenant.PracticeID, p *Profile, at time.Time) error
	// PutVisitSetting writes v (valid), replacing the visit type's; a visit
	// type unknown to practice is KindNotFound naming visit_type_id.
	PutVisitSetting(ctx context.Context, practice tenant.PracticeID, v *VisitSetting, at time.Time) error
	// Settings returns practice's settings (unpublished, none set, when it
	// never set any).
	Settings(ctx context.Context, practice tenant.PracticeID) (*Settings, error)
	// Profiles returns practice's profiles, by provider ID.
	Profiles(ctx context.Context, practice tenant.PracticeID) ([]Profile, error)
	// PublishedPractices returns the published practices with an ID after
	// after (uuid.Nil: from the first), by ID, at most limit of them.
	PublishedPractices(ctx context.Context, after tenant.PracticeID, limit int) ([]tenant.PracticeID, error)
}

// NextOpen is the soonest time a provider can be booked at a location, as
// a patient would book it, and the visit type it is for; At nil when there
// is none within the directory's horizon.
type NextOpen struct {
	LocationID  tenant.LocationID
	At          *time.Time
	VisitTypeID scheduling.VisitTypeID
	// Until is the last instant At may be booked (see
	// Location.NextOpenUntil); nil is At itself.
	Until *time.Time
	// Kinds are the location's next open times per visit kind (see
	// Location.KindOpens): one for each kind that has one, by kind.
	Kinds []KindOpen
}

// Horizon is how far ahead next open times are looked for.
const Horizon = 90 * 24 * time.Hour

// The kinds of IndexEntry.
const (
	IndexPractice = "practice"
	IndexProvider = "provider"
)

// IndexEntry is one public page of the directory, for a sitemap: a listed
// practice or provider, and when what it shows last changed (next open
// times aside).
type IndexEntry struct {
	Kind    string // IndexPractice or IndexProvider
	ID      uuid.UUID
	Updated time.Time
}

// Cursor is what the Index after e continues from.
func (e IndexEntry) Cursor() string { return e.Kind + ":" + e.ID.String() }

// MaxIndexLimit bounds one page of the index: a sitemap file's URLs.
const MaxIndexLimit = 50000

// ParseCursor checks an index cursor (see IndexEntry.Cursor; "" is the
// start), naming the field "after".
func ParseCursor(after string) (kind string, id uuid.UUID, err error) {
	if after == "" {
		return "", uuid.Nil, nil
	}
	k, s, ok := strings.Cut(after, ":")
	if ok && (k == IndexPractice || k == IndexProvider) {
		if id, err := uuid.Parse(s); err == nil && len(s) == 36 {
			return k, id, nil
		}
	}
	return "", uuid.Nil, errs.Invalid("directory.Index", "after", "is not a cursor of the index (practice:<id> or provider:<id>)")
}
