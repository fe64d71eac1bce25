package directory

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Term is one word of a query resolved against a taxonomy: the specialties
// (taxonomy codes) one of whose words it begins, from the specialty's
// display name or from the names and synonyms of the concerns it treats.
// A provider's search document (SearchDocumentIn) holds a word beginning
// with Word exactly when one of the provider's specialties is in Codes or
// one of the words of their names begins with Word (see NameWords), so
// that a store may search near a point by the specialties alone, as it
// searches by a specialty, with no full-text index.
type Term struct {
	Word  string
	Codes []string // sorted
}

// MaxTermCodes is the most codes a Term resolved by Terms has: a shorter
// prefix (such as "a" over the NUCC's full code set) matches more, and
// Terms reports it as too broad for a store to test code by code.
const MaxTermCodes = 40

// Terms resolves words (as Query.Words holds them) against t (nil: the
// curated table). ok is false when a word begins the words of more than
// MaxTermCodes specialties: a store then searches by its full-text index.
func (t *Taxonomy) Terms(words []string) (terms []Term, ok bool) {
	if t == nil {
		t = defaultTaxonomy
	}
	idx := t.wordIndex()
	terms = make([]Term, len(words))
	for i, w := range words {
		terms[i].Word = w
		from := sort.Search(len(idx), func(j int) bool { return idx[j].word >= w })
		for _, e := range idx[from:] {
			if !strings.HasPrefix(e.word, w) {
				break
			}
			if !slices.Contains(terms[i].Codes, e.code) {
				terms[i].Codes = append(terms[i].Codes, e.code)
			}
		}
		if len(terms[i].Codes) > MaxTermCodes {
			return nil, false
		}
		slices.Sort(terms[i].Codes)
	}
	return terms, true
}

// codeWord is a word of a specialty's, with its code.
type codeWord struct{ word, code string }

// wordIndex returns the words of t's specialties (their display names')
// and of the concerns each code treats, sorted by word then code, built on
// the first call.
func (t *Taxonomy) wordIndex() []codeWord {
	t.indexOnce.Do(func() {
		add := func(code, s string) {
			for _, w := range Words(s) {
				t.index = append(t.index, codeWord{w, code})
			}
		}
		for code, s := range t.byCode {
			add(code, s.Name)
		}
		for code, terms := range concernTerms {
			for _, s := range terms {
				add(code, s)
			}
		}
		slices.SortFunc(t.index, func(a, b codeWord) int {
			if c := strings.Compare(a.word, b.word); c != 0 {
				return c
			}
			return strings.Compare(a.code, b.code)
		})
		t.index = slices.Compact(t.index)
	})
	return t.index
}

// NameWords returns the words of p's names (given and family), as its
// search document holds them: a store keeps them to match a Term's word
// against besides its codes.
func (p *Provider) NameWords() []string {
	return append(Words(p.GivenName), Words(p.FamilyName)...)
}

// zones are the time zones loaded, by IANA name, as time.LoadLocation
// reads the zone database on each call.
var zones sync.Map // string → *time.Location

// LoadZone returns the time zone named name (IANA, such as
// "America/New_York"), loading each once; "" is UTC.
func LoadZone(name string) (*time.Location, error) {
	if z, ok := zones.Load(name); ok {
		return z.(*time.Location), nil
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, z)
	return z, nil
}

// Zone returns l's time zone (TimeZone), UTC when it has none or it does
// not load.
func (l *Location) Zone() *time.Location {
	z, err := LoadZone(l.TimeZone)
	if err != nil {
		return time.UTC
	}
	return z
}
