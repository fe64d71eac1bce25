package carebook

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The public "find a doctor" directory (package directory). A practice
// opts in (PublishDirectory) and says what it publishes of each provider
// (PutDirectoryProfile: NUCC taxonomy codes, languages, new patients,
// hidden) and of each visit type (PutDirectoryVisitType: its kind,
// hidden); its staff holding practice.manage do, and each change is in the
// activity log. RefreshDirectory then builds the practice's listing from
// the tenant (name, locations), scheduling (providers, visit types) and
// those settings, with each provider's next open time at each location,
// and writes it to the directory's store; an unpublished practice's
// listing is removed. The next open times are kept fresh by observers of
// appointment changes, of availability block changes (scheduling's
// CreateBlock, UpdateBlock and DeleteBlock: the block's provider) and of
// booking policy changes (tenant's SetPolicy: the practice's listing), each
// in the change's transaction, and by the periodic refresh (RegisterJobs
// with JobsConfig.RefreshDirectory), which also picks up changes of
// providers, visit types and locations.
//
// The reads (SearchDirectory, DirectoryProvider, DirectoryPractice,
// DirectoryIndex) are public: they need no caller, and the store holds
// nothing a practice did not publish.

// DirectoryProfile is what a practice publishes of one provider: see
// directory.Profile.
type DirectoryProfile = directory.Profile

// directoryAccess is the access to practice's directory settings.
func directoryAccess(practice tenant.PracticeID, action, resourceType, resourceID string) Access {
	return Access{Permission: rbac.PracticeManage, PracticeID: practice, Action: action, ResourceType: resourceType, ResourceID: resourceID}
}

// PublishDirectory opts practice into the public directory (published) or
// out of it, for its staff holding practice.manage, and refreshes its
// listing in the same transaction.
func (e *Engine) PublishDirectory(ctx context.Context, practice tenant.PracticeID, published bool) error {
	return e.writeDirectory(ctx, directoryAccess(practice, "directory.publish", "practice", practice.String()), nil,
		func(ctx context.Context) error {
			return e.store.Directory.PutPublished(ctx, practice, published, e.Clock.Now())
		})
}

// PutDirectoryProfile writes what practice publishes of provider
// p.ProviderID, replacing its earlier profile, for its staff holding
// practice.manage, and refreshes the practice's listing in the same
// transaction. Bad input is KindInvalid naming the field (taxonomies,
// languages); a provider unknown to the practice is KindNotFound naming
// provider_id.
func (e *Engine) PutDirectoryProfile(ctx context.Context, practice tenant.PracticeID, p DirectoryProfile) error {
	return e.writeDirectory(ctx, directoryAccess(practice, "directory.profile.write", "provider", p.ProviderID.String()), p.Validate,
		func(ctx context.Context) error {
			if _, err := e.Scheduling.Provider(ctx, practice, p.ProviderID); err != nil {
				return errs.WithField(err, "provider_id")
			}
			return e.store.Directory.PutProfile(ctx, practice, &p, e.Clock.Now())
		})
}

// PutDirectoryVisitType sets how practice lists visit type v.VisitTypeID
// (its kind; hidden), for its staff holding practice.manage, and refreshes
// the practice's listing in the same transaction. A visit type without a
// setting is listed with directory.DefaultKind of its audience; one only
// for established patients is never listed. Bad input is KindInvalid
// naming the field; an unknown visit type is KindNotFound naming
// visit_type_id.
func (e *Engine) PutDirectoryVisitType(ctx context.Context, practice tenant.PracticeID, v directory.VisitSetting) error {
	return e.writeDirectory(ctx, directoryAccess(practice, "directory.visittype.write", "visit_type", v.VisitTypeID.String()), v.Validate,
		func(ctx context.Context) error {
			if _, err := e.Scheduling.VisitType(ctx, practice, v.VisitTypeID); err != nil {
				return errs.WithField(err, "visit_type_id")
			}
			return e.store.Directory.PutVisitSetting(ctx, practice, &v, e.Clock.Now())
		})
}

// writeDirectory is a guarded change of a's practice's directory settings:
// authorized, then validate (if any) refusing bad input as a failed
// attempt, then write and the refresh of the practice's listing in one
// transaction with the activity-log entry.
func (e *Engine) writeDirectory(ctx context.Context, a Access, validate func() error, write func(ctx context.Context) error) error {
	pm, err := e.Authorize(ctx, a)
	if err != nil {
		return err
	}
	if validate != nil {
		if err := validate(); err != nil {
			pm.Fail(ctx)
			return err
		}
	}
	return pm.Do(ctx, func(ctx context.Context) (string, error) {
		if err := write(ctx); err != nil {
			return "", err
		}
		return "", e.RefreshDirectory(ctx, a.PracticeID)
	})
}

// DirectoryProfiles returns practice's providers' profiles, by provider
// ID, for its staff holding practice.manage.
func (e *Engine) DirectoryProfiles(ctx context.Context, practice tenant.PracticeID) ([]DirectoryProfile, error) {
	pm, err := e.Authorize(ctx, directoryAccess(practice, "", "", ""))
	if err != nil {
		return nil, err
	}
	var out []DirectoryProfile
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		out, err = e.store.Directory.Profiles(ctx, practice)
		return "", err
	})
	return out, err
}

// DirectorySettings returns practice's directory settings (published; the
// visit types' settings), for its staff holding practice.manage.
func (e *Engine) DirectorySettings(ctx context.Context, practice tenant.PracticeID) (*directory.Settings, error) {
	pm, err := e.Authorize(ctx, directoryAccess(practice, "", "", ""))
	if err != nil {
		return nil, err
	}
	var out *directory.Settings
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		out, err = e.store.Directory.Settings(ctx, practice)
		return "", err
	})
	return out, err
}

// RefreshDirectory rebuilds practice's listing and writes it to the
// directory (or removes it, when the practice is not published), in one
// transaction. It needs no caller: it publishes only what the practice
// chose to. Listed are the providers with a profile, not hidden, at their
// locations that have an address and a geo point, with the visit types
// open to new patients (audience any or new) that the practice did not
// hide and whose resources are at the location; each location with its
// next open time (see nextOpens).
func (e *Engine) RefreshDirectory(ctx context.Context, practice tenant.PracticeID) error {
	return e.InTx(ctx, func(ctx context.Context) error {
		set, err := e.store.Directory.Settings(ctx, practice)
		if err != nil {
			return err
		}
		if !set.Published {
			return e.store.Directory.RemoveListing(ctx, practice)
		}
		return e.putListing(ctx, practice, set)
	})
}

// putListing builds published practice's listing under its settings set,
// with the next open times, and writes it, in ctx's transaction.
func (e *Engine) putListing(ctx context.Context, practice tenant.PracticeID, set *directory.Settings) error {
	l, err := e.buildListing(ctx, practice, set)
	if err != nil {
		return err
	}
	ids := make([]uuid.UUID, len(l.Providers))
	for i, p := range l.Providers {
		ids[i] = directoryLockKey(p.ID)
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	if err := e.store.Directory.Lock(ctx, ids...); err != nil {
		return err
	}
	for i := range l.Providers {
		p := &l.Providers[i]
		opens, err := e.nextOpens(ctx, practice, p.ID, p.Locations)
		if err != nil {
			return err
		}
		for j, o := range opens {
			l := &p.Locations[j]
			l.NextOpen, l.NextOpenVisitType, l.NextOpenUntil, l.KindOpens = o.At, o.VisitTypeID, o.Until, o.Kinds
		}
	}
	return e.store.Directory.PutListing(ctx, l)
}

// buildListing builds practice's listing under its settings set, without
// next open times.
func (e *Engine) buildListing(ctx context.Context, practice tenant.PracticeID, set *directory.Settings) (*directory.Listing, error) {
	p, err := e.Tenants.Practice(ctx, practice)
	if err != nil {
		return nil, err
	}
	tlocs, err := e.Tenants.Locations(ctx, practice)
	if err != nil {
		return nil, err
	}
	vts, err := e.Scheduling.VisitTypes(ctx, practice)
	if err != nil {
		return nil, err
	}
	res, err := e.Scheduling.Resources(ctx, practice, nil)
	if err != nil {
		return nil, err
	}
	resAt := make(map[scheduling.ResourceID]tenant.LocationID, len(res))
	for _, r := range res {
		resAt[r.ID] = r.LocationID
	}
	profiles, err := e.store.Directory.Profiles(ctx, practice)
	if err != nil {
		return nil, err
	}
	byProvider := make(map[scheduling.ProviderID]directory.Profile, len(profiles))
	for _, pr := range profiles {
		byProvider[pr.ProviderID] = pr
	}
	// Each location as listed, with the visit types offered there; nil
	// when it cannot be (no geo point, an incomplete address).
	locs := make(map[tenant.LocationID]*directory.Location, len(tlocs))
	for _, tl := range tlocs {
		l := &directory.Location{ID: tl.ID, Name: tl.Name, Geo: directory.Point{Lat: tl.Geo.Lat, Lon: tl.Geo.Lng}, TimeZone: tl.TimeZone,
			Address: directory.Address{Line1: tl.Address.Line1, Line2: tl.Address.Line2, City: tl.Address.City,
				Region: tl.Address.Region, PostalCode: tl.Address.PostalCode, Country: tl.Address.Country},
			VisitTypes: []directory.VisitType{}}
		for _, vt := range vts {
			vs := set.VisitSetting(vt.ID, vt.Audience)
			at := true
			for _, r := range vt.ResourceIDs {
				at = at && resAt[r] == tl.ID
			}
			if vs.Hidden || vt.Audience == scheduling.EstablishedOnly || !at || len(l.VisitTypes) == directory.MaxVisitTypes {
				continue
			}
			l.VisitTypes = append(l.VisitTypes, directory.VisitType{ID: vt.ID, Name: vt.Name, Kind: vs.Kind, Minutes: int(vt.Duration / time.Minute)})
		}
		if (l.Geo != directory.Point{}) && l.Validate() == nil {
			locs[tl.ID] = l
		}
	}
	out := &directory.Listing{PracticeID: practice, PracticeName: p.Name, Published: true, Updated: e.Clock.Now().UTC(), Taxonomy: e.Taxonomy}
	var after *scheduling.ProviderID
	for len(out.Providers) < directory.MaxProviders {
		provs, err := e.Scheduling.Providers(ctx, practice, scheduling.ProviderFilter{After: after, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, sp := range provs {
			pr, ok := byProvider[sp.ID]
			if !ok || pr.Hidden || len(out.Providers) == directory.MaxProviders {
				continue
			}
			dp := directory.Provider{ID: sp.ID, NPI: sp.NPI, GivenName: sp.GivenName, FamilyName: sp.FamilyName,
				Specialties: pr.Taxonomies, Languages: pr.Languages, AcceptingNew: pr.AcceptingNew}
			for _, id := range sp.LocationIDs {
				if l := locs[id]; l != nil && len(dp.Locations) < directory.MaxLocations {
					c := *l
					c.VisitTypes = slices.Clone(l.VisitTypes)
					dp.Locations = append(dp.Locations, c)
				}
			}
			if len(dp.Locations) > 0 {
				out.Providers = append(out.Providers, dp)
			}
		}
		if len(provs) < 500 {
			break
		}
		after = &provs[len(provs)-1].ID
	}
	return out, nil
}

// directoryLockKey is the key locked while a provider's next open times
// are computed and written, so that of two bookings with one provider the
// later computes after the earlier's commit and writes last.
func directoryLockKey(provider scheduling.ProviderID) uuid.UUID {
	return uuid.NewSHA1(directoryLockSpace, provider[:])
}

// directoryLockSpace is the namespace of directoryLockKey.
var directoryLockSpace = uuid.MustParse("6f1d3c52-5a0e-4d47-9c1b-2d3e0f1a9b7c")

// directoryWindows are the spans, from now, searched one after the other
// for a location's next open time: most are found in the first.
var directoryWindows = []time.Duration{14 * 24 * time.Hour, 62 * 24 * time.Hour, directory.Horizon}

// nextOpens returns provider's next open time at each of locs within
// directory.Horizon, with the visit type it is for: the soonest start
// scheduling's OpenSlots offers a patient (with the practice's minimum
// notice and maximum advance) among the location's visit types, so that
// the directory offers no time booking would refuse; and until when it
// may be booked (the time less the minimum notice), after which the
// directory shows it no more. Each carries the same per visit kind
// (NextOpen.Kinds, by kind): the soonest among the location's visit types
// of that kind, which a search by kind filters and orders by.
//
// It searches directoryWindows one after the other, each visit type once
// per window while a location offering it lacked its kind's time at the
// window's start (up to the soonest of its kinds found in the window
// meanwhile, when each was), and stops once every (location, kind) has
// one.
func (e *Engine) nextOpens(ctx context.Context, practice tenant.PracticeID, provider scheduling.ProviderID, locs []directory.Location) ([]directory.NextOpen, error) {
	p, err := e.Tenants.Practice(ctx, practice)
	if err != nil {
		return nil, err
	}
	pctx := actor.With(ctx, actor.Actor{Kind: actor.Patient, ID: "directory"})
	// found[i][k] is location i's soonest of kind k so far.
	found := make([]map[directory.VisitKind]directory.KindOpen, len(locs))
	var vts []scheduling.VisitTypeID
	for i, l := range locs {
		found[i] = map[directory.VisitKind]directory.KindOpen{}
		for _, v := range l.VisitTypes {
			if !slices.Contains(vts, v.ID) {
				vts = append(vts, v.ID)
			}
		}
	}
	// kindAt is vt's kind at location i, "" when it is not offered there.
	kindAt := func(i int, vt scheduling.VisitTypeID) directory.VisitKind {
		if j := slices.IndexFunc(locs[i].VisitTypes, func(v directory.VisitType) bool { return v.ID == vt }); j >= 0 {
			return locs[i].VisitTypes[j].Kind
		}
		return ""
	}
	now := e.Clock.Now().UTC()
	from := now
	for _, w := range directoryWindows {
		to := now.Add(w)
		// The visit types still wanted, as of the window's start: every
		// one of a kind some location lacks is searched in this window,
		// so that the kind's soonest is the soonest of its visit types.
		var pending []scheduling.VisitTypeID
		for _, vt := range vts {
			for i := range locs {
				if k := kindAt(i, vt); k != "" {
					if _, ok := found[i][k]; !ok {
						pending = append(pending, vt)
						break
					}
				}
			}
		}
		if len(pending) == 0 {
			break
		}
		for _, vt := range pending {
			// Once each kind vt serves was found in this window, only an
			// earlier start of vt could beat it: the search ends there.
			end := from
			for i := range locs {
				if k := kindAt(i, vt); k != "" {
					if o, ok := found[i][k]; !ok {
						end = to
					} else if o.At.After(end) {
						end = o.At
					}
				}
			}
			if !end.After(from) {
				continue
			}
			slots, err := e.Scheduling.OpenSlots(pctx, practice, scheduling.SlotQuery{ProviderIDs: []scheduling.ProviderID{provider},
				VisitTypeID: vt, From: from, To: end})
			if err != nil {
				return nil, err
			}
			for i, l := range locs {
				k := kindAt(i, vt)
				if k == "" {
					continue
				}
				// Slots come by start: the first here is this visit type's
				// soonest; a later window's never beats an earlier's.
				if j := slices.IndexFunc(slots, func(s scheduling.Slot) bool { return s.LocationID == l.ID }); j >= 0 {
					t := slots[j].Start.UTC()
					if o, ok := found[i][k]; !ok || t.Before(o.At) {
						found[i][k] = directory.KindOpen{Kind: k, At: t, VisitTypeID: vt, Until: t.Add(-p.Policy.MinNotice)}
					}
				}
			}
		}
		from = to
	}
	out := make([]directory.NextOpen, len(locs))
	for i, l := range locs {
		out[i].LocationID = l.ID
		for _, k := range directoryKinds {
			o, ok := found[i][k]
			if !ok {
				continue
			}
			out[i].Kinds = append(out[i].Kinds, o)
			if out[i].At == nil || o.At.Before(*out[i].At) {
				at, until := o.At, o.Until
				out[i].At, out[i].VisitTypeID, out[i].Until = &at, o.VisitTypeID, &until
			}
		}
	}
	return out, nil
}

// directoryKinds are the visit kinds in the order NextOpen.Kinds holds
// them: by name.
var directoryKinds = []directory.VisitKind{directory.VisitFollowUp, directory.VisitNewPatient, directory.VisitPreventive, directory.VisitProblem}

// RefreshDirectories refreshes the listing of every published practice
// (RefreshDirectory), each in its own transaction, and returns how many it
// refreshed; a practice that fails does not stop the others, and the
// first error is returned with the count.
func (e *Engine) RefreshDirectories(ctx context.Context) (int, error) {
	const page = 200
	var (
		after tenant.PracticeID
		n     int
		first error
	)
	for {
		ids, err := e.store.Directory.PublishedPractices(ctx, after, page)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			if err := e.RefreshDirectory(ctx, id); err != nil {
				first = cmp.Or(first, err)
				continue
			}
			n++
		}
		if len(ids) < page {
			return n, first
		}
		after = ids[len(ids)-1]
	}
}

// directoryObserver keeps the next open times the directory shows fresh,
// in the transaction of each change that moves them: of an appointment
// (its provider), of an availability block (its provider) and of a
// practice's booking policy (the practice's listing).
type directoryObserver struct{ e *Engine }

// BlockChanged recomputes the next open times of the block's provider, if
// the provider is listed.
func (o directoryObserver) BlockChanged(ctx context.Context, before, after *scheduling.Block) error {
	b := cmp.Or(after, before)
	return o.e.refreshNextOpen(ctx, b.PracticeID, b.ProviderID)
}

// PolicyChanged refreshes practice's listing under its new booking policy
// (its minimum notice and maximum advance bound every next open time), if
// the practice is published; an unpublished practice's change costs one
// read of its settings and writes nothing.
func (o directoryObserver) PolicyChanged(ctx context.Context, practice tenant.PracticeID, _ tenant.BookingPolicy) error {
	set, err := o.e.store.Directory.Settings(ctx, practice)
	if err != nil || !set.Published {
		return err
	}
	// The slots are searched under the policy just written, never the
	// cache's.
	return o.e.putListing(scheduling.NoCacheInTx(ctx), practice, set)
}

// AppointmentChanged recomputes the next open times of a's provider when c
// took or freed time (a booking, a move, a cancellation), if the provider
// is listed.
func (o directoryObserver) AppointmentChanged(ctx context.Context, a *scheduling.Appointment, c *scheduling.Change) error {
	if c.Action != "book" && c.PrevStart == nil && c.From.Holds() == c.To.Holds() {
		return nil
	}
	return o.e.refreshNextOpen(ctx, a.PracticeID, a.ProviderID)
}

// refreshNextOpen recomputes and writes provider's next open times, if
// practice lists it, under the provider's directory lock (taken before
// the times are computed, so that they see every change committed
// before; an unlisted provider's booking takes none).
func (e *Engine) refreshNextOpen(ctx context.Context, practice tenant.PracticeID, provider scheduling.ProviderID) error {
	return e.InTx(ctx, func(ctx context.Context) error {
		h, err := e.store.Directory.Provider(ctx, provider)
		if errs.Is(err, errs.KindNotFound) || err == nil && h.PracticeID != practice {
			return nil
		}
		if err != nil {
			return err
		}
		if err := e.store.Directory.Lock(ctx, directoryLockKey(provider)); err != nil {
			return err
		}
		opens, err := e.nextOpens(ctx, practice, provider, h.Provider.Locations)
		if err != nil {
			return err
		}
		return e.store.Directory.PutNextOpen(ctx, practice, provider, opens)
	})
}

// SearchDirectory searches the public directory: see directory.Query. It
// needs no caller. q.At is set to the engine's clock's now when zero; next
// open times stale by q.At (past their NextOpenUntil: booking would refuse
// them, until the next refresh) are shown as none. q.Taxonomy is set to the
// engine's (the one its listings are built with) when nil. Bad input is
// KindInvalid naming the field.
func (e *Engine) SearchDirectory(ctx context.Context, q directory.Query) ([]directory.Hit, error) {
	if q.At.IsZero() {
		q.At = e.Clock.Now().UTC()
	}
	if q.Taxonomy == nil {
		q.Taxonomy = e.Taxonomy
	}
	hits, err := e.store.Directory.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	for i := range hits {
		freshOpens(q.At, &hits[i].Provider)
		freshOpen(q.At, &hits[i].Location)
	}
	return hits, nil
}

// DirectoryProvider returns a provider of the public directory with all
// its listed locations (Location is the first) and its practice; it needs
// no caller. A provider that no published practice lists (hidden, unknown,
// of a practice not published) is KindNotFound.
func (e *Engine) DirectoryProvider(ctx context.Context, id scheduling.ProviderID) (*directory.Hit, error) {
	h, err := e.store.Directory.Provider(ctx, id)
	if err != nil {
		return nil, err
	}
	now := e.Clock.Now()
	freshOpens(now, &h.Provider)
	freshOpen(now, &h.Location)
	return h, nil
}

// DirectoryPractice returns a published practice's listing (its visible
// providers by name); it needs no caller. A practice not published is
// KindNotFound.
func (e *Engine) DirectoryPractice(ctx context.Context, id tenant.PracticeID) (*directory.Listing, error) {
	l, err := e.store.Directory.Practice(ctx, id)
	if err != nil {
		return nil, err
	}
	now := e.Clock.Now()
	for i := range l.Providers {
		freshOpens(now, &l.Providers[i])
	}
	return l, nil
}

// DefaultIndexLimit is DirectoryIndex's page when its limit is 0.
const DefaultIndexLimit = 1000

// DirectoryIndex returns a page of the public directory's pages, for a
// sitemap: the published practices by ID, then the visible providers by
// ID, after the cursor after ("" to start; the last entry's Cursor to go
// on), at most limit of them (0 is DefaultIndexLimit, at most
// directory.MaxIndexLimit). It needs no caller; each page is one keyset
// query. A bad cursor or limit is KindInvalid naming after or limit.
func (e *Engine) DirectoryIndex(ctx context.Context, after string, limit int) ([]directory.IndexEntry, error) {
	if limit == 0 {
		limit = DefaultIndexLimit
	}
	return e.store.Directory.Index(ctx, after, limit)
}

// freshOpens drops p's locations' next open times that are stale by now.
func freshOpens(now time.Time, p *directory.Provider) {
	for i := range p.Locations {
		freshOpen(now, &p.Locations[i])
	}
}

// freshOpen drops l's next open times (its own and its kinds') that are
// stale by now (see directory.Location.OpenAt): no longer bookable, until
// the next refresh.
func freshOpen(now time.Time, l *directory.Location) {
	if l.OpenAt(now) == nil {
		l.NextOpen, l.NextOpenVisitType, l.NextOpenUntil = nil, uuid.Nil, nil
	}
	if slices.ContainsFunc(l.KindOpens, func(o directory.KindOpen) bool { return !o.Fresh(now) }) {
		l.KindOpens = slices.DeleteFunc(slices.Clone(l.KindOpens), func(o directory.KindOpen) bool { return !o.Fresh(now) })
	}
}
