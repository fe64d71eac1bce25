package web

import (
	"testing"

	"github.com/carebook/carebook/scheduling"
)

// TestSearchFilter: the front desk's one search box reads an email, a
// phone number, or the start of a name with an optional date of birth.
func TestSearchFilter(t *testing.T) {
	for _, c := range []struct {
		text string
		want scheduling.PatientFilter
	}{
		{"Olivia.Bennett@Example.com", scheduling.PatientFilter{Email: "olivia.bennett@example.com", Limit: 20}},
		{"+1 (202) 555-0143", scheduling.PatientFilter{Phone: "+12025550143", Limit: 20}},
		{"benn", scheduling.PatientFilter{Name: "benn", Limit: 20}},
		{"benn 1984-03-12", scheduling.PatientFilter{Name: "benn", BirthDate: "1984-03-12", Limit: 20}},
		{"1984-03-12 olivia", scheduling.PatientFilter{Name: "olivia", BirthDate: "1984-03-12", Limit: 20}},
		{"1984-03-12", scheduling.PatientFilter{Name: "1984-03-12", Limit: 20}}, // a date alone finds no one by name
		{"benn 1984-13-40", scheduling.PatientFilter{Name: "benn 1984-13-40", Limit: 20}},
	} {
		got := searchFilter(c.text)
		if got.Name != c.want.Name || got.BirthDate != c.want.BirthDate || got.Phone != c.want.Phone ||
			got.Email != c.want.Email || got.Limit != c.want.Limit {
			t.Errorf("searchFilter(%q) = %+v, want %+v", c.text, got, c.want)
		}
	}
}
