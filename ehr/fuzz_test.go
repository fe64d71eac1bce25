package ehr_test

import (
	"encoding/json"
	"testing"

	"github.com/carebook/carebook/ehr"
)

// FuzzEntryJSON: no input makes reading an entry panic; what reads back
// writes and reads again to the same body, and its validation ends in an
// error or nil, never a panic.
func FuzzEntryJSON(f *testing.F) {
	for _, s := range []string{
		`{"kind":"note","body":{"title":"t","plan":"p"}}`,
		`{"kind":"vital","body":{"code":"8867-4","value":72,"unit":"/min","effective_at":"2030-03-05T15:00:00Z"}}`,
		`{"kind":"problem","body":{"display":"x","clinical_status":"active"}}`,
		`{"kind":"encounter","body":null}`,
		`{"kind":"document","body":{"file_id":"not a uuid"}}`,
		`{"kind":"allergy","body":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var e ehr.Entry
		if err := json.Unmarshal(b, &e); err != nil {
			return
		}
		_ = e.Body.Validate("fuzz", now)
		out, err := json.Marshal(&e)
		if err != nil {
			t.Fatalf("Marshal of what was read: %v", err)
		}
		var again ehr.Entry
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("what was written does not read: %v\n%s", err, out)
		}
	})
}
