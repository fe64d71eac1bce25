package carebook_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/tenant"
)

// New opens an engine on an embedded SQLite file and migrates it; its
// services are then ready to use. A fixed clock makes the example's output
// the same on every run.
func ExampleNew() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "carebook-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	now := time.Date(2026, time.May, 4, 8, 0, 0, 0, time.UTC)
	// The master key seals patients' data; keep its file with the database.
	master, err := keys.OpenFile(filepath.Join(dir, "master-key.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := carebook.New(ctx,
		carebook.Config{DSN: "sqlite:" + filepath.Join(dir, "carebook.db"), Migrate: true, MasterKey: master},
		carebook.WithClock(clock.NewFixed(now)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()

	g, err := e.Tenants.CreateGroup(ctx, "Harbor Health")
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := e.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: "Harbor Pediatrics"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Name, "created", p.CreatedAt.Format(time.RFC3339))
	fmt.Println("auto-confirm:", p.Policy.AutoConfirm, "min notice:", p.Policy.MinNotice)
	fmt.Println("ready:", e.Ready(ctx) == nil)
	// Output:
	// Harbor Pediatrics created 2026-05-04T08:00:00Z
	// auto-confirm: false min notice: 2h0m0s
	// ready: true
}
