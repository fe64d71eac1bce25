package carebook_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/ehr/fhir"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// TestDemoExportValidates: the demo clinic (internal/demo), seeded on
// SQLite and PostgreSQL as the reference server seeds it (with a files
// bucket), is exported patient by patient through Engine.ExportPatient by
// a practice administrator (who sees restricted entries too), page by page
// to the end; every resource of every page, and every page's Bundle,
// validates against the official FHIR R4 JSON schema with no error. Each
// export holds its patient's Patient and the practice's Organization, and
// its pages add up to its total. The schema refuses a demo resource made
// invalid, so the check cannot pass by validating nothing.
func TestDemoExportValidates(t *testing.T) {
	schema := mustFHIRSchema(t)
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := t.Context()
		bucket, err := files.OpenBucket(ctx, "file://"+filepath.ToSlash(t.TempDir())+"?create_dir=1")
		require.NoError(t, err)
		t.Cleanup(func() { bucket.Close() })
		e := carebook.NewWithStore(st, carebook.WithClock(clock.NewFixed(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))),
			carebook.WithIdentityConfig(identity.Config{Argon2: fastArgon2}), carebook.WithFiles(bucket, files.Options{}))
		practice, err := demo.Seed(ctx, e)
		require.NoError(t, err)
		admin, err := adminCaller(actor.With(ctx, actor.Actor{Kind: actor.Staff, ID: "test"}), e, practice)
		require.NoError(t, err)
		patients, err := st.Scheduling.ListPatients(ctx, practice, scheduling.PatientFilter{})
		require.NoError(t, err)
		require.NotEmpty(t, patients, "the demo seeds patients")

		base := "https://clinic.example/api/v1/practices/" + practice.String()
		var some fhir.Resource // a resource of the demo's, to break below
		resources := map[string]int{}
		for _, p := range patients {
			for _, released := range []bool{false, true} {
				types, total, cursor := map[string]int{}, -1, ""
				ids, refs := map[string]bool{}, []string{}
				for pages := 1; ; pages++ {
					require.Less(t, pages, 1000, "the export of %s does not end", p.ID)
					b, next, err := e.ExportPatient(admin, practice, p.ID, carebook.EverythingQuery{Base: base + "/fhir",
						Self: base + "/patients/" + p.ID.String() + "/$everything", Cursor: cursor, Limit: 7, Released: released,
						FileURL: func(f uuid.UUID) string { return base + "/files/" + f.String() }})
					require.NoError(t, err, "patient %s, page %d", p.ID, pages)
					require.NoError(t, validFHIR(schema, b), "patient %s, page %d: the Bundle", p.ID, pages)
					n, ok := b["total"].(int)
					require.True(t, ok, "the Bundle's total: %v", b["total"])
					require.True(t, total == -1 || total == n, "the total changed between pages: %d then %d", total, n)
					total = n
					page, _ := b["entry"].([]any)
					for i, en := range page {
						r, ok := en.(map[string]any)["resource"].(fhir.Resource)
						require.True(t, ok, "patient %s, page %d, entry %d has no resource", p.ID, pages, i)
						require.NoError(t, validFHIR(schema, r), "patient %s, page %d, entry %d (%s)", p.ID, pages, i, r.Type())
						types[r.Type()]++
						resources[r.Type()]++
						ids[r.Type()+"/"+r["id"].(string)] = true
						refsOf(r, &refs)
						if some == nil && r.Type() == "Patient" {
							some = r
						}
					}
					if next == "" {
						break
					}
					cursor = next
				}
				sum := 0
				for _, k := range types {
					sum += k
				}
				require.Equal(t, total, sum, "patient %s: the pages hold the total", p.ID)
				require.Equal(t, 1, types["Patient"], "patient %s", p.ID)
				require.Equal(t, 1, types["Organization"], "patient %s", p.ID)
				for _, ref := range refs {
					ref, _, _ = strings.Cut(ref, "/_history/")
					require.True(t, ids[ref], "patient %s (released %v): %s is referred to but not exported", p.ID, released, ref)
				}
			}
		}
		t.Logf("%d demo patients exported, every resource valid: %v", len(patients), resources)

		require.NotNil(t, some)
		broken := fhir.Resource{}
		for k, v := range some {
			broken[k] = v
		}
		broken["gender"] = "sometimes"
		require.Error(t, validFHIR(schema, broken), "a Patient with a gender outside its value set")
	})
}

// refsOf adds the references (Type/id) that v holds to out.
func refsOf(v any, out *[]string) {
	switch x := v.(type) {
	case fhir.Resource:
		refsOf(map[string]any(x), out)
	case map[string]any:
		for k, w := range x {
			if s, ok := w.(string); ok && k == "reference" {
				*out = append(*out, s)
			}
			refsOf(w, out)
		}
	case []any:
		for _, w := range x {
			refsOf(w, out)
		}
	}
}

// validFHIR validates r (a resource or a Bundle) through its JSON against
// the FHIR R4 schema.
func validFHIR(schema *jsonschema.Schema, r any) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if err := schema.Validate(v); err != nil {
		return fmt.Errorf("%w\n%s", err, raw)
	}
	return nil
}
