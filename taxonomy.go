package carebook

import (
	"fmt"
	"os"

	"github.com/carebook/carebook/directory"
)

// WithTaxonomy sets the provider taxonomy the Engine names specialties by
// (Engine.Taxonomy): the curated table by default, or the full NUCC code set
// an operator loads (directory.LoadTaxonomy, LoadTaxonomyFile). nil keeps
// the default.
func WithTaxonomy(t *directory.Taxonomy) Option {
	return func(e *Engine) {
		if t != nil {
			e.Taxonomy = t
		}
	}
}

// LoadTaxonomyFile reads the NUCC's taxonomy CSV at path (see
// directory.LoadTaxonomy); its error names the file, the line and the
// column at fault.
func LoadTaxonomyFile(path string) (*directory.Taxonomy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := directory.LoadTaxonomy(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
