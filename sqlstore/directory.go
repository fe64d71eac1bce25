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
			accepting_new, languages, specialties, search, doc) VALUES (?, ?, ?, ?, ?, ?, ?, to_tsvector('simple', ?), ?)`,
			l.PracticeID, p.ID, l.PracticeName, sortName, p.AcceptingNew, pgdialect.Array(langs),
			pgdialect.Array(p.Specialties), search, string(doc))
	} else {
		err = db.QueryRowContext(ctx, `INSERT INTO directory_providers (practice_id, provider_id, practice_name, sort_name,
			accepting_new, languages, specialties, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			l.PracticeID, p.ID, l.PracticeName, sortName, p.AcceptingNew, padded(langs), padded(p.Specialties),
			string(doc)).Scan(&rowID)
		if err == nil {
			_, err = db.ExecContext(ctx, `INSERT INTO directory_fts (rowid, doc) VALUES (?, ?)`, rowID, search)
		}
	}
	if err != nil {
		return failure(op, "provider", err)
	}
	for i := range p.Locations {
		loc := &p.Locations[i]
		ldoc, err := json.Marshal(loc)
		if err != nil {
			return errs.Wrap(errs.KindInternal, op, "encode the location", err)
		}
		if s.dialect == Postgres {
			_, err = db.ExecContext(ctx, `INSERT INTO directory_locations (practice_id, provider_id, location_id, lat, lon, doc)
				VALUES (?, ?, ?, ?, ?, ?)`, l.PracticeID, p.ID, loc.ID, loc.Geo.Lat, loc.Geo.Lon, string(ldoc))
		} else {
			var locID int64
			err = db.QueryRowContext(ctx, `INSERT INTO directory_locations (provider, practice_id, location_id, lat, lon, doc)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, rowID, l.PracticeID, loc.ID, loc.Geo.Lat, loc.Geo.Lon, string(ldoc)).Scan(&locID)
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
	PracticeName string    `bun:"practice_name"`
	PDoc         []byte    `bun:"pdoc"`
	LDoc         []byte    `bun:"ldoc"`
	Dist         float64   `bun:"dist"`
}

// Search returns the providers matching q; see directory.Store.
func (s *Directory) Search(ctx context.Context, q directory.Query) ([]directory.Hit, error) {
	const op = "sqlstore.SearchDirectory"
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	query, args := s.searchSQL(q)
	var rows []hitRow
	if err := s.idb(ctx).NewRaw(query, args...).Scan(ctx, &rows); err != nil {
		return nil, failure(op, "directory", err)
	}
	hits := make([]directory.Hit, len(rows))
	for i, r := range rows {
		h := directory.Hit{PracticeID: r.PracticeID, PracticeName: r.PracticeName, DistanceKm: r.Dist}
		if err := json.Unmarshal(r.PDoc, &h.Provider); err != nil {
			return nil, errs.Wrap(errs.KindInternal, op, "decode a provider", err)
		}
		if err := json.Unmarshal(r.LDoc, &h.Location); err != nil {
			return nil, errs.Wrap(errs.KindInternal, op, "decode a location", err)
		}
		hits[i] = h
	}
	return hits, nil
}

// searchSQL returns the query of q (normalized) and its arguments: every
// matching location, ranked within its provider by distance (then ID), and
// each provider's first one, nearest first (without a point, by name).
func (s *Directory) searchSQL(q directory.Query) (string, []any) {
	var (
		conds []string
		args  []any
		dist  = "0.0"
	)
	pg := s.dialect == Postgres
	if q.Near != nil {
		lat, lon, r := q.Near.Lat, q.Near.Lon, q.RadiusKm
		if pg {
			here := "ll_to_earth(" + ftoa(lat) + ", " + ftoa(lon) + ")"
			dist = "earth_distance(" + here + ", ll_to_earth(l.lat, l.lon)) / 1000"
			conds = append(conds, "earth_box("+here+", "+ftoa(r*1000)+") @> ll_to_earth(l.lat, l.lon)")
		} else {
			dist = strconv.FormatFloat(2*earthRadiusKm, 'f', -1, 64) + " * asin(min(1, sqrt(pow(sin(radians(l.lat - " + ftoa(lat) +
				") / 2), 2) + cos(radians(" + ftoa(lat) + ")) * cos(radians(l.lat)) * pow(sin(radians(l.lon - " + ftoa(lon) + ") / 2), 2))))"
			minLat, maxLat, minLon, maxLon := box(lat, lon, r)
			conds = append(conds, "l.id IN (SELECT id FROM directory_geo WHERE max_lat >= "+ftoa(minLat)+" AND min_lat <= "+ftoa(maxLat)+
				" AND max_lon >= "+ftoa(minLon)+" AND min_lon <= "+ftoa(maxLon)+")")
		}
		conds = append(conds, dist+" <= "+ftoa(r))
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
			conds = append(conds, "p.specialties && ARRAY[?]::text[]")
			args = append(args, bun.List(q.Specialties))
		} else {
			or := make([]string, len(q.Specialties))
			for i, c := range q.Specialties {
				or[i] = "instr(p.specialties, ?) > 0"
				args = append(args, " "+c+" ")
			}
			conds = append(conds, "("+strings.Join(or, " OR ")+")")
		}
	}
	if q.AcceptingNew {
		conds = append(conds, "p.accepting_new")
	}
	if q.Language != "" {
		if pg {
			conds = append(conds, "? = ANY (p.languages)")
			args = append(args, q.Language)
		} else {
			conds = append(conds, "instr(p.languages, ?) > 0")
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
	order := "h.dist, h.sort_name"
	if q.Near == nil {
		order = "h.sort_name"
	}
	return `SELECT h.practice_id, h.practice_name, h.pdoc, h.ldoc, h.dist FROM (
		SELECT p.practice_id, p.provider_id, p.practice_name, p.sort_name, p.doc AS pdoc, l.doc AS ldoc, ` + dist + ` AS dist,
			row_number() OVER (PARTITION BY l.practice_id, p.provider_id ORDER BY ` + dist + `, l.location_id) AS rn
		FROM directory_locations l JOIN directory_providers p ON ` + join + `
		` + where + `
	) h WHERE h.rn = 1 ORDER BY ` + order + `, h.practice_id, h.provider_id LIMIT ` + strconv.Itoa(q.Limit), args
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
