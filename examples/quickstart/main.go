// Command quickstart embeds carebook on SQLite: it sets up a practice with
// one doctor and a weekly schedule, finds open times, and books one.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run does the whole tour and writes what happened to w.
func run(w io.Writer) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "carebook-quickstart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// A fixed clock keeps the output the same on every run: Monday 4 May 2026, 08:00 in New York.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		return err
	}
	// The master key seals patients' data; keep its file with the database.
	master, err := keys.OpenFile(filepath.Join(dir, "master-key.json"))
	if err != nil {
		return err
	}
	e, err := carebook.New(ctx,
		carebook.Config{DSN: "sqlite:" + filepath.Join(dir, "carebook.db"), Migrate: true, MasterKey: master},
		carebook.WithClock(clock.NewFixed(time.Date(2026, time.May, 4, 8, 0, 0, 0, ny))))
	if err != nil {
		return err
	}
	defer e.Close()

	// The tenant: a group, a practice and a location.
	group, err := e.Tenants.CreateGroup(ctx, "Harbor Health")
	if err != nil {
		return err
	}
	practice, err := e.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: group.ID, Name: "Harbor Family Practice"})
	if err != nil {
		return err
	}
	loc, err := e.Tenants.CreateLocation(ctx, practice.ID, tenant.NewLocation{
		Name: "Main Street", TimeZone: "America/New_York",
		Address: tenant.Address{Line1: "12 Main Street", City: "Brooklyn", Region: "NY", PostalCode: "11201", Country: "US"},
		Geo:     tenant.GeoPoint{Lat: 40.7033, Lng: -73.9881},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "practice %q, location %q (%s)\n", practice.Name, loc.Name, loc.TimeZone)

	// A doctor who sees patients on weekday mornings, and a kind of visit.
	s := e.Scheduling
	doc, err := s.CreateProvider(ctx, practice.ID, scheduling.NewProvider{
		NPI: "1234567893", GivenName: "Ada", FamilyName: "Park",
		Specialties: []string{"family-medicine"}, LocationIDs: []tenant.LocationID{loc.ID},
	})
	if err != nil {
		return err
	}
	if _, err := s.CreateBlock(ctx, practice.ID, scheduling.NewBlock{ProviderID: doc.ID, BlockInput: scheduling.BlockInput{
		LocationID: loc.ID,
		Start:      time.Date(2026, time.May, 4, 9, 0, 0, 0, ny),
		End:        time.Date(2026, time.May, 4, 12, 0, 0, 0, ny),
		RRule:      "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
	}}); err != nil {
		return err
	}
	checkup, err := s.CreateVisitType(ctx, practice.ID, scheduling.NewVisitType{Name: "Check-up", Duration: 30 * time.Minute})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Dr. %s %s works Mon–Fri 09:00–12:00; a %s takes %v\n", doc.GivenName, doc.FamilyName, checkup.Name, checkup.Duration)

	// A patient looks for a time on Tuesday and books the first one.
	pat, err := s.CreatePatient(ctx, practice.ID, scheduling.PatientInput{
		GivenName: "Sam", FamilyName: "Rivera", BirthDate: "1988-02-14", Phone: "+1 (718) 555-0134",
	})
	if err != nil {
		return err
	}
	tuesday := scheduling.SlotQuery{VisitTypeID: checkup.ID,
		From: time.Date(2026, time.May, 5, 0, 0, 0, 0, ny), To: time.Date(2026, time.May, 6, 0, 0, 0, 0, ny)}
	slots, err := s.OpenSlots(ctx, practice.ID, tuesday)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%d open slots on Tuesday, first %s, last %s\n", len(slots),
		slots[0].Start.In(ny).Format("15:04"), slots[len(slots)-1].Start.In(ny).Format("15:04"))

	asPatient := actor.With(ctx, actor.Actor{Kind: actor.Patient, ID: pat.ID.String()})
	appt, err := s.Book(asPatient, practice.ID, scheduling.BookRequest{
		PatientID: pat.ID, ProviderID: doc.ID, VisitTypeID: checkup.ID, Start: slots[0].Start,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s %s (%s patient, phone %s) booked %s: status %s\n", pat.GivenName, pat.FamilyName,
		appt.PatientKind, pat.Phone, appt.Start.In(ny).Format("Mon Jan 2 15:04 MST"), appt.Status)

	// The front desk confirms the request.
	asStaff := actor.With(ctx, actor.Actor{Kind: actor.Staff, ID: "front-desk"})
	if appt, err = s.Confirm(asStaff, practice.ID, appt.ID); err != nil {
		return err
	}
	fmt.Fprintf(w, "front desk confirmed it: status %s\n", appt.Status)

	// The booked time is no longer offered; booking it again is a conflict.
	if slots, err = s.OpenSlots(ctx, practice.ID, tuesday); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d open slots on Tuesday, first %s\n", len(slots), slots[0].Start.In(ny).Format("15:04"))
	_, err = s.Book(asStaff, practice.ID, scheduling.BookRequest{
		PatientID: pat.ID, ProviderID: doc.ID, VisitTypeID: checkup.ID, Start: appt.Start,
	})
	fmt.Fprintf(w, "booking 09:00 again: %v error (%v)\n", errs.KindOf(err), err)
	return nil
}
