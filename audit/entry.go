package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// EntryID identifies an entry.
type EntryID = uuid.UUID

// Outcome is how the recorded attempt ended.
type Outcome string

// The outcomes.
const (
	Allowed Outcome = "allowed" // done as asked
	Denied  Outcome = "denied"  // refused by an access rule
	Failed  Outcome = "failed"  // tried and failed, such as a wrong password
)

// Valid reports whether o is one of the known outcomes.
func (o Outcome) Valid() bool {
	switch o {
	case Allowed, Denied, Failed:
		return true
	}
	return false
}

// SystemActor is the Actor of an entry written by a background job.
func SystemActor(job string) string { return "system:" + job }

// HashVersion is the version of the canonical encoding that Hash covers. It
// is the first thing hashed, so that a future encoding cannot collide with it.
const HashVersion = 1

// ZeroHash is the PrevHash of the first entry of every chain: 32 zero bytes,
// hex-encoded.
var ZeroHash = strings.Repeat("00", sha256.Size)

// Entry is one record of the activity log. Entries are never changed once
// appended.
type Entry struct {
	ID         EntryID           `json:"id"`
	PracticeID tenant.PracticeID `json:"practice_id"`
	// Seq numbers the entries of a practice 1, 2, 3… without gaps.
	Seq int64 `json:"seq"`
	// At is when the entry was recorded, in UTC, to the microsecond. Along a
	// chain it never decreases.
	At time.Time `json:"at"`
	// Actor is an account ID, or "system:<job>" (see SystemActor).
	Actor string `json:"actor"`
	// Role is the role the actor acted in, if any.
	Role string `json:"role,omitempty"`
	// Action names what was done, such as "login", "login.failed",
	// "appointment.book" or "patient.read".
	Action       string `json:"action"`
	ResourceType string `json:"resource_type,omitempty"`
	ResourceID   string `json:"resource_id,omitempty"`
	// PatientID is whose data was touched, if anyone's.
	PatientID *uuid.UUID `json:"patient_id,omitempty"`
	Outcome   Outcome    `json:"outcome"`
	IP        string     `json:"ip,omitempty"`
	UserAgent string     `json:"user_agent,omitempty"`
	RequestID string     `json:"request_id,omitempty"`
	// PrevHash is the Hash of the entry before, or ZeroHash for the first.
	PrevHash string `json:"prev_hash"`
	// Hash is the hex SHA-256 of the canonical encoding of every other field.
	Hash string `json:"hash"`
}

// Validate checks what a caller must give: a practice, an actor, an action
// and a known outcome. It names the field at fault in an *errs.Error of
// KindInvalid.
func (e *Entry) Validate() error {
	const op = "audit.Validate"
	switch {
	case e.PracticeID == uuid.Nil:
		return errs.Invalid(op, "practice_id", "an entry needs a practice")
	case strings.TrimSpace(e.Actor) == "":
		return errs.Invalid(op, "actor", "an entry needs an actor")
	case strings.TrimSpace(e.Action) == "":
		return errs.Invalid(op, "action", "an entry needs an action")
	case !e.Outcome.Valid():
		return errs.Invalid(op, "outcome", "outcome must be allowed, denied or failed")
	}
	return nil
}

// Seal links e to its chain: it sets Seq and PrevHash, raises At to prevAt
// if it was earlier (so that At never decreases along a chain), truncates At
// to the microsecond in UTC, and sets Hash. Stores call it under the
// practice's append lock (or do the same in the database: sqlstore's
// carebook_audit_hash on PostgreSQL is ComputeHash).
func (e *Entry) Seal(seq int64, prevHash string, prevAt time.Time) {
	e.Seq = seq
	e.PrevHash = prevHash
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if p := prevAt.UTC().Truncate(time.Microsecond); e.At.Before(p) {
		e.At = p
	}
	e.Hash = e.ComputeHash()
}

// ComputeHash returns the hex SHA-256 of e's canonical encoding, version
// HashVersion: the version as a big-endian uint32, then each field but Hash,
// in the order of the struct, as a big-endian uint32 length followed by its
// bytes. UUIDs are in canonical text form (an absent PatientID is empty),
// Seq in decimal, At as RFC 3339 in UTC with exactly six fractional digits.
func (e *Entry) ComputeHash() string {
	h := sha256.New()
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], HashVersion)
	h.Write(n[:])
	field := func(s string) {
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	patient := ""
	if e.PatientID != nil {
		patient = e.PatientID.String()
	}
	field(e.ID.String())
	field(e.PracticeID.String())
	field(strconv.FormatInt(e.Seq, 10))
	field(e.At.UTC().Format(TimeLayout))
	field(e.Actor)
	field(e.Role)
	field(e.Action)
	field(e.ResourceType)
	field(e.ResourceID)
	field(patient)
	field(string(e.Outcome))
	field(e.IP)
	field(e.UserAgent)
	field(e.RequestID)
	field(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// TimeLayout is how At is written into the hash: UTC, six fractional digits.
const TimeLayout = "2006-01-02T15:04:05.000000Z07:00"
