package ehr

import (
	"context"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Break-glass: a clinician whose grants do not reach a patient's chart (or
// its restricted entries) opens it anyway, in an emergency, for a stated
// reason. The access lasts BreakGlassFor and then ends by itself; it is
// never extended (a new one is opened, with its own reason). Each one is
// kept, its reason sealed, for the administrators' review.

// BreakGlassFor is how long a break-glass access lasts.
const BreakGlassFor = time.Hour

// The lengths of a break-glass reason, in bytes: long enough to say why,
// short enough to be read in a review.
const (
	minBreakGlassReason = 10
	maxBreakGlassReason = 1000
)

// BreakGlass is one break-glass access: an account of the practice may read
// a patient's chart, restricted entries included, from OpenedAt until
// ExpiresAt.
type BreakGlass struct {
	ID         uuid.UUID            `json:"id"`
	PracticeID tenant.PracticeID    `json:"practice_id"`
	PatientID  scheduling.PatientID `json:"patient_id"`
	AccountID  uuid.UUID            `json:"account_id"`
	// Reason is why the chart was opened, as its opener stated it.
	Reason    string    `json:"reason"`
	OpenedAt  time.Time `json:"opened_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// NewBreakGlass returns the break-glass access of account to patient's
// chart opened at now for reason, ending BreakGlassFor later. It checks
// the reason (required, 10 to 1,000 bytes of text), naming field "reason".
func NewBreakGlass(id uuid.UUID, practice tenant.PracticeID, patient scheduling.PatientID, account uuid.UUID, reason string, now time.Time) (*BreakGlass, error) {
	const op = "ehr.NewBreakGlass"
	reason = strings.TrimSpace(reason)
	if err := text(op, "reason", reason, true, maxBreakGlassReason); err != nil {
		return nil, err
	}
	if len(reason) < minBreakGlassReason {
		return nil, errs.Invalid(op, "reason", "says in a few words why the chart must be opened")
	}
	if account == uuid.Nil {
		return nil, errs.Invalid(op, "account_id", "break-glass is for a signed-in account")
	}
	return &BreakGlass{ID: id, PracticeID: practice, PatientID: patient, AccountID: account, Reason: reason,
		OpenedAt: now, ExpiresAt: now.Add(BreakGlassFor)}, nil
}

// Active reports whether b is in force at now.
func (b *BreakGlass) Active(now time.Time) bool {
	return !now.Before(b.OpenedAt) && now.Before(b.ExpiresAt)
}

// BreakGlasses keeps the break-glass accesses. Every method is scoped to
// its practice. A store seals the reasons it keeps.
type BreakGlasses interface {
	// OpenBreakGlass stores b; a patient who is not the practice's is
	// KindNotFound, an ID taken KindConflict.
	OpenBreakGlass(ctx context.Context, b *BreakGlass) error
	// BreakGlassActive reports whether account holds a break-glass access
	// to patient's chart in force at now. It opens no reason: the access
	// guard asks it.
	BreakGlassActive(ctx context.Context, practice tenant.PracticeID, patient scheduling.PatientID, account uuid.UUID, now time.Time) (bool, error)
	// BreakGlassesOpened returns the practice's break-glass accesses opened
	// at or after from and before to, newest first, with their reasons.
	BreakGlassesOpened(ctx context.Context, practice tenant.PracticeID, from, to time.Time) ([]*BreakGlass, error)
}
