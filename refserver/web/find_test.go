package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
)

// demoTaxonomies are the NUCC codes of the demo providers' specialties.
var demoTaxonomies = map[string]string{"family-medicine": "207Q00000X", "pediatrics": "208000000X", "cardiology": "207RC0000X"}

// publishDemo lists the demo practice in the directory, unless it is
// already: each provider with the taxonomy of their specialty, English
// and Spanish for the first, accepting new patients.
func (a *app) publishDemo() {
	a.t.Helper()
	ctx := context.Background()
	if _, err := a.engine.DirectoryPractice(ctx, a.demo.PracticeID); err == nil {
		return
	} else if errs.KindOf(err) != errs.KindNotFound {
		a.t.Fatal(err)
	}
	actx := a.adminCtx()
	provs, err := a.engine.Scheduling.Providers(ctx, a.demo.PracticeID, scheduling.ProviderFilter{})
	if err != nil {
		a.t.Fatal(err)
	}
	for i, p := range provs {
		langs := []string{"en"}
		if i == 0 {
			langs = append(langs, "es")
		}
		code := demoTaxonomies[p.Specialties[0]]
		if err := a.engine.PutDirectoryProfile(actx, a.demo.PracticeID, carebook.DirectoryProfile{ProviderID: p.ID,
			Taxonomies: []string{code}, Languages: langs, AcceptingNew: true}); err != nil {
			a.t.Fatal(err)
		}
	}
	if err := a.engine.PublishDirectory(actx, a.demo.PracticeID, true); err != nil {
		a.t.Fatal(err)
	}
}

func TestFindSmoke(t *testing.T) {
	a := newSQLiteApp(t)
	a.publishDemo()
	c := a.client()
	for _, p := range []string{"/", "/find?q=back+pain&zip=11201", "/robots.txt", "/sitemap.xml"} {
		res := c.get(p)
		t.Logf("%s %d %v\n%s", p, res.status, res.header, res.body)
	}
	hits, _ := a.engine.SearchDirectory(context.Background(), directory.Query{Words: []string{"back"}})
	for _, h := range hits {
		r := c.get("/doctors/" + h.Provider.ID.String())
		t.Logf("%d %s", r.status, r.body)
		r = c.get("/practices/" + h.PracticeID.String())
		t.Logf("%d %s", r.status, r.body)
		if !strings.Contains(r.body, "x") || r.status != http.StatusOK {
			t.Fatal("x")
		}
	}
}
