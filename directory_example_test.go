package carebook_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// SearchDirectory finds doctors across every published practice, with no
// caller: here "back pain" within 5 km of ZIP 11201's centroid finds a
// family doctor of a practice that published her, with her next open
// time, the first slot a patient may book (the practice's two hours'
// notice from 08:00).
func ExampleEngine_SearchDirectory() {
	ctx := actor.With(context.Background(), actor.Actor{Kind: actor.System, ID: "setup"})
	dir, err := os.MkdirTemp("", "carebook-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	master, err := keys.OpenFile(filepath.Join(dir, "master-key.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := carebook.New(ctx, carebook.Config{DSN: "sqlite:" + filepath.Join(dir, "carebook.db"), Migrate: true, MasterKey: master},
		carebook.WithClock(clock.NewFixed(time.Date(2026, time.May, 4, 8, 0, 0, 0, ny))))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()

	// A practice in Brooklyn with a family doctor seeing patients from 09:00.
	admin := uuid.New()
	g, _, err := e.CreateGroupWithAdmin(ctx, "Harbor Health", admin)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := e.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Family Medicine"})
	if err != nil {
		fmt.Println(err)
		return
	}
	loc, err := e.Tenants.CreateLocation(ctx, p.ID, tenant.NewLocation{Name: "Brooklyn Heights", TimeZone: "America/New_York",
		Address: tenant.Address{Line1: "135 Remsen Street", City: "Brooklyn", Region: "NY", PostalCode: "11201", Country: "US"},
		Geo:     tenant.GeoPoint{Lat: 40.6936, Lng: -73.9920}})
	if err != nil {
		fmt.Println(err)
		return
	}
	doc, err := e.Scheduling.CreateProvider(ctx, p.ID, scheduling.NewProvider{NPI: "1047293588", GivenName: "Maya", FamilyName: "Chen",
		Specialties: []string{"family-medicine"}, LocationIDs: []tenant.LocationID{loc.ID}})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := e.Scheduling.CreateVisitType(ctx, p.ID, scheduling.NewVisitType{Name: "New patient visit", Duration: 30 * time.Minute,
		Audience: scheduling.NewOnly}); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := e.Scheduling.CreateBlock(ctx, p.ID, scheduling.NewBlock{ProviderID: doc.ID, BlockInput: scheduling.BlockInput{LocationID: loc.ID,
		Start: time.Date(2026, time.May, 4, 9, 0, 0, 0, ny), End: time.Date(2026, time.May, 4, 17, 0, 0, 0, ny), RRule: "FREQ=DAILY"}}); err != nil {
		fmt.Println(err)
		return
	}

	// The group's administrator publishes the practice and the doctor's profile.
	pr, err := e.RBAC.Principal(ctx, admin)
	if err != nil {
		fmt.Println(err)
		return
	}
	asAdmin := carebook.WithCaller(context.Background(), carebook.Caller{Actor: actor.Actor{Kind: actor.Staff, ID: admin.String()}, Principal: pr})
	if err := e.PutDirectoryProfile(asAdmin, p.ID, carebook.DirectoryProfile{ProviderID: doc.ID,
		Taxonomies: []string{"207Q00000X"}, Languages: []string{"en", "zh"}, AcceptingNew: true}); err != nil {
		fmt.Println(err)
		return
	}
	if err := e.PublishDirectory(asAdmin, p.ID, true); err != nil {
		fmt.Println(err)
		return
	}

	// A patient searches, signed in or not.
	q := directory.Query{Near: &directory.Point{Lat: 40.6937, Lon: -73.9897}, RadiusKm: 5, AcceptingNew: true}
	q.ParseWords("back pain")
	hits, err := e.SearchDirectory(context.Background(), q)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range hits {
		spec, _ := directory.LookupSpecialty(h.Provider.Specialties[0])
		fmt.Printf("Dr. %s %s, %s, %s\n", h.Provider.GivenName, h.Provider.FamilyName, spec.Name, h.PracticeName)
		fmt.Printf("%s, %.1f km: next open %s (%s)\n", h.Location.Name, h.DistanceKm,
			h.Location.NextOpen.In(ny).Format("Mon Jan 2 15:04"), h.Location.VisitTypes[0].Kind)
	}
	// Output:
	// Dr. Maya Chen, Family Medicine, Harbor Family Medicine
	// Brooklyn Heights, 0.2 km: next open Mon May 4 10:00 (new-patient)
}
