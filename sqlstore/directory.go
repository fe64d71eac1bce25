package sqlstore

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/errs"
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
// directory.Store.
func (s *Directory) PutListing(ctx context.Context, l *directory.Listing) error {
	const op = "sqlstore.PutListing"
	if err := l.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.Lock(ctx, l.PracticeID); err != nil {
			return err
		}
		if err := s.remove(ctx, op, l.PracticeID); err != nil {
			return err
		}
		if !l.Published {
			return nil
		}
		for i := range l.Providers {
			if p := &l.Providers[i]; !p.Hidden {
				if err := s.insert(ctx, op, l, p); err != nil {
					return err
				}
			}
		}
		return nil
	})
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
	stmts = append(stmts, `DELETE FROM directory_providers WHERE practice_id = ?`)
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q, practice); err != nil {
			return failure(op, "listing", err)
		}
	}
	return nil
}

// padded joins codes with a space around each, for SQLite's instr filters.
func padded(codes []string) string { return " " + strings.Join(codes, " ") + " " }

// insert writes provider p of listing l with its locations.
func (s *Directory) insert(ctx context.Context, op string, l *directory.Listing, p *directory.Provider) error {
	db := s.idb(ctx)
	pub := *p
	pub.Hidden = false
	doc, err := json.Marshal(&pub)
	if err != nil {
		return errs.Wrap(errs.KindInternal, op, "encode the provider", err)
	}
	search := p.SearchDocument()
	sortName := strings.ToLower(p.FamilyName + " " + p.GivenName)
	langs := p.Languages
	if langs == nil {
		langs = []string{}
	}
	var rowID int64
	if s.dialect == Postgres {
		_, err = db.ExecContext(ctx, `INSERT INTO directory_providers (practice_id, provider_id, practice_name, sort_name,
			search, doc) VALUES (?, ?, ?, ?, to_tsvector('simple', ?), ?)`,
			l.PracticeID, p.ID, l.PracticeName, sortName, search, string(doc))
	} else {
		err = db.QueryRowContext(ctx, `INSERT INTO directory_providers (practice_id, provider_id, practice_name, sort_name,
			doc) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			l.PracticeID, p.ID, l.PracticeName, sortName, string(doc)).Scan(&rowID)
		if err == nil {
			_, err = db.ExecContext(ctx, `INSERT INTO directory_fts (rowid, doc) VALUES (?, ?)`, rowID, search)
		}
	}
	if err != nil {
		return failure(op, "provider", err)
	}
	for i := range p.Locations {
		loc := &p.Locations[i]
		if s.dialect == Postgres {
			_, err = db.ExecContext(ctx, `INSERT INTO directory_locations (practice_id, provider_id, location_id, lat, lon,
				accepting_new, languages, specialties) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, l.PracticeID, p.ID, loc.ID,
				loc.Geo.Lat, loc.Geo.Lon, p.AcceptingNew, pgdialect.Array(langs), pgdialect.Array(p.Specialties))
		} else {
			var locID int64
			x, y, z := earthXYZ(loc.Geo)
			err = db.QueryRowContext(ctx, `INSERT INTO directory_locations (provider, practice_id, location_id, lat, lon, x, y, z,
				accepting_new, languages, specialties) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, rowID, l.PracticeID,
				loc.ID, loc.Geo.Lat, loc.Geo.Lon, x, y, z, p.AcceptingNew, padded(langs), padded(p.Specialties)).Scan(&locID)
			if err == nil {
				_, err = db.ExecContext(ctx, `INSERT INTO directory_geo (id, min_lat, max_lat, min_lon, max_lon) VALUES (?, ?, ?, ?, ?)`,
					locID, loc.Geo.Lat, loc.Geo.Lat, loc.Geo.Lon, loc.Geo.Lon)
			}
		}
		if err != nil {
			return failure(op, "location", err)
		}
	}
	return nil
}

// hitRow is one row of a search.
type hitRow struct {
	PracticeID   uuid.UUID `bun:"practice_id"`
	ProviderID   uuid.UUID `bun:"provider_id"`
	PracticeName string    `bun:"practice_name"`
	PDoc         []byte    `bun:"pdoc"`
	LocationID   uuid.UUID `bun:"location_id"`
	Dist         float64   `bun:"dist"`
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
	return decodeHits(op, rows, q.Limit)
}

// searchNear answers q, which has a point: it searches within a radius
// growing from an eighth of q's to q's, doubling, and stops at the first
// within which q.Limit providers are found (or at q's radius). What lies
// within a smaller radius is nearer than what lies outside it, so the
// first providers found are the nearest; and the smaller radius reads far
// fewer rows wherever providers are dense. At each radius it reads the
// nearest matching locations, at most cap of them (and then again with
// twice as many, should providers with several locations leave fewer
// than q.Limit among them).
func (s *Directory) searchNear(ctx context.Context, op string, q directory.Query) ([]directory.Hit, error) {
	r := q.RadiusKm / 8
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
			return decodeHits(op, rows, q.Limit)
		default:
			r *= 2
		}
	}
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
	if len(q.Words) > 0 {
		if pg {
			terms := make([]string, len(q.Words))
			for i, w := range q.Words {
				terms[i] = w + ":*"
			}
			conds = append(conds, "p.search @@ to_tsquery('simple', ?)")
			args = append(args, strings.Join(terms, " & "))
		} else {
			terms := make([]string, len(q.Words))
			for i, w := range q.Words {
				terms[i] = `"` + w + `"*`
			}
			conds = append(conds, "p.id IN (SELECT rowid FROM directory_fts WHERE directory_fts MATCH ?)")
			args = append(args, strings.Join(terms, " "))
		}
	}
	if len(q.Specialties) > 0 {
		if pg {
			conds = append(conds, "l.specialties && ARRAY[?]::text[]")
			args = append(args, bun.List(q.Specialties))
		} else {
			or := make([]string, len(q.Specialties))
			for i, c := range q.Specialties {
				or[i] = "instr(l.specialties, ?) > 0"
				args = append(args, " "+c+" ")
			}
			conds = append(conds, "("+strings.Join(or, " OR ")+")")
		}
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
	join := "p.practice_id = l.practice_id AND p.provider_id = l.provider_id"
	if !pg {
		join = "p.id = l.provider"
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	if q.Near != nil {
		return `SELECT p.practice_id, p.provider_id, p.practice_name, p.doc AS pdoc, l.location_id, ` + dist + ` AS dist
		FROM directory_locations l JOIN directory_providers p ON ` + join + `
		` + where + `
		ORDER BY dist, p.sort_name, p.practice_id, p.provider_id, l.location_id LIMIT ` + strconv.Itoa(capRows), args
	}
	return `SELECT h.practice_id, h.provider_id, h.practice_name, h.pdoc, h.location_id, h.dist FROM (
		SELECT p.practice_id, p.provider_id, p.practice_name, p.sort_name, p.doc AS pdoc, l.location_id, 0.0 AS dist,
			row_number() OVER (PARTITION BY l.practice_id, p.provider_id ORDER BY l.location_id) AS rn
		FROM directory_locations l JOIN directory_providers p ON ` + join + `
		` + where + `
	) h WHERE h.rn = 1 ORDER BY h.sort_name, h.practice_id, h.provider_id LIMIT ` + strconv.Itoa(q.Limit), args
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
