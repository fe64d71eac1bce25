package web

import (
	"testing"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/internal/demo"
)

// TestBrowserChartSignsNote: the practice's administrator opens a
// patient's chart in Chromium (JavaScript off, then on), sees its summary,
// lists and vital signs, signs the draft note of the open encounter, and
// the note reads Signed with its signature in the chart and in the store.
func TestBrowserChartSignsNote(t *testing.T) {
	for _, js := range []bool{false, true} {
		name := "js-off"
		if js {
			name = "js-on"
		}
		t.Run(name, func(t *testing.T) {
			a := newSQLiteApp(t)
			olivia := a.entryOf("Olivia").Patient.ID
			c := a.writeChart(olivia)
			b := a.newBrowser(js)
			b.signIn(demo.AdminEmail, a.demo.AdminPassword)
			chart := a.base() + "/patients/" + olivia.String() + "/chart"
			b.open(chart)
			en := catalogs["en"]
			b.sees("Chart of Olivia Bennett", "Hypertension", "Heart rate", "Referral", en["chart.status.draft"])
			b.screenshot("chart")
			b.open(chart + "/entries/" + c.note.String())
			b.sees("Visit note", en["chart.do.sign"], en["chart.do.sign_lock"])
			b.screenshot("draft-note")
			b.button(en["chart.do.sign"])
			b.sees(en["chart.status.signed"])
			b.screenshot("signed-note")
			vs, err := a.engine.ChartHistory(a.adminCtx(), a.demo.PracticeID, olivia, c.note)
			if err != nil {
				t.Fatal(err)
			}
			last := vs[len(vs)-1]
			if len(vs) != 2 || last.Status != ehr.Signed || last.SignedBy == "" || last.SignedAt == nil {
				t.Fatalf("after Sign: %d versions, the last %s signed by %q", len(vs), last.Status, last.SignedBy)
			}
		})
	}
}
