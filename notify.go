package carebook

import (
	"context"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// WithLinks makes notification emails carry signed confirm, cancel and
// unsubscribe links, signed with key (32 bytes or more) and pointing at
// baseURL, the server's public address. A nil key derives one from the
// master key (keys.Service.DeriveKey in the scope keys.Platform): the same
// in every process and after restarts, with no key of its own to keep.
func WithLinks(key []byte, baseURL string) Option {
	return func(e *Engine) {
		if key == nil {
			e.deriveLinks, e.linksURL = true, baseURL
			return
		}
		l, err := notify.NewLinks(key, baseURL)
		if err != nil {
			e.optErr = err
			return
		}
		e.links = l
	}
}

// notifyObserver puts the messages of an appointment change in the outbox,
// in the change's transaction.
type notifyObserver struct{ n *notify.Service }

func (o notifyObserver) AppointmentChanged(ctx context.Context, a *scheduling.Appointment, c *scheduling.Change) error {
	return o.n.OnAppointment(ctx, notify.AppointmentEvent{PracticeID: a.PracticeID, AppointmentID: a.ID,
		Action: c.Action, Status: string(a.Status), ChangeID: c.ID})
}

// notifyAppointments lets notify cancel appointments (SMS replies, email
// links) through scheduling, in notify's transaction.
type notifyAppointments struct{ e *Engine }

func (n notifyAppointments) CancelAppointment(ctx context.Context, practice tenant.PracticeID, id uuid.UUID, reason string) error {
	_, err := n.e.Scheduling.Cancel(ctx, practice, id, reason)
	return err
}

// practiceName names a practice for notify.
func (e *Engine) practiceName(ctx context.Context, id tenant.PracticeID) (string, error) {
	p, err := e.store.Tenants.GetPractice(ctx, id)
	if err != nil {
		return "", err
	}
	return p.Name, nil
}

// newNotify builds the notify service over st.
func (e *Engine) newNotify(st *sqlstore.Store) *notify.Service {
	opts := []notify.Option{notify.WithAppointments(notifyAppointments{e}), notify.WithPracticeNames(e.practiceName), notify.WithQuota(smsQuota{e})}
	if e.links != nil {
		opts = append(opts, notify.WithLinks(e.links))
	}
	return notify.NewService(st.Notify, e.Clock, e.IDs, opts...)
}

// NewDispatcher returns an outbox dispatcher over the engine's store that
// sends through senders (one per channel); run it with notify.Register on
// a gocron scheduler, on as many replicas as you like.
func (e *Engine) NewDispatcher(cfg notify.DispatcherConfig, senders ...notify.Sender) *notify.Dispatcher {
	return notify.NewDispatcher(e.store.Outbox, e.store.Notify, e.Clock, cfg, senders...)
}

// Links returns the signer of the links in notification emails, or nil
// when the Engine was made without WithLinks.
func (e *Engine) Links() *notify.Links { return e.links }
