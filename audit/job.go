package audit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"
)

// JobName is the name of the export job in a gocron scheduler.
const JobName = "audit.export"

// Register adds to s a job named JobName that runs x.Run every interval,
// never two runs of it at once in s (a run that is due while one is going is
// skipped). The job function returns Run's error, which gocron hands to its
// event listeners. Options given are added to the job's, after these.
func Register(s gocron.Scheduler, x *Exporter, every time.Duration, opts ...gocron.JobOption) (gocron.Job, error) {
	opts = append([]gocron.JobOption{
		gocron.WithName(JobName),
		gocron.WithSingletonMode(gocron.LimitModeReschedule),
	}, opts...)
	j, err := s.NewJob(
		gocron.DurationJob(every),
		gocron.NewTask(func(ctx context.Context) error {
			_, err := x.Run(ctx)
			return err
		}),
		opts...,
	)
	if err != nil {
		return nil, fmt.Errorf("audit.Register: %w", err)
	}
	return j, nil
}

// NewScheduler returns a gocron scheduler, in UTC and on clock c, with the
// export job of x registered to run every interval. The caller starts it
// and shuts it down. Tests pass a clockwork fake clock, which can also be
// x's clock.
func NewScheduler(x *Exporter, c clockwork.Clock, every time.Duration, opts ...gocron.SchedulerOption) (gocron.Scheduler, error) {
	opts = append([]gocron.SchedulerOption{gocron.WithLocation(time.UTC), gocron.WithClock(c)}, opts...)
	s, err := gocron.NewScheduler(opts...)
	if err != nil {
		return nil, fmt.Errorf("audit.NewScheduler: %w", err)
	}
	if _, err := Register(s, x, every); err != nil {
		s.Shutdown()
		return nil, err
	}
	return s, nil
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
