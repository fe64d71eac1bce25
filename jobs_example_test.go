package carebook_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/notify"
	"github.com/go-co-op/gocron/v2"
)

// printSender is a notify.Sender that prints each message instead of
// sending it.
type printSender struct{ ch notify.Channel }

func (p printSender) Channel() notify.Channel { return p.ch }

func (p printSender) Send(_ context.Context, out notify.Outgoing) (notify.Receipt, error) {
	fmt.Printf("%s to %s: %s\n", p.ch, out.Message.To, out.Message.Text)
	return notify.Receipt{ProviderID: "printed-" + out.Message.ID.String()}, nil
}

// RegisterJobs puts the engine's periodic jobs on a gocron scheduler: here
// the outbox dispatch, through senders that print, and the export of the
// activity log to a local directory. Every replica of a service may do the
// same; the jobs claim their work in the database.
func ExampleEngine_RegisterJobs() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "carebook-jobs")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	// The master key seals patients' data; keep its file with the database.
	master, err := keys.OpenFile(filepath.Join(dir, "master-key.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := carebook.New(ctx, carebook.Config{DSN: "sqlite:" + filepath.Join(dir, "carebook.db"), Migrate: true, MasterKey: master})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	archive, err := audit.NewDirArchive(filepath.Join(dir, "audit-archive"))
	if err != nil {
		fmt.Println(err)
		return
	}

	s, err := gocron.NewScheduler(gocron.WithLocation(time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	jobs, err := e.RegisterJobs(s, carebook.JobsConfig{
		Senders:          []notify.Sender{printSender{notify.SMS}, printSender{notify.Email}},
		DispatchEvery:    10 * time.Second,
		AuditArchive:     archive,
		AuditExportEvery: time.Hour,
		Logger:           slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Start()
	defer s.Shutdown() // before e.Close: waits for a run in progress

	for _, j := range jobs.Scheduled {
		fmt.Println("scheduled:", j.Name())
	}
	// The workers can also run at once, as on shutdown or in a test.
	st, err := jobs.Dispatcher.Drain(ctx)
	fmt.Println("sent now:", st.Sent, err)
	// Output:
	// scheduled: notify.dispatch
	// scheduled: audit.export
	// sent now: 0 <nil>
}
