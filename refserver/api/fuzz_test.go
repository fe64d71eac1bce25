package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
)

// FuzzDecodeBookRequest feeds arbitrary bodies to the booking decoder. It
// must never panic; it refuses with an invalid or too_large *errs.Error and
// nothing else; and a request it accepts, encoded again, decodes to the same
// request.
func FuzzDecodeBookRequest(f *testing.F) {
	const id = "0190f0c2-8e3a-7c4d-9b1e-2f3a4b5c6d7e"
	for _, s := range []string{
		`{"patient_id":"` + id + `","provider_id":"` + id + `","visit_type_id":"` + id + `","start":"2030-03-05T14:00:00Z"}`,
		`{"patient_id":"` + id + `","provider_id":"` + id + `","visit_type_id":"` + id + `","start":"2030-03-05T09:00:00.123456789-05:00","location_id":"` + id + `"}`,
		`{"patient_id":"` + id + `","provider_id":"` + id + `","visit_type_id":"` + id + `","start":"2030-03-05T14:00:00Z","location_id":null}`,
		`{"patient_id":"` + id + `","start":"0001-01-01T00:00:00Z"}`,
		`{"x":1}`, `{"start":5}`, `[]`, `null`, `{} {}`, `{"patient_id":"\u0030"}`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeBook(body)
		if err != nil {
			if k := errs.KindOf(err); k != errs.KindInvalid && k != errs.KindTooLarge {
				t.Fatalf("refused with kind %v: %v", k, err)
			}
			return
		}
		again, err := json.Marshal(bookRequestOf(in))
		if err != nil {
			t.Fatal(err)
		}
		out, err := decodeBook(again)
		if err != nil {
			t.Fatalf("re-encoded request %s refused: %v", again, err)
		}
		if !sameBooking(in, out) {
			t.Fatalf("round trip changed %+v into %+v (via %s)", in, out, again)
		}
	})
}

// decodeBook runs a body through the server's booking decoder.
func decodeBook(body []byte) (scheduling.BookRequest, error) {
	r := httptest.NewRequest("POST", "/api/v1/practices/x/appointments", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return decodeBookRequest(httptest.NewRecorder(), r, 4096)
}

func sameBooking(a, b scheduling.BookRequest) bool {
	if a.PatientID != b.PatientID || a.ProviderID != b.ProviderID || a.VisitTypeID != b.VisitTypeID || !a.Start.Equal(b.Start) ||
		a.AllowPatientOverlap != b.AllowPatientOverlap {
		return false
	}
	if (a.LocationID == nil) != (b.LocationID == nil) {
		return false
	}
	return a.LocationID == nil || *a.LocationID == *b.LocationID
}
