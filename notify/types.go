package notify

import (
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Settings are a practice's notification settings.
type Settings struct {
	PracticeID tenant.PracticeID `json:"practice_id"`
	// ReminderOffsets are how long before a visit reminders go out, longest
	// first; default 24h and 2h. Empty sends no reminders.
	ReminderOffsets []time.Duration `json:"reminder_offsets"`
	// QuietStart and QuietEnd bound the quiet hours in the visit location's
	// local time, as minutes after midnight (default 21:00 to 08:00). Reminders
	// and campaigns are never sent inside them. Equal values mean none.
	QuietStart int `json:"quiet_start"`
	QuietEnd   int `json:"quiet_end"`
	// SMSFrom is the practice's sending number (E.164); "" uses the
	// server's default. EmailFrom and EmailFromName likewise for email.
	SMSFrom       string    `json:"sms_from,omitempty"`
	EmailFrom     string    `json:"email_from,omitempty"`
	EmailFromName string    `json:"email_from_name,omitempty"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// DefaultSettings are the settings of a practice that set none.
func DefaultSettings(practice tenant.PracticeID) Settings {
	return Settings{PracticeID: practice, ReminderOffsets: []time.Duration{24 * time.Hour, 2 * time.Hour},
		QuietStart: 21 * 60, QuietEnd: 8 * 60}
}

// Preferences are one patient's choices about messages.
type Preferences struct {
	PracticeID tenant.PracticeID `json:"practice_id"`
	PatientID  uuid.UUID         `json:"patient_id"`
	// SMS and Email say whether the patient takes appointment messages on
	// each channel (both by default, when the contact detail exists).
	SMS   bool `json:"sms"`
	Email bool `json:"email"`
	// SMSOptOut is set by a STOP reply and cleared by START; while set no SMS
	// at all is sent to the patient.
	SMSOptOut bool `json:"sms_opt_out"`
	// Language overrides the patient's record for messages (BCP 47), "" for none.
	Language string `json:"language,omitempty"`
	// Marketing is the consent to campaigns (off by default).
	Marketing bool      `json:"marketing"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DefaultPreferences are the preferences of a patient who set none.
func DefaultPreferences(practice tenant.PracticeID, patient uuid.UUID) Preferences {
	return Preferences{PracticeID: practice, PatientID: patient, SMS: true, Email: true}
}

// ConsentChange records one change of a preference: what, to which value,
// when and through what (such as "api:staff:<id>", "sms:STOP",
// "email:unsubscribe").
type ConsentChange struct {
	ID         uuid.UUID         `json:"id"`
	PracticeID tenant.PracticeID `json:"practice_id"`
	PatientID  uuid.UUID         `json:"patient_id"`
	Field      string            `json:"field"` // sms, email, sms_opt_out, language, marketing
	Value      string            `json:"value"`
	Source     string            `json:"source"`
	At         time.Time         `json:"at"`
}

// Template is a practice's wording of one kind of message on one channel in
// one language. Text is a text/template; HTML (email only) an html/template.
type Template struct {
	PracticeID tenant.PracticeID `json:"practice_id"`
	Kind       Kind              `json:"kind"`
	Channel    Channel           `json:"channel"`
	Language   string            `json:"language"`
	Subject    string            `json:"subject,omitempty"`
	Text       string            `json:"text"`
	HTML       string            `json:"html,omitempty"`
	UpdatedAt  time.Time         `json:"updated_at"`
	UpdatedBy  string            `json:"updated_by,omitempty"`
}

// Facts are what a message about an appointment may say: read in one go by
// the Store, rendered by templates.
type Facts struct {
	PracticeID     tenant.PracticeID
	PracticeName   string
	AppointmentID  uuid.UUID
	Status         string
	Start, End     time.Time
	PatientID      uuid.UUID
	GivenName      string
	FamilyName     string
	Phone, Email   string
	Language       string // the patient record's language
	ProviderName   string
	VisitTypeName  string
	LocationName   string
	LocationZone   string // IANA time zone of the location
	LocationStreet string
	LocationCity   string
	// CancelCutoff is the practice's cancellation cut-off: how long before
	// the start a patient can still cancel online (tenant.BookingPolicy).
	CancelCutoff time.Duration
	// Preferences and Settings are the patient's notification preferences
	// and the practice's notification settings as Store.Preferences and
	// Store.Settings return them, when the store read them with the facts
	// (in the same transaction); nil: they are read apart.
	Preferences *Preferences
	Settings    *Settings
}

// Recipient is a patient a campaign may reach.
type Recipient struct {
	PatientID  uuid.UUID
	GivenName  string
	FamilyName string
	Phone      string
	Email      string
	Language   string
}

// Result is a dispatcher's record of one send attempt.
type Result struct {
	ID uuid.UUID
	// Status is StatusSent, StatusPending (a temporary failure, retried at
	// DueAt) or StatusDead (permanent, or too many attempts).
	Status     Status
	ProviderID string
	Error      string
	DueAt      time.Time
	At         time.Time
	// Unsent says that the message was marked sending but never handed to
	// its sender (a dispatcher stopping, or a lease too short to send in):
	// the attempt MarkSending counted is given back.
	Unsent bool
}

// Delivery is a provider's report on a message's fate (a status callback).
type Delivery struct {
	Channel Channel
	// MessageID is the outbox ID when the callback carries it; ProviderID
	// otherwise identifies the message.
	MessageID  uuid.UUID
	ProviderID string
	// Status is StatusDelivered, StatusUndelivered or StatusSent.
	Status Status
	Error  string
	At     time.Time
}

// UsageCount is how many messages a practice sent on a channel.
type UsageCount struct {
	Channel Channel `json:"channel"`
	Count   int64   `json:"count"`
}
