package notify

import (
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Channel is how a message reaches its recipient.
type Channel string

// The channels.
const (
	SMS   Channel = "sms"
	Email Channel = "email"
	// InApp messages land in the practice's front desk inbox; they are never
	// dispatched to an outside provider.
	InApp Channel = "inapp"
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return c == SMS || c == Email || c == InApp }

// Kind says why a message is sent; templates are chosen by kind.
type Kind string

// The kinds of message.
const (
	KindRequested   Kind = "requested"   // a patient asked for a visit (to the front desk)
	KindConfirmed   Kind = "confirmed"   // the visit is confirmed (to the patient)
	KindRescheduled Kind = "rescheduled" // the visit moved (to the patient)
	KindCanceled    Kind = "canceled"    // the visit is canceled, by either side (to the patient)
	KindReminder    Kind = "reminder"    // the visit is coming (to the patient)
	KindNoVisit     Kind = "no_visit"    // the patient missed the visit (to the patient)
	KindCampaign    Kind = "campaign"    // a discount or promotion (to patients who opted in)
	KindReply       Kind = "reply"       // an answer to an inbound SMS
	KindBreakGlass  Kind = "break_glass" // a chart was opened by break-glass (to the inbox)
	KindReceipt     Kind = "receipt"     // a payment was taken or refunded (to the patient)
)

// Kinds lists every kind, in a stable order.
var Kinds = []Kind{KindRequested, KindConfirmed, KindRescheduled, KindCanceled, KindReminder, KindNoVisit, KindCampaign, KindReply, KindBreakGlass, KindReceipt}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Status is where a message is in the outbox.
type Status string

// The statuses of a message. Pending messages wait for their due time;
// a dispatcher claims them (claimed), marks them sending just before handing
// them to the provider, and records sent or, on a temporary failure, pending
// again with a later due time. Dead messages failed permanently or too often
// and wait for an admin; dropped ones were withdrawn before sending (the
// visit was canceled or moved, the patient opted out). Delivered and
// undelivered come from the provider's status callbacks. Unread and read are
// for the in-app channel.
const (
	StatusPending     Status = "pending"
	StatusClaimed     Status = "claimed"
	StatusSending     Status = "sending"
	StatusSent        Status = "sent"
	StatusDelivered   Status = "delivered"
	StatusUndelivered Status = "undelivered"
	StatusDead        Status = "dead"
	StatusDropped     Status = "dropped"
	StatusUnread      Status = "unread"
	StatusRead        Status = "read"
)

// Message is one message in the outbox.
type Message struct {
	ID         uuid.UUID         `json:"id"`
	PracticeID tenant.PracticeID `json:"practice_id"`
	// Key is the idempotency key, unique within the practice, such as
	// "reminder:<appointment>:24h:<start unix>".
	Key     string  `json:"key"`
	Kind    Kind    `json:"kind"`
	Channel Channel `json:"channel"`
	// PatientID and AppointmentID say whom and what the message is about;
	// either may be nil (a front desk message has no patient recipient).
	PatientID     *uuid.UUID `json:"patient_id,omitempty"`
	AppointmentID *uuid.UUID `json:"appointment_id,omitempty"`
	// To is the address: an E.164 phone, an email address, or "" for in-app.
	To       string `json:"to"`
	Subject  string `json:"subject,omitempty"`
	Text     string `json:"text"`
	HTML     string `json:"html,omitempty"`
	Language string `json:"language,omitempty"`
	Status   Status `json:"status"`
	// DueAt is when the message may be sent (the next attempt, after a failure).
	DueAt    time.Time `json:"due_at"`
	Attempts int       `json:"attempts"`
	// LeaseUntil is when a claim or a send in progress expires.
	LeaseUntil *time.Time `json:"lease_until,omitempty"`
	// ProviderID is the provider's ID of the sent message (Twilio's SID,
	// SendGrid's message ID).
	ProviderID string     `json:"provider_id,omitempty"`
	LastError  string     `json:"last_error,omitempty"`
	SentAt     *time.Time `json:"sent_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}
