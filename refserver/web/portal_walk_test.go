package web

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/internal/demo"
	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestBrowserPatientDownloadsRecordAndAsksCorrection: the demo patient, in
// Chromium (JavaScript off, then on), opens their health record (the
// signed note and the active problem, not the draft), opens its copy
// made for printing, downloads the FHIR Bundle (a file the browser
// saves), and asks for a correction of the problem, which the store
// holds as a request waiting.
func TestBrowserPatientDownloadsRecordAndAsksCorrection(t *testing.T) {
	for _, js := range []bool{false, true} {
		name := "js-off"
		if js {
			name = "js-on"
		}
		t.Run(name, func(t *testing.T) {
			a := newSQLiteApp(t)
			olivia := a.entryOf("Olivia").Patient.ID
			c := a.writeChart(olivia)
			a.signedNote(olivia, c, "Blood pressure review")
			en := catalogs["en"]
			b := a.newBrowser(js)
			b.signIn(demo.PatientEmail, a.demo.PatientPassword)
			b.open(a.base() + "/visits")
			b.click(`//nav//a[normalize-space(.)="` + en["nav.record"] + `"]`)
			b.sees(en["portal.record.title"], "Hypertension", "Heart rate", "Blood pressure review", "Referral")
			if strings.Contains(b.text(), "Feels well.") {
				t.Fatal("the record shows the draft note")
			}
			b.screenshot("record")

			b.click(`//a[normalize-space(.)="` + en["portal.download.print"] + `"]`)
			b.sees(en["portal.print.title"], demo.PracticeName, "Olivia Bennett", "Monday 4 March 2030", "Hypertension", "Blood pressure review")
			b.screenshot("printable-copy")

			b.open(a.base() + "/record")
			dir := t.TempDir()
			done := chromedp.Events(b.ctx, cdpbrowser.DownloadProgress)
			events := true
			b.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
					Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events})
				return err
			}), chromedp.Click(chromedp.Search(`//a[normalize-space(.)="`+en["portal.download.fhir"]+`"]`), chromedp.NodeVisible))
			var file string
			for ev, err := range done {
				if err != nil {
					t.Fatal(err)
				}
				if ev.State == cdpbrowser.DownloadProgressStateCompleted {
					file = filepath.Join(dir, ev.GUID)
					break
				}
				if ev.State == cdpbrowser.DownloadProgressStateCanceled {
					t.Fatal("the download was canceled")
				}
			}
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var bundle map[string]any
			if err := json.Unmarshal(raw, &bundle); err != nil || bundle["resourceType"] != "Bundle" {
				t.Fatalf("the download is no Bundle: %v\n%.300s", err, raw)
			}
			if !strings.Contains(string(raw), c.problem.String()) || strings.Contains(string(raw), c.note.String()) {
				t.Fatal("the downloaded Bundle is not the patient's released record")
			}

			b.click(`//a[normalize-space(.)="` + en["portal.corrections.link"] + `"]`)
			b.sees(en["portal.corrections.title"], "Hypertension")
			b.do(chromedp.Click(chromedp.CSS(`input[value="`+c.problem.String()+`"]`), chromedp.NodeVisible))
			b.do(chromedp.SendKeys(chromedp.CSS(`textarea[name="reason"]`), "I was told it was white-coat hypertension."))
			b.screenshot("correction-form")
			b.button(en["portal.corrections.send"])
			b.sees(en["portal.done.requested"], "I was told it was white-coat hypertension.", en["rights.status.requested"], "60 days left")
			b.screenshot("correction-sent")
			as, err := a.engine.Amendments(a.adminCtx(), a.demo.PracticeID, olivia)
			if err != nil || len(as) != 1 || as[0].Status != ehr.Requested || len(as[0].EntryIDs) != 1 || as[0].EntryIDs[0] != c.problem {
				t.Fatalf("amendment requests: %+v, %v", as, err)
			}
		})
	}
}

// TestBrowserRightsPageDeniesAmendment: the administrator opens a
// patient's rights page from the chart in Chromium (JavaScript off), sees
// the correction and copy requests with their time limits, and denies
// the correction with a basis and a reason, which the store holds.
func TestBrowserRightsPageDeniesAmendment(t *testing.T) {
	a := newSQLiteApp(t)
	olivia := a.entryOf("Olivia").Patient.ID
	c := a.writeChart(olivia)
	ctx, pid := a.adminCtx(), a.demo.PracticeID
	am, err := a.engine.RequestAmendment(ctx, pid, olivia, []ehr.EntryID{c.problem}, "I never had hypertension.")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.engine.RequestRecordCopy(ctx, pid, olivia, ehr.HumanReadable); err != nil {
		t.Fatal(err)
	}
	en := catalogs["en"]
	b := a.newBrowser(false)
	b.signIn(demo.AdminEmail, a.demo.AdminPassword)
	b.open(a.base() + "/patients/" + olivia.String() + "/chart")
	b.click(`//a[normalize-space(.)="` + en["chart.rights.link"] + `"]`)
	b.sees("Rights of Olivia Bennett", "I never had hypertension.", "60 days left", "30 days left", en["rights.none.disclosures"])
	b.screenshot("rights")
	b.choose("denial_basis", string(ehr.Accurate))
	b.do(chromedp.SendKeys(chromedp.CSS(`textarea[id="decide-`+am.ID.String()+`-reason"]`), "Two readings at rest."))
	b.button(en["rights.do.deny"])
	b.sees(en["rights.done.denied"], en["rights.status.denied"], "Two readings at rest.")
	b.screenshot("denied")
	got, err := a.engine.Amendments(ctx, pid, olivia)
	if err != nil || got[0].Status != ehr.Denied || got[0].DenialBasis != ehr.Accurate {
		t.Fatalf("after Deny: %+v, %v", got, err)
	}
}
