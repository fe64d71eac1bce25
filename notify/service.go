package notify

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Appointments is what notify asks of scheduling when a patient answers a
// message: cancel an appointment as the patient (the context carries the
// patient actor, so the practice's cut-off applies), in the transaction
// ctx carries, the one notify works in. The root package wires it to
// scheduling.Service.
type Appointments interface {
	CancelAppointment(ctx context.Context, practice tenant.PracticeID, id uuid.UUID, reason string) error
}

// Service writes messages to the outbox and answers patients' replies. It is
// safe for concurrent use.
type Service struct {
	store Store
	clock clock.Clock
	ids   clock.IDSource
	links *Links
	// appts cancels appointments for replies and links; nil refuses them.
	appts Appointments
	// practiceName names a practice in campaigns; nil leaves it out.
	practiceName func(ctx context.Context, id tenant.PracticeID) (string, error)
	// quota counts SMS against the practice's plan; nil counts none.
	quota Quota
	// tmpl caches compiled templates by their source.
	tmpl *sync.Map
}

// Option changes how NewService builds a Service.
type Option func(*Service)

// WithLinks makes emails carry signed confirm, cancel and unsubscribe links.
func WithLinks(l *Links) Option { return func(s *Service) { s.links = l } }

// WithAppointments lets replies and links cancel appointments.
func WithAppointments(a Appointments) Option { return func(s *Service) { s.appts = a } }

// WithPracticeNames tells the Service how to name a practice in messages
// that are not about an appointment (campaigns).
func WithPracticeNames(f func(ctx context.Context, id tenant.PracticeID) (string, error)) Option {
	return func(s *Service) { s.practiceName = f }
}

// NewService returns a Service over store.
func NewService(store Store, c clock.Clock, ids clock.IDSource, opts ...Option) *Service {
	s := &Service{store: store, clock: c, ids: ids, tmpl: &sync.Map{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Store returns the Service's store.
func (s *Service) Store() Store { return s.store }

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// compiledFor returns t compiled, from the cache when its source was seen.
func (s *Service) compiledFor(op string, t *Template) (*compiled, error) {
	key := string(t.Channel) + "\x00" + t.Subject + "\x00" + t.Text + "\x00" + t.HTML
	if c, ok := s.tmpl.Load(key); ok {
		return c.(*compiled), nil
	}
	c, err := compile(op, t)
	if err != nil {
		return nil, err
	}
	s.tmpl.Store(key, c)
	return c, nil
}

// template returns the template a message uses: the practice's own in the
// language, in its base language, or the default.
func (s *Service) template(ctx context.Context, practice tenant.PracticeID, kind Kind, ch Channel, language string) (*Template, error) {
	return chooseTemplate(kind, ch, language, func(l string) (*Template, error) {
		return s.store.Template(ctx, practice, kind, ch, l)
	})
}

// chooseTemplate returns the practice's template of kind on ch in
// language, else in its base language ("es" for "es-MX"), as find finds
// them (KindNotFound when the practice has none), else the default.
func chooseTemplate(kind Kind, ch Channel, language string, find func(language string) (*Template, error)) (*Template, error) {
	langs := []string{language}
	if b := baseLanguage(language); b != strings.ToLower(language) {
		langs = append(langs, b)
	}
	for _, l := range langs {
		if l == "" {
			continue
		}
		t, err := find(l)
		if err == nil {
			return t, nil
		}
		if !errs.Is(err, errs.KindNotFound) {
			return nil, err
		}
	}
	t, ok := defaultTemplate(kind, ch, language)
	if !ok {
		return nil, errs.E(errs.KindNotFound, "notify.template", "no template for "+string(kind)+" on "+string(ch))
	}
	return &t, nil
}
