package sqlstore

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Directory keeps the public directory (directory.Store): the one store
// that spans practices, holding only what each practice publishes. On
// PostgreSQL words are searched with full-text search (tsvector, prefix
// queries) and points with cube and earthdistance over a GiST index; on
// SQLite with FTS5 and an R*Tree.
type Directory struct{ *conn }

var _ directory.Store = (*Directory)(nil)

// earthRadiusKm is earthdistance's earth(), which SQLite's distance uses
// too, so that both databases measure alike.
const earthRadiusKm = 6378.168

// PutListing replaces practice l.PracticeID's listing with l; see
// directory.Store. A provider whose published record is unchanged keeps
// its earlier updated_at, and so does the practice when its name and
// providers are.
func (s *Directory) PutListing(ctx context.Context, l *directory.Listing) error {
	const op = "sqlstore.PutListing"
	if err := l.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.Lock(ctx, l.PracticeID); err != nil {
			return err
		}
		before, err := s.listed(ctx, op, l.PracticeID)
		if err != nil {
			return err
		}
		if err := s.remove(ctx, op, l.PracticeID); err != nil {
			return err
		}
		if !l.Published {
			return nil
		}
		changed := before.name != l.PracticeName
		var rows []insertRow
		for i := range l.Providers {
			p := &l.Providers[i]
			if p.Hidden {
				continue
			}
			doc, err := publishedDoc(op, p)
			if err != nil {
				return err
			}
			at := utc(l.Updated)
			if old, ok := before.providers[p.ID]; ok && old.doc == string(doc) {
				at = old.updated
			} else {
				changed = true
			}
			rows = append(rows, insertRow{p: p, doc: doc, at: at})
		}
		if err := s.insertAll(ctx, op, l, rows); err != nil {
			return err
		}
		at := utc(l.Updated)
		if !changed && len(rows) == len(before.providers) && before.name != "" {
			at = before.updated
		}
		_, err = s.idb(ctx).ExecContext(ctx, `INSERT INTO directory_practices (practice_id, practice_name, updated_at) VALUES (?, ?, ?)`,
			l.PracticeID, l.PracticeName, at)
		return failure(op, "practice", err)
	})
}

// listedBefore is what a practice's listing held before its replacement:
// its name ("" when it was not listed) and each provider's published record.
type listedBefore struct {
	name      string
	updated   utcTime
	providers map[uuid.UUID]listedProvider
}

type listedProvider struct {
	doc     string // as publishedDoc encodes it
	updated utcTime
}

// listed reads practice's listing as it stands, for PutListing to tell
// what changed.
func (s *Directory) listed(ctx context.Context, op string, practice tenant.PracticeID) (*listedBefore, error) {
	out := &listedBefore{providers: map[uuid.UUID]listedProvider{}}
	pr, err := s.listedPractice(ctx, op, practice)
	if err != nil {
		return nil, err
	}
	if pr != nil {
		out.name, out.updated = pr.Name, pr.Updated
	}
	db := s.idb(ctx)
	var rows []struct {
		ID      uuid.UUID `bun:"provider_id"`
		Doc     []byte    `bun:"doc"`
		Updated utcTime   `bun:"updated_at"`
	}
	if err := db.NewRaw(`SELECT provider_id, doc, updated_at FROM directory_providers WHERE practice_id = ?`, practice).Scan(ctx, &rows); err != nil {
		return nil, failure(op, "providers", err)
	}
	for _, r := range rows {
		var p directory.Provider
		if err := json.Unmarshal(r.Doc, &p); err != nil {
			return nil, errs.Wrap(errs.KindInternal, op, "decode a provider", err)
		}
		doc, err := publishedDoc(op, &p)
		if err != nil {
			return nil, err
		}
		out.providers[r.ID] = listedProvider{doc: string(doc), updated: r.Updated}
	}
	return out, nil
}

// listedPracticeRow is a listed practice's row.
type listedPracticeRow struct {
	Name    string  `bun:"practice_name"`
	Updated utcTime `bun:"updated_at"`
}

// listedPractice returns practice's row, nil when it is not listed.
func (s *Directory) listedPractice(ctx context.Context, op string, practice tenant.PracticeID) (*listedPracticeRow, error) {
	var rows []listedPracticeRow
	if err := s.idb(ctx).NewRaw(`SELECT practice_name, updated_at FROM directory_practices WHERE practice_id = ?`, practice).Scan(ctx, &rows); err != nil {
		return nil, failure(op, "practice", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// publishedDoc encodes p as stored: without Hidden or the locations' next
// open times, which are kept in their own columns and rows.
func publishedDoc(op string, p *directory.Provider) ([]byte, error) {
	pub := *p
	pub.Hidden = false
	pub.Locations = make([]directory.Location, len(p.Locations))
	for i, l := range p.Locations {
		l.NextOpen, l.NextOpenVisitType, l.NextOpenUntil, l.KindOpens = nil, uuid.Nil, nil, nil
		pub.Locations[i] = l
	}
	doc, err := json.Marshal(&pub)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, op, "encode the provider", err)
	}
	return doc, nil
}

// RemoveListing removes practice's listing; see directory.Store.
func (s *Directory) RemoveListing(ctx context.Context, practice tenant.PracticeID) error {
	const op = "sqlstore.RemoveListing"
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.Lock(ctx, practice); err != nil {
			return err
		}
		return s.remove(ctx, op, practice)
	})
}

// remove deletes practice's rows, on SQLite with their FTS5 and R*Tree
// entries.
func (s *Directory) remove(ctx context.Context, op string, practice tenant.PracticeID) error {
	db := s.idb(ctx)
	var stmts []string
	if s.dialect == SQLite {
		stmts = append(stmts,
			`DELETE FROM directory_fts WHERE rowid IN (SELECT id FROM directory_providers WHERE practice_id = ?)`,
			`DELETE FROM directory_geo WHERE id IN (SELECT id FROM directory_locations WHERE practice_id = ?)`)
	}
	// The locations go with their providers (ON DELETE CASCADE).
	stmts = append(stmts, `DELETE FROM directory_providers WHERE practice_id = ?`, `DELETE FROM directory_practices WHERE practice_id = ?`)
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q, practice); err != nil {
			return failure(op, "listing", err)
		}
	}
	return nil
}

// padded joins codes with a space around each, for SQLite's instr filters.
func padded(codes []string) string { return " " + strings.Join(codes, " ") + " " }

// kinds returns the kinds of loc's visit types, each once, sorted.
func kinds(loc *directory.Location) []string {
	out := []string{}
	for _, v := range loc.VisitTypes {
		if !slices.Contains(out, string(v.Kind)) {
			out = append(out, string(v.Kind))
		}
	}
	slices.Sort(out)
	return out
}

// nextOpen returns a location's next open time, its visit type and until
// when it may be booked (at itself when until is nil) for storage, all
// NULL when it has none.
func nextOpen(at *time.Time, vt uuid.UUID, until *time.Time) (any, any, any) {
	if at == nil {
		return nil, nil, nil
	}
	if until == nil {
		until = at
	}
	return utc(*at), vt, utc(*until)
}

// insertChunk is the most rows one INSERT of PutListing writes.
const insertChunk = 500

// insertRow is a provider PutListing writes: encoded as doc, changed at at.
type insertRow struct {
	p   *directory.Provider
	doc []byte
	at  utcTime
}

// insertAll writes the providers of listing l with their locations, a few
// statements for each insertChunk of rows (on SQLite with their FTS5 and
// R*Tree entries), each provider's search document named by l.Taxonomy.
func (s *Directory) insertAll(ctx context.Context, op string, l *directory.Listing, rows []insertRow) error {
	db := s.idb(ctx)
	exec := func(what, head, tuple string, n int, args []any) error {
		if n == 0 {
			return nil
		}
		_, err := db.ExecContext(ctx, head+strings.Repeat(tuple+", ", n-1)+tuple, args...)
		return failure(op, what, err)
	}
	pg := s.dialect == Postgres
	// The SQLite row of a provider, by its key.
	const rowOf = "(SELECT id FROM directory_providers WHERE practice_id = ? AND provider_id = ?)"
	for from := 0; from < len(rows); from += insertChunk {
		chunk := rows[from:min(from+insertChunk, len(rows))]
		var provs, docs []any
		for _, r := range chunk {
			search := r.p.SearchDocumentIn(l.Taxonomy)
			sortName := strings.ToLower(r.p.FamilyName + " " + r.p.GivenName)
			if pg {
				provs = append(provs, l.PracticeID, r.p.ID, l.PracticeName, sortName, search, string(r.doc), r.at)
			} else {
				provs = append(provs, l.PracticeID, r.p.ID, l.PracticeName, sortName, string(r.doc), r.at)
				docs = append(docs, l.PracticeID, r.p.ID, search)
			}
		}
		var err error
		if pg {
			err = exec("provider", `INSERT INTO directory_providers (practice_id, provider_id, practice_name, sort_name, search, doc, updated_at) VALUES `,
				"(?, ?, ?, ?, to_tsvector('simple', ?), ?, ?)", len(chunk), provs)
		} else {
			err = exec("provider", `INSERT INTO directory_providers (practice_id, provider_id, practice_name, sort_name, doc, updated_at) VALUES `,
				"(?, ?, ?, ?, ?, ?)", len(chunk), provs)
			if err == nil {
				err = exec("provider", `INSERT INTO directory_fts (rowid, doc) VALUES `, "("+rowOf+", ?)", len(chunk), docs)
			}
		}
		if err != nil {
			return err
		}
	}
	var locs []any
	n := 0
	flush := func() error {
		var err error
		if pg {
			err = exec("location", `INSERT INTO directory_locations (practice_id, provider_id, location_id, lat, lon, accepting_new, languages,
				specialties, kinds, names, next_open, next_open_visit_type, next_open_until) VALUES `,
				"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", n, locs)
		} else {
			err = exec("location", `INSERT INTO directory_locations (provider, practice_id, location_id, lat, lon, x, y, z, accepting_new,
				languages, specialties, kinds, names, next_open, next_open_visit_type, next_open_until) VALUES `,
				"("+rowOf+", ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", n, locs)
		}
		locs, n = locs[:0], 0
		return err
	}
	for _, r := range rows {
		p := r.p
		langs := p.Languages
		if langs == nil {
			langs = []string{}
		}
		names := padded(p.NameWords())
		for i := range p.Locations {
			loc := &p.Locations[i]
			next, nextVT, until := nextOpen(loc.NextOpen, loc.NextOpenVisitType, loc.NextOpenUntil)
			if pg {
				locs = append(locs, l.PracticeID, p.ID, loc.ID, loc.Geo.Lat, loc.Geo.Lon, p.AcceptingNew, pgdialect.Array(langs),
					pgdialect.Array(p.Specialties), pgdialect.Array(kinds(loc)), names, next, nextVT, until)
			} else {
				x, y, z := earthXYZ(loc.Geo)
				locs = append(locs, l.PracticeID, p.ID, l.PracticeID, loc.ID, loc.Geo.Lat, loc.Geo.Lon, x, y, z, p.AcceptingNew,
					padded(langs), padded(p.Specialties), padded(kinds(loc)), names, next, nextVT, until)
			}
			if n++; n == insertChunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	var kindRows []any
	n = 0
	flushKinds := func() error {
		var err error
		if pg {
			err = exec("next open time", `INSERT INTO directory_next_opens (practice_id, provider_id, location_id, kind, next_open,
				next_open_until, visit_type_id) VALUES `, "(?, ?, ?, ?, ?, ?, ?)", n, kindRows)
		} else {
			err = exec("next open time", `INSERT INTO directory_next_opens (provider, practice_id, location_id, kind, next_open,
				next_open_until, visit_type_id) VALUES `, "("+rowOf+", ?, ?, ?, ?, ?, ?)", n, kindRows)
		}
		kindRows, n = kindRows[:0], 0
		return err
	}
	for _, r := range rows {
		for i := range r.p.Locations {
			loc := &r.p.Locations[i]
			for _, o := range loc.KindOpens {
				at, until := kindOpen(o)
				if pg {
					kindRows = append(kindRows, l.PracticeID, r.p.ID, loc.ID, string(o.Kind), at, until, o.VisitTypeID)
				} else {
					kindRows = append(kindRows, l.PracticeID, r.p.ID, l.PracticeID, loc.ID, string(o.Kind), at, until, o.VisitTypeID)
				}
				if n++; n == insertChunk {
					if err := flushKinds(); err != nil {
						return err
					}
				}
			}
		}
	}
	if err := flushKinds(); err != nil {
		return err
	}
	if !pg {
		_, err := db.ExecContext(ctx, `INSERT INTO directory_geo (id, min_lat, max_lat, min_lon, max_lon)
			SELECT id, lat, lat, lon, lon FROM directory_locations WHERE practice_id = ?`, l.PracticeID)
		return failure(op, "location", err)
	}
	return nil
}

// kindOpen returns o's time and until when it may be booked (its time
// when Until is zero), for storage.
func kindOpen(o directory.KindOpen) (utcTime, utcTime) {
	until := o.Until
	if until.IsZero() {
		until = o.At
	}
	return utc(o.At), utc(until)
}

// hitRow is one row of a search.
type hitRow struct {
	PracticeID   uuid.UUID `bun:"practice_id"`
	ProviderID   uuid.UUID `bun:"provider_id"`
	PracticeName string    `bun:"practice_name"`
	PDoc         []byte    `bun:"pdoc"`
	LocationID   uuid.UUID `bun:"location_id"`
	Dist         float64   `bun:"dist"`
	Soon         *utcTime  `bun:"soon"` // ordered by; read from fillOpens
}

// Search returns the providers matching q; see directory.Store.
func (s *Directory) Search(ctx context.Context, q directory.Query) ([]directory.Hit, error) {
	const op = "sqlstore.SearchDirectory"
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	if q.Near != nil {
		return s.searchNear(ctx, op, q)
	}
	query, args := s.searchSQL(q, 0, 0)
	var rows []hitRow
	if err := s.idb(ctx).NewRaw(query, args...).Scan(ctx, &rows); err != nil {
		return nil, failure(op, "directory", err)
	}
	hits, err := decodeHits(op, rows, q.Limit)
	if err != nil {
		return nil, err
	}
	return hits, s.searchOpens(ctx, op, hits, q.VisitKind)
}

// searchNear answers q, which has a point: it searches within a radius
// growing from an eighth of q's to q's (see widen), and stops at the first
// within which q.Limit providers are found (or at q's radius). What lies
// within a smaller radius is nearer than what lies outside it, so the
// first providers found are the nearest; and the smaller radius reads far
// fewer rows wherever providers are dense. At each radius it reads the
// nearest matching locations, at most cap of them (and then again with
// twice as many, should providers with several locations leave fewer
// than q.Limit among them). Ordered by the soonest next open time, it
// searches q's radius at once: the soonest may be the farthest.
func (s *Directory) searchNear(ctx context.Context, op string, q directory.Query) ([]directory.Hit, error) {
	r := q.RadiusKm / 8
	if q.OrderBySoonest {
		r = q.RadiusKm
	}
	capRows := 2 * q.Limit
	for {
		r = math.Min(r, q.RadiusKm)
		query, args := s.searchSQL(q, r, capRows)
		var rows []hitRow
		if err := s.idb(ctx).NewRaw(query, args...).Scan(ctx, &rows); err != nil {
			return nil, failure(op, "directory", err)
		}
		seen := map[[2]uuid.UUID]bool{}
		for _, row := range rows {
			seen[[2]uuid.UUID{row.PracticeID, row.ProviderID}] = true
		}
		switch {
		case len(seen) < q.Limit && len(rows) == capRows:
			capRows *= 2 // some providers took several of the rows: read on
		case len(seen) >= q.Limit || r >= q.RadiusKm:
			hits, err := decodeHits(op, rows, q.Limit)
			if err != nil {
				return nil, err
			}
			return hits, s.searchOpens(ctx, op, hits, q.VisitKind)
		default:
			r *= widen(len(seen), q.Limit)
		}
	}
}

// widen is the factor by which searchNear widens its radius when found
// providers of the limit are within it: by the square root of what is
// missing (the area grows as the square of the radius), with a margin, at
// least doubling and at most eightfold; fourfold when none was found.
func widen(found, limit int) float64 {
	if found == 0 {
		return 4
	}
	return math.Min(8, math.Max(2, 1.25*math.Sqrt(float64(limit)/float64(found))))
}

// decodeHits decodes rows, keeping each provider's first, and at most limit.
func decodeHits(op string, rows []hitRow, limit int) ([]directory.Hit, error) {
	hits := make([]directory.Hit, 0, min(len(rows), limit))
	kept := map[[2]uuid.UUID]bool{}
	for _, r := range rows {
		k := [2]uuid.UUID{r.PracticeID, r.ProviderID}
		if kept[k] || len(hits) == limit {
			continue
		}
		kept[k] = true
		h := directory.Hit{PracticeID: r.PracticeID, PracticeName: r.PracticeName, DistanceKm: greatCircle(r.Dist)}
		if err := json.Unmarshal(r.PDoc, &h.Provider); err != nil {
			return nil, errs.Wrap(errs.KindInternal, op, "decode a provider", err)
		}
		found := false
		for _, loc := range h.Provider.Locations {
			if loc.ID == r.LocationID {
				h.Location, found = loc, true
			}
		}
		if !found {
			return nil, errs.E(errs.KindInternal, op, "location "+r.LocationID.String()+" is not in its provider's record")
		}
		hits = append(hits, h)
	}
	return hits, nil
}

// searchSQL returns the query of q (normalized) and its arguments. With a
// point: the nearest capRows locations within radius km that match, nearest
// first (a provider may have several). Without: each matching provider's
// first location (by ID), by name.
func (s *Directory) searchSQL(q directory.Query, radius float64, capRows int) (string, []any) {
	var (
		conds []string
		args  []any
		dist  string
	)
	pg := s.dialect == Postgres
	if q.Near != nil {
		lat, lon, r := q.Near.Lat, q.Near.Lon, radius
		// Both compare straight-line distances through the Earth (chords),
		// which order points as the great-circle distance does, and cost
		// arithmetic only; dist is the chord in km (see greatCircle).
		x, y, z := earthXYZ(*q.Near)
		c := chord(r)
		if pg {
			// ll_to_earth's point, in metres, and earth_box's cube, as
			// literals: PostgreSQL plans them at once, where it would
			// inline earthdistance's SQL functions for each query.
			m := func(v float64) string { return strconv.FormatFloat(v*1000, 'f', 3, 64) }
			d := c + 0.001
			here := "'(" + m(x) + ", " + m(y) + ", " + m(z) + ")'::cube"
			dist = "cube_distance(l.earth, " + here + ") / 1000"
			conds = append(conds, "l.earth <@ '("+m(x-d)+", "+m(y-d)+", "+m(z-d)+"), ("+m(x+d)+", "+m(y+d)+", "+m(z+d)+")'::cube",
				"cube_distance(l.earth, "+here+") <= "+m(c))
		} else {
			sq := "(l.x - " + ftoa(x) + ") * (l.x - " + ftoa(x) + ") + (l.y - " + ftoa(y) + ") * (l.y - " + ftoa(y) +
				") + (l.z - " + ftoa(z) + ") * (l.z - " + ftoa(z) + ")"
			dist = "sqrt(" + sq + ")"
			minLat, maxLat, minLon, maxLon := box(lat, lon, r)
			conds = append(conds, "l.id IN (SELECT id FROM directory_geo WHERE max_lat >= "+ftoa(minLat)+" AND min_lat <= "+ftoa(maxLat)+
				" AND max_lon >= "+ftoa(minLon)+" AND min_lon <= "+ftoa(maxLon)+")", sq+" <= "+ftoa(c*c))
		}
	}
	var (
		terms   []directory.Term
		byTerms bool
	)
	if q.Near != nil && len(q.Words) > 0 {
		terms, byTerms = q.Taxonomy.Terms(q.Words)
	}
	switch {
	case len(q.Words) == 0:
	case byTerms:
		// Near a point, by the specialties each word names and the names'
		// words on the location rows the geo search finds, as a search by
		// specialty: the full-text index would be read whole at each
		// radius, for the few rows near the point.
		for _, t := range terms {
			cond, targs := s.termSQL(t)
			conds, args = append(conds, cond), append(args, targs...)
		}
	default:
		fts := make([]string, len(q.Words))
		for i, w := range q.Words {
			fts[i] = `"` + w + `"*`
		}
		cond, join := "p.id IN (SELECT rowid FROM directory_fts WHERE directory_fts MATCH ?)", " "
		if pg {
			for i, w := range q.Words {
				fts[i] = w + ":*"
			}
			cond, join = "p.search @@ to_tsquery('simple', ?)", " & "
		}
		conds = append(conds, cond)
		args = append(args, strings.Join(fts, join))
	}
	if len(q.Specialties) > 0 {
		cond, sargs := s.specialtiesSQL(q.Specialties)
		conds, args = append(conds, cond), append(args, sargs...)
	}
	if q.AcceptingNew {
		conds = append(conds, "l.accepting_new")
	}
	if q.Language != "" {
		if pg {
			conds = append(conds, "? = ANY (l.languages)")
			args = append(args, q.Language)
		} else {
			conds = append(conds, "instr(l.languages, ?) > 0")
			args = append(args, " "+q.Language+" ")
		}
	}
	if q.VisitKind != "" {
		if pg {
			conds = append(conds, "? = ANY (l.kinds)")
			args = append(args, string(q.VisitKind))
		} else {
			conds = append(conds, "instr(l.kinds, ?) > 0")
			args = append(args, " "+string(q.VisitKind)+" ")
		}
	}
	// o holds the next open times filtered and ordered by: the location's
	// (of any kind), or with a kind that kind's row (k, joined to the
	// location only then: none when the kind has none).
	o, kindJoin := "l", ""
	if q.VisitKind != "" && (q.WithinDays > 0 || q.OrderBySoonest) {
		// The kind is one of the four (Normalize), safe as a literal.
		o, kindJoin = "k", " LEFT JOIN directory_next_opens k ON k.practice_id = l.practice_id AND k.provider_id = l.provider_id AND "+
			"k.location_id = l.location_id AND k.kind = '"+string(q.VisitKind)+"'"
		if !pg {
			kindJoin = " LEFT JOIN directory_next_opens k ON k.provider = l.provider AND k.location_id = l.location_id AND " +
				"k.kind = '" + string(q.VisitKind) + "'"
		}
	}
	if q.WithinDays > 0 {
		conds = append(conds, o+".next_open_until >= "+s.timeLit(q.At)+" AND "+o+".next_open < "+s.timeLit(q.At.AddDate(0, 0, q.WithinDays)))
	}
	// soon is a location's next open time, NULL when it has none or it is
	// stale (its next_open_until before q.At).
	soon := o + ".next_open"
	if !q.At.IsZero() {
		soon = "CASE WHEN " + o + ".next_open_until >= " + s.timeLit(q.At) + " THEN " + o + ".next_open END"
	}
	order, first := "dist, p.sort_name", "l.location_id"
	if q.OrderBySoonest {
		order, first = "soon NULLS LAST, dist, p.sort_name", soon+" NULLS LAST, l.location_id"
	}
	join := "p.practice_id = l.practice_id AND p.provider_id = l.provider_id" + kindJoin
	if !pg {
		join = "p.id = l.provider" + kindJoin
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	if q.Near != nil {
		return `SELECT p.practice_id, p.provider_id, p.practice_name, p.doc AS pdoc, l.location_id, ` + dist + ` AS dist, ` + soon + ` AS soon
		FROM directory_locations l JOIN directory_providers p ON ` + join + `
		` + where + `
		ORDER BY ` + order + `, p.practice_id, p.provider_id, l.location_id LIMIT ` + strconv.Itoa(capRows), args
	}
	outer := "h.sort_name"
	if q.OrderBySoonest {
		outer = "h.soon NULLS LAST, h.sort_name"
	}
	return `SELECT h.practice_id, h.provider_id, h.practice_name, h.pdoc, h.location_id, h.dist FROM (
		SELECT p.practice_id, p.provider_id, p.practice_name, p.sort_name, p.doc AS pdoc, l.location_id, 0.0 AS dist, ` + soon + ` AS soon,
			row_number() OVER (PARTITION BY l.practice_id, p.provider_id ORDER BY ` + first + `) AS rn
		FROM directory_locations l JOIN directory_providers p ON ` + join + `
		` + where + `
	) h WHERE h.rn = 1 ORDER BY ` + outer + `, h.practice_id, h.provider_id LIMIT ` + strconv.Itoa(q.Limit), args
}

// specialtiesSQL is the condition that a location's provider has one of
// codes (at least one), and its arguments.
func (s *Directory) specialtiesSQL(codes []string) (string, []any) {
	if s.dialect == Postgres {
		return "l.specialties && ARRAY[?]::text[]", []any{bun.List(codes)}
	}
	or := make([]string, len(codes))
	args := make([]any, len(codes))
	for i, c := range codes {
		or[i] = "instr(l.specialties, ?) > 0"
		args[i] = " " + c + " "
	}
	return "(" + strings.Join(or, " OR ") + ")", args
}

// termSQL is the condition that a word of a location's provider's search
// document begins with t.Word: one of its specialties is one of t's, or a
// word of its names begins with it.
func (s *Directory) termSQL(t directory.Term) (string, []any) {
	name, args := "instr(l.names, ?) > 0", []any{" " + t.Word}
	if s.dialect == Postgres {
		name = "strpos(l.names, ?) > 0"
	}
	if len(t.Codes) == 0 {
		return name, args
	}
	spec, sargs := s.specialtiesSQL(t.Codes)
	return "(" + spec + " OR " + name + ")", append(sargs, args...)
}

// timeLit is t as a literal of the dialect's stored times.
func (s *Directory) timeLit(t time.Time) string {
	lit := "'" + utc(t).text() + "'"
	if s.dialect == Postgres {
		lit += "::timestamptz"
	}
	return lit
}

// earthXYZ returns p on earthdistance's sphere, in km from its centre, as
// ll_to_earth does (in metres).
func earthXYZ(p directory.Point) (x, y, z float64) {
	φ, λ := p.Lat*math.Pi/180, p.Lon*math.Pi/180
	return earthRadiusKm * math.Cos(φ) * math.Cos(λ), earthRadiusKm * math.Cos(φ) * math.Sin(λ), earthRadiusKm * math.Sin(φ)
}

// chord returns the straight-line distance between two points km apart
// on the sphere's surface.
func chord(km float64) float64 {
	if km >= math.Pi*earthRadiusKm {
		return 2 * earthRadiusKm
	}
	return 2 * earthRadiusKm * math.Sin(km/(2*earthRadiusKm))
}

// greatCircle returns the distance on the sphere's surface between two
// points a chord of c km apart, as earth_distance does.
func greatCircle(c float64) float64 {
	return 2 * earthRadiusKm * math.Asin(math.Min(1, c/(2*earthRadiusKm)))
}

// ftoa formats a checked, finite float for SQL.
func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// box returns the bounds of latitude and longitude that hold every point
// within r km of (lat, lon) (the spherical cap's), a little wider for the
// R*Tree's 32-bit rounding; when the cap holds a pole or crosses the
// antimeridian, every longitude.
func box(lat, lon, r float64) (minLat, maxLat, minLon, maxLon float64) {
	const margin = 1e-4 // degrees
	x := r / earthRadiusKm
	dLat := x*180/math.Pi + margin
	minLat, maxLat = math.Max(-90, lat-dLat), math.Min(90, lat+dLat)
	minLon, maxLon = -180, 180
	if y := math.Sin(x) / math.Cos(lat*math.Pi/180); minLat > -90 && maxLat < 90 && y < 1 {
		dLon := math.Asin(y)*180/math.Pi + margin
		if lon-dLon >= -180 && lon+dLon <= 180 {
			minLon, maxLon = lon-dLon, lon+dLon
		}
	}
	return minLat, maxLat, minLon, maxLon
}

// searchOpens fills the next open times of a search's hits: of kind,
// when set, else of any kind.
func (s *Directory) searchOpens(ctx context.Context, op string, hits []directory.Hit, kind directory.VisitKind) error {
	if kind != "" {
		return s.fillOpens(ctx, op, hits, opensKind, kind)
	}
	return s.fillOpens(ctx, op, hits, opensAny, "")
}

// openRow is a listed location's next open time: of any kind (Kind nil),
// or of Kind.
type openRow struct {
	PracticeID uuid.UUID  `bun:"practice_id"`
	ProviderID uuid.UUID  `bun:"provider_id"`
	LocationID uuid.UUID  `bun:"location_id"`
	Kind       *string    `bun:"kind"`
	NextOpen   *utcTime   `bun:"next_open"`
	VisitType  *uuid.UUID `bun:"next_open_visit_type"`
	Until      *utcTime   `bun:"next_open_until"`
}

// The kinds of next open times fillOpens sets.
const (
	opensAny   = iota // NextOpen: of any kind
	opensKind         // NextOpen: of the kind given
	opensKinds        // NextOpen of any kind, and KindOpens
)

// fillOpens sets the next open time of every location of hits' providers
// (and of each hit's Location), in one query: of any kind (opensAny), of
// kind (opensKind), or of any kind and each kind's (KindOpens,
// opensKinds).
func (s *Directory) fillOpens(ctx context.Context, op string, hits []directory.Hit, what int, kind directory.VisitKind) error {
	if len(hits) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(hits))
	for i, h := range hits {
		ids[i] = h.Provider.ID
	}
	pg := s.dialect == Postgres
	anyKind := `SELECT l.practice_id, l.provider_id, l.location_id, NULL AS kind, l.next_open, l.next_open_visit_type, l.next_open_until
		FROM directory_locations l WHERE l.provider_id IN (?) AND l.next_open IS NOT NULL`
	byKind := `SELECT k.practice_id, k.provider_id, k.location_id, k.kind, k.next_open, k.visit_type_id AS next_open_visit_type, k.next_open_until
		FROM directory_next_opens k WHERE k.provider_id IN (?)`
	if !pg {
		anyKind = `SELECT p.practice_id, p.provider_id, l.location_id, NULL AS kind, l.next_open, l.next_open_visit_type, l.next_open_until
		FROM directory_providers p JOIN directory_locations l ON l.provider = p.id
		WHERE p.provider_id IN (?) AND l.next_open IS NOT NULL`
		byKind = `SELECT p.practice_id, p.provider_id, k.location_id, k.kind, k.next_open, k.visit_type_id AS next_open_visit_type, k.next_open_until
		FROM directory_providers p JOIN directory_next_opens k ON k.provider = p.id WHERE p.provider_id IN (?)`
	}
	var (
		query string
		args  = []any{bun.List(ids)}
	)
	switch what {
	case opensAny:
		query = anyKind
	case opensKind:
		query = byKind + " AND k.kind = ?"
		args = append(args, string(kind))
	default:
		query = anyKind + " UNION ALL " + byKind + " ORDER BY kind"
		args = append(args, bun.List(ids))
	}
	var rows []openRow
	if err := s.idb(ctx).NewRaw(query, args...).Scan(ctx, &rows); err != nil {
		return failure(op, "next open times", err)
	}
	type key [3]uuid.UUID
	opens := make(map[key]openRow, len(rows))
	kinds := map[key][]directory.KindOpen{}
	for _, r := range rows {
		k := key{r.PracticeID, r.ProviderID, r.LocationID}
		if what == opensKinds && r.Kind != nil {
			if r.NextOpen != nil && r.VisitType != nil && r.Until != nil {
				kinds[k] = append(kinds[k], directory.KindOpen{Kind: directory.VisitKind(*r.Kind), At: r.NextOpen.Time(),
					VisitTypeID: *r.VisitType, Until: r.Until.Time()})
			}
			continue
		}
		opens[k] = r
	}
	set := func(practice, provider uuid.UUID, l *directory.Location) {
		k := key{practice, provider, l.ID}
		l.NextOpen, l.NextOpenVisitType, l.NextOpenUntil = nil, uuid.Nil, nil
		if r, ok := opens[k]; ok && r.VisitType != nil {
			l.NextOpen, l.NextOpenVisitType, l.NextOpenUntil = r.NextOpen.timePtr(), *r.VisitType, r.Until.timePtr()
		}
		if what == opensKinds {
			l.KindOpens = kinds[k]
		}
	}
	for i := range hits {
		h := &hits[i]
		for j := range h.Provider.Locations {
			set(h.PracticeID, h.Provider.ID, &h.Provider.Locations[j])
		}
		set(h.PracticeID, h.Provider.ID, &h.Location)
	}
	return nil
}

// Provider returns a listed provider with all its locations; see
// directory.Store.
func (s *Directory) Provider(ctx context.Context, id scheduling.ProviderID) (*directory.Hit, error) {
	const op = "sqlstore.DirectoryProvider"
	var rows []hitRow
	err := s.idb(ctx).NewRaw(`SELECT p.practice_id, p.provider_id, p.practice_name, p.doc AS pdoc FROM directory_providers p
		WHERE p.provider_id = ? ORDER BY p.practice_id LIMIT 1`, id).Scan(ctx, &rows)
	if err != nil {
		return nil, failure(op, "provider", err)
	}
	if len(rows) == 0 {
		return nil, errs.NotFound(op, "provider")
	}
	h := directory.Hit{PracticeID: rows[0].PracticeID, PracticeName: rows[0].PracticeName}
	if err := json.Unmarshal(rows[0].PDoc, &h.Provider); err != nil {
		return nil, errs.Wrap(errs.KindInternal, op, "decode a provider", err)
	}
	if len(h.Provider.Locations) > 0 {
		h.Location = h.Provider.Locations[0]
	}
	hits := []directory.Hit{h}
	if err := s.fillOpens(ctx, op, hits, opensKinds, ""); err != nil {
		return nil, err
	}
	return &hits[0], nil
}

// Practice returns practice's published listing; see directory.Store.
func (s *Directory) Practice(ctx context.Context, id tenant.PracticeID) (*directory.Listing, error) {
	const op = "sqlstore.DirectoryPractice"
	pr, err := s.listedPractice(ctx, op, id)
	if err != nil {
		return nil, err
	}
	if pr == nil {
		return nil, errs.NotFound(op, "practice")
	}
	db := s.idb(ctx)
	var rows []hitRow
	if err := db.NewRaw(`SELECT p.practice_id, p.provider_id, p.practice_name, p.doc AS pdoc FROM directory_providers p
		WHERE p.practice_id = ? ORDER BY p.sort_name, p.provider_id`, id).Scan(ctx, &rows); err != nil {
		return nil, failure(op, "providers", err)
	}
	hits := make([]directory.Hit, len(rows))
	for i, r := range rows {
		hits[i].PracticeID = r.PracticeID
		if err := json.Unmarshal(r.PDoc, &hits[i].Provider); err != nil {
			return nil, errs.Wrap(errs.KindInternal, op, "decode a provider", err)
		}
	}
	if err := s.fillOpens(ctx, op, hits, opensKinds, ""); err != nil {
		return nil, err
	}
	l := &directory.Listing{PracticeID: id, PracticeName: pr.Name, Published: true, Updated: pr.Updated.Time(),
		Providers: make([]directory.Provider, len(hits))}
	for i := range hits {
		l.Providers[i] = hits[i].Provider
	}
	return l, nil
}

// Index returns the listed practices, then providers, after the cursor
// after; see directory.Store.
func (s *Directory) Index(ctx context.Context, after string, limit int) ([]directory.IndexEntry, error) {
	const op = "sqlstore.DirectoryIndex"
	kind, id, err := directory.ParseCursor(after)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > directory.MaxIndexLimit {
		return nil, errs.Invalid(op, "limit", "must be 1 to 50000")
	}
	var out []directory.IndexEntry
	read := func(k, query string, from uuid.UUID, n int) error {
		var rows []struct {
			ID      uuid.UUID `bun:"id"`
			Updated utcTime   `bun:"updated_at"`
		}
		if err := s.idb(ctx).NewRaw(query+" LIMIT "+strconv.Itoa(n), from).Scan(ctx, &rows); err != nil {
			return failure(op, "index", err)
		}
		for _, r := range rows {
			out = append(out, directory.IndexEntry{Kind: k, ID: r.ID, Updated: r.Updated.Time()})
		}
		return nil
	}
	if kind != directory.IndexProvider {
		if err := read(directory.IndexPractice, `SELECT practice_id AS id, updated_at FROM directory_practices
			WHERE practice_id > ? ORDER BY practice_id`, id, limit); err != nil {
			return nil, err
		}
		id = uuid.Nil
	}
	if len(out) < limit {
		if err := read(directory.IndexProvider, `SELECT provider_id AS id, updated_at FROM directory_providers
			WHERE provider_id > ? ORDER BY provider_id, practice_id`, id, limit-len(out)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PutNextOpen sets the next open times of provider's listed locations; see
// directory.Store.
func (s *Directory) PutNextOpen(ctx context.Context, practice tenant.PracticeID, provider scheduling.ProviderID, opens []directory.NextOpen) error {
	const op = "sqlstore.PutNextOpen"
	query := `UPDATE directory_locations SET next_open = ?, next_open_visit_type = ?, next_open_until = ?
		WHERE practice_id = ? AND provider_id = ? AND location_id = ?`
	if s.dialect == SQLite {
		query = `UPDATE directory_locations SET next_open = ?, next_open_visit_type = ?, next_open_until = ?
		WHERE practice_id = ? AND provider = (SELECT id FROM directory_providers WHERE practice_id = ? AND provider_id = ?)
		AND location_id = ?`
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		db := s.idb(ctx)
		locs := make([]uuid.UUID, 0, len(opens))
		for _, o := range opens {
			next, vt, until := nextOpen(o.At, o.VisitTypeID, o.Until)
			args := []any{next, vt, until, practice, provider, o.LocationID}
			if s.dialect == SQLite {
				args = []any{next, vt, until, practice, practice, provider, o.LocationID}
			}
			if _, err := db.ExecContext(ctx, query, args...); err != nil {
				return failure(op, "next open time", err)
			}
			locs = append(locs, o.LocationID)
		}
		if len(locs) == 0 {
			return nil
		}
		return s.putKindOpens(ctx, op, practice, provider, locs, opens)
	})
}

// putKindOpens replaces the per-kind next open times of provider's listed
// locations locs with those of opens, in two statements: the earlier rows
// deleted, the new ones inserted for the locations listed.
func (s *Directory) putKindOpens(ctx context.Context, op string, practice tenant.PracticeID, provider scheduling.ProviderID,
	locs []uuid.UUID, opens []directory.NextOpen) error {
	db := s.idb(ctx)
	pg := s.dialect == Postgres
	del := `DELETE FROM directory_next_opens WHERE practice_id = ? AND provider_id = ? AND location_id IN (?)`
	args := []any{practice, provider, bun.List(locs)}
	if !pg {
		del = `DELETE FROM directory_next_opens WHERE provider = (SELECT id FROM directory_providers WHERE practice_id = ? AND provider_id = ?)
		AND location_id IN (?)`
	}
	if _, err := db.ExecContext(ctx, del, args...); err != nil {
		return failure(op, "next open time", err)
	}
	var vals []any
	n := 0
	for _, o := range opens {
		for _, k := range o.Kinds {
			at, until := kindOpen(k)
			vals = append(vals, o.LocationID, string(k.Kind), at, until, k.VisitTypeID)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	// The rows of the locations listed only: joined to their location rows.
	var query string
	if pg {
		query = `INSERT INTO directory_next_opens (practice_id, provider_id, location_id, kind, next_open, next_open_until, visit_type_id)
		SELECT l.practice_id, l.provider_id, l.location_id, v.kind, v.next_open, v.until, v.vt
		FROM (VALUES ` + strings.Repeat("(?::uuid, ?::text, ?::timestamptz, ?::timestamptz, ?::uuid), ", n-1) +
			`(?::uuid, ?::text, ?::timestamptz, ?::timestamptz, ?::uuid)) AS v (location_id, kind, next_open, until, vt)
		JOIN directory_locations l ON l.practice_id = ? AND l.provider_id = ? AND l.location_id = v.location_id`
	} else {
		query = `INSERT INTO directory_next_opens (provider, practice_id, location_id, kind, next_open, next_open_until, visit_type_id)
		SELECT l.provider, l.practice_id, l.location_id, v.column2, v.column3, v.column4, v.column5
		FROM (VALUES ` + strings.Repeat("(?, ?, ?, ?, ?), ", n-1) + `(?, ?, ?, ?, ?)) AS v
		JOIN directory_locations l ON l.provider = (SELECT id FROM directory_providers WHERE practice_id = ? AND provider_id = ?)
		AND l.location_id = v.column1`
	}
	_, err := db.ExecContext(ctx, query, append(vals, practice, provider)...)
	return failure(op, "next open time", err)
}
