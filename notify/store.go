package notify

import (
	"context"
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// MessageFilter narrows Messages. Zero fields do not filter.
type MessageFilter struct {
	Status        []Status
	Channel       Channel
	Kind          Kind
	PatientID     *uuid.UUID
	AppointmentID *uuid.UUID
	// After is the keyset cursor: only messages with ID > After (IDs are
	// UUIDv7, so this is creation order).
	After *uuid.UUID
	// Limit caps the page; 0 means no limit (the Service always sets one).
	Limit int
}

// DropFilter selects the waiting messages Drop withdraws. PracticeID is
// always applied; the other fields narrow when set. At least one of
// AppointmentID and PatientID is set.
type DropFilter struct {
	AppointmentID *uuid.UUID
	PatientID     *uuid.UUID
	Channel       Channel
	Kinds         []Kind
}

// Store keeps the outbox and everything messages are made from. sqlstore
// implements it; notifytest checks every implementation.
//
// The contract every implementation keeps:
//   - It is safe for concurrent use, also by several processes sharing one
//     database.
//   - Every method taking a practice is scoped by it: rows of another
//     practice are never returned or changed, and an ID of another practice
//     reads as KindNotFound. ApplyDelivery and RememberWebhook serve every
//     practice (the providers' callbacks are not tenants), as does Outbox,
//     the dispatcher's side, kept apart.
//   - Times are stored with microsecond precision in UTC.
type Store interface {
	// InTx runs fn in one transaction, carried in the context fn receives:
	// every method called with that context runs in the transaction, which
	// commits if fn returns nil and rolls back otherwise. Called with a
	// context that already carries a transaction, it runs fn in that one.
	// An adapter serving several domains over one database shares its
	// transactions between them: the change of one domain and another's
	// writes made with the same context commit together.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error

	// Enqueue writes msgs (IDs, keys and times set by the caller). A message
	// whose (practice, key) exists is skipped, unless the existing one is
	// StatusDropped: then it is replaced by the new one (same row ID kept or
	// not, as the implementation likes) and becomes waiting again. It returns
	// how many were written or replaced.
	Enqueue(ctx context.Context, msgs ...*Message) (int, error)
	// Drop marks the practice's waiting messages (pending or claimed, never
	// sending or later) that match f as StatusDropped with reason as
	// LastError, and returns how many.
	Drop(ctx context.Context, practice tenant.PracticeID, f DropFilter, reason string, at time.Time) (int, error)
	// Message returns one message of the practice.
	Message(ctx context.Context, practice tenant.PracticeID, id uuid.UUID) (*Message, error)
	// Messages returns the practice's messages matching f, by ID.
	Messages(ctx context.Context, practice tenant.PracticeID, f MessageFilter) ([]*Message, error)
	// Retry makes a dead message pending again, due at at; KindConflict
	// names the status when the message is not dead.
	Retry(ctx context.Context, practice tenant.PracticeID, id uuid.UUID, at time.Time) (*Message, error)
	// MarkRead marks an unread in-app message read (read stays read).
	MarkRead(ctx context.Context, practice tenant.PracticeID, id uuid.UUID, at time.Time) (*Message, error)
	// ResolveRequests marks the unread in-app KindRequested messages of an
	// appointment read: the front desk dealt with the request.
	ResolveRequests(ctx context.Context, practice tenant.PracticeID, appointment uuid.UUID, at time.Time) (int, error)
	// UnreadCount counts the practice's unread in-app messages.
	UnreadCount(ctx context.Context, practice tenant.PracticeID) (int, error)
	// Usage counts the practice's messages sent with from <= SentAt < to, per
	// channel (SMS and email; channels with none are left out).
	Usage(ctx context.Context, practice tenant.PracticeID, from, to time.Time) ([]UsageCount, error)

	// ApplyDelivery applies a provider's status report to the message it
	// names (by MessageID if set, else by Channel and ProviderID). A message
	// not found is reported as false with no error. Sent, sending and dead
	// messages take the reported status (and the ProviderID when they had
	// none); delivered and undelivered ones are final and are not changed.
	ApplyDelivery(ctx context.Context, d Delivery) (bool, error)
	// RememberWebhook records that a webhook request with key (what the
	// provider signed, or its idempotency token; at most 100 bytes) from
	// source was processed, and fails with KindConflict if it was already:
	// a replay. An implementation never forgets a key by itself: a Twilio
	// signature carries no time, so its request could be replayed once its
	// keys were gone.
	RememberWebhook(ctx context.Context, source, key string, at time.Time) error

	// Settings returns the practice's settings, DefaultSettings if it set none.
	Settings(ctx context.Context, practice tenant.PracticeID) (Settings, error)
	// PutSettings stores the practice's settings.
	PutSettings(ctx context.Context, s Settings) error
	// Template returns the practice's template for the kind, channel and
	// language, KindNotFound if there is none (the Service then uses its
	// defaults).
	Template(ctx context.Context, practice tenant.PracticeID, kind Kind, ch Channel, language string) (*Template, error)
	// Templates lists the practice's own templates.
	Templates(ctx context.Context, practice tenant.PracticeID) ([]*Template, error)
	// PutTemplate creates or replaces a template.
	PutTemplate(ctx context.Context, t *Template) error
	// DeleteTemplate removes one, KindNotFound if absent.
	DeleteTemplate(ctx context.Context, practice tenant.PracticeID, kind Kind, ch Channel, language string) error

	// Preferences returns a patient's preferences, DefaultPreferences if
	// they set none; KindNotFound if the patient is not the practice's.
	Preferences(ctx context.Context, practice tenant.PracticeID, patient uuid.UUID) (Preferences, error)
	// PutPreferences stores p and appends changes to the consent history.
	PutPreferences(ctx context.Context, p Preferences, changes []ConsentChange) error
	// ConsentHistory returns a patient's consent changes, oldest first.
	ConsentHistory(ctx context.Context, practice tenant.PracticeID, patient uuid.UUID) ([]*ConsentChange, error)

	// AppointmentFacts reads what messages about an appointment may say.
	AppointmentFacts(ctx context.Context, practice tenant.PracticeID, appointment uuid.UUID) (*Facts, error)
	// PatientsByPhone returns the IDs of the practice's patients with that
	// E.164 phone.
	PatientsByPhone(ctx context.Context, practice tenant.PracticeID, phone string) ([]uuid.UUID, error)
	// NextAppointment returns the facts of the earliest new or confirmed
	// appointment of one of patients starting after after, KindNotFound if
	// there is none.
	NextAppointment(ctx context.Context, practice tenant.PracticeID, patients []uuid.UUID, after time.Time) (*Facts, error)
	// MarketingAudience returns up to limit patients of the practice with
	// marketing consent who can be reached on ch (a phone for SMS and no
	// SMS opt-out; an email for email), by patient ID after the cursor.
	MarketingAudience(ctx context.Context, practice tenant.PracticeID, ch Channel, after uuid.UUID, limit int) ([]Recipient, error)
	// UseLink records the single use of a signed link's nonce; KindConflict
	// if it was used before.
	UseLink(ctx context.Context, practice tenant.PracticeID, nonce uuid.UUID, at time.Time) error
}

// Outbox is the dispatcher's side of the outbox: the only methods a
// Dispatcher needs. They serve every practice. Record and the other
// methods run each in their own transaction; none costs a round trip per
// message. notifytest checks an Outbox together with its Store.
type Outbox interface {
	// Claim takes up to limit SMS and email messages of any practice that
	// are pending and due (DueAt <= now), or claimed with an expired lease,
	// earliest due first, and marks them StatusClaimed under token with
	// LeaseUntil = now+lease. Concurrent claimers never get the same message
	// (FOR UPDATE SKIP LOCKED on PostgreSQL). An SMS message whose patient
	// opted out of SMS is never returned: Claim drops it instead.
	Claim(ctx context.Context, token uuid.UUID, now time.Time, limit int, lease time.Duration) ([]*Message, error)
	// MarkSending moves the messages among ids that are still claimed under
	// token to StatusSending with LeaseUntil = now+lease and Attempts+1,
	// and returns the IDs it moved: only those may be sent.
	MarkSending(ctx context.Context, token uuid.UUID, ids []uuid.UUID, now time.Time, lease time.Duration) ([]uuid.UUID, error)
	// Record stores results of sends; each applies only to a message that
	// is StatusSending under token. A sent result sets SentAt and
	// ProviderID; a pending one sets DueAt and clears the claim; a dead one
	// keeps the error. An Unsent result (pending) also takes back the
	// attempt MarkSending counted.
	Record(ctx context.Context, token uuid.UUID, results []Result) error
	// ClaimInDoubt takes up to limit messages left StatusSending past their
	// lease (a dispatcher stopped between marking them and recording their
	// sends: each may or may not have reached the provider), earliest lease
	// end first, under token with LeaseUntil = now+lease; they stay
	// StatusSending, with UpdatedAt still the time they were marked sending
	// (so that a LaggingFinder's wait can be told), so that Record under
	// token settles them, and a doubt
	// that cannot be settled now is taken again after the new lease.
	// Concurrent callers never get the same message (FOR UPDATE SKIP LOCKED
	// on PostgreSQL). It never resends or changes anything else by itself.
	ClaimInDoubt(ctx context.Context, token uuid.UUID, now time.Time, limit int, lease time.Duration) ([]*Message, error)
}
