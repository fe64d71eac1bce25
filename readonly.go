package carebook

import (
	"context"
	"strings"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/tenant"
)

// The read-only state: a practice whose trial ended without a payment
// method (ReadOnlyTrialEnded), or whose invoice's charges kept failing
// (ReadOnlyPaymentFailed), reads but does not write. The guard refuses its
// writes (Authorize, below HTTP: the API, the pages and an embedder alike)
// with KindReadOnly, whose Details (billing.ReadOnlyDetails) say why and
// what restores it; reads, exports, a patient's own cancellation and the
// billing operations that restore the practice (Access.Effect
// EffectRestore: attaching a payment method, paying) go on. Nothing is
// lost: the refusal writes nothing, not even an activity-log entry, and
// everything the practice had stays readable.
//
// Each reason is kept on its own (practice_read_only), entered and left
// once, each step in the practice's activity log: attaching a payment
// method lifts a trial's end, and paying lifts a failed payment, each
// only its own.

// ReadOnlyTTL is how long the guard trusts that a practice was found
// writable, on the engine's clock, before it reads the state again: a
// practice made read-only on another replica is refused within it. A
// read-only practice is read again on every write, so that leaving
// read-only takes effect on the next request on every replica.
const ReadOnlyTTL = 30 * time.Second

// The activity log's actions of the read-only state; the entry's
// ResourceType is "practice" and its ResourceID the reason.
const (
	ActionReadOnlyEnter = "billing.read_only.enter"
	ActionReadOnlyLeave = "billing.read_only.leave"
)

// Effect says what an operation does to the practice's data, for the
// guard of a read-only practice.
type Effect uint8

// The effects of an operation.
const (
	// EffectAuto, the zero value, is a read when the Access asks for no
	// permission (a member's) or for a read permission (one named
	// "….read"), and a write otherwise.
	EffectAuto Effect = iota
	// EffectRead reads or exports, whatever the permission: it goes on
	// while the practice is read-only.
	EffectRead
	// EffectWrite writes: it is refused while the practice is read-only.
	EffectWrite
	// EffectRestore is a billing operation that restores a read-only
	// practice (attaching a payment method, paying an invoice): it goes
	// on.
	EffectRestore
)

// writes reports whether a is a write the read-only state refuses.
func (a *Access) writes() bool {
	switch a.Effect {
	case EffectRead, EffectRestore:
		return false
	case EffectWrite:
		return true
	}
	return a.Permission != "" && !strings.HasSuffix(string(a.Permission), ".read")
}

// writable refuses a, the caller's allowed access to practice, with
// KindReadOnly when it writes and the practice is read-only. A patient's
// cancellation of a visit (the self grant covers only their own) goes on.
func (e *Engine) writable(ctx context.Context, c *Caller, a *Access, practice tenant.PracticeID) error {
	if !a.writes() || a.Permission == rbac.AppointmentCancel && c.Actor.Kind == actor.Patient {
		return nil
	}
	ros, err := e.readOnlyState(ctx, practice)
	if err != nil || len(ros) == 0 {
		return err
	}
	return readOnlyError(ros)
}

// readOnlyState returns the reasons the practice is read-only: none while
// it was found writable less than ReadOnlyTTL ago.
func (e *Engine) readOnlyState(ctx context.Context, practice tenant.PracticeID) ([]billing.ReadOnly, error) {
	now := e.Clock.Now()
	if v, ok := e.writableAt.Load(practice); ok {
		if at := v.(time.Time); !now.Before(at) && now.Sub(at) < ReadOnlyTTL {
			return nil, nil
		}
	}
	ros, err := e.store.Billing.ReadOnly(ctx, practice)
	if err != nil {
		return nil, err
	}
	if len(ros) == 0 {
		e.writableAt.Store(practice, now)
	} else {
		e.writableAt.Delete(practice)
	}
	return ros, nil
}

// forget drops what the guard knows of the practice's state once the
// transaction in ctx has ended (at once outside one), so that this
// process's next write reads it again.
func (e *Engine) forget(ctx context.Context, practice tenant.PracticeID) {
	e.writableAt.Delete(practice)
	e.store.AfterTx(ctx, func(context.Context) { e.writableAt.Delete(practice) })
}

// readOnlyError is the refusal of a write of a practice read-only for
// ros, the oldest first.
func readOnlyError(ros []billing.ReadOnly) error {
	d := billing.ReadOnlyDetails{Since: ros[0].Since}
	why := make([]string, 0, len(ros))
	for _, ro := range ros {
		d.Reasons = append(d.Reasons, ro.Reason)
		d.Restore = append(d.Restore, ro.Reason.Restore())
		why = append(why, ro.Reason.Why())
	}
	return &errs.Error{Kind: errs.KindReadOnly, Op: "carebook.Authorize", Details: d,
		Msg: "the practice is read-only since " + d.Since.UTC().Format("2006-01-02 15:04 UTC") + " because " +
			strings.Join(why, " and ") + "; it reads and exports as before, and writes again once you " +
			strings.Join(d.Restore, " and ")}
}

// readOnlyReason parses reason for op.
func readOnlyReason(op, reason string) (billing.ReadOnlyReason, error) {
	r := billing.ReadOnlyReason(reason)
	if !r.Valid() {
		return "", errs.Invalid(op, "reason", `must be "trial_ended" or "payment_failed"`)
	}
	return r, nil
}

// enterReadOnly makes practice read-only for reason ("trial_ended" or
// "payment_failed") from now: its subscription's status becomes read_only
// and an ActionReadOnlyEnter entry is logged, by the caller in ctx or the
// billing system, in one transaction (the one ctx carries, if any). A
// practice already read-only for reason is left as it is, with no new
// entry.
func (e *Engine) enterReadOnly(ctx context.Context, practice tenant.PracticeID, reason string) error {
	const op = "carebook.enterReadOnly"
	r, err := readOnlyReason(op, reason)
	if err != nil {
		return err
	}
	now := e.Clock.Now().UTC().Truncate(time.Microsecond)
	err = e.InTx(ctx, func(ctx context.Context) error {
		entered, err := e.store.Billing.EnterReadOnly(ctx, billing.ReadOnly{Practice: practice, Reason: r, Since: now})
		if err != nil || !entered {
			return errs.WithField(err, "practice_id")
		}
		if _, err := e.store.Billing.SetSubscriptionStatus(ctx, practice, billing.SubscriptionReadOnly, now); err != nil {
			return err
		}
		return e.Log(ctx, readOnlyEntry(ctx, practice, ActionReadOnlyEnter, r))
	})
	e.forget(ctx, practice)
	return err
}

// leaveReadOnly lifts the practice's read-only state for reason, logging
// an ActionReadOnlyLeave entry in the transaction that lifts it; once no
// reason is left, its subscription is active again and the next write
// goes through. A practice not read-only for reason is left as it is.
func (e *Engine) leaveReadOnly(ctx context.Context, practice tenant.PracticeID, reason string) error {
	const op = "carebook.leaveReadOnly"
	r, err := readOnlyReason(op, reason)
	if err != nil {
		return err
	}
	now := e.Clock.Now().UTC().Truncate(time.Microsecond)
	err = e.InTx(ctx, func(ctx context.Context) error {
		left, err := e.store.Billing.LeaveReadOnly(ctx, practice, r)
		if err != nil || !left {
			return err
		}
		rest, err := e.store.Billing.ReadOnly(ctx, practice)
		if err != nil {
			return err
		}
		if len(rest) == 0 {
			if _, err := e.store.Billing.SetSubscriptionStatus(ctx, practice, billing.SubscriptionActive, now); err != nil {
				return err
			}
		}
		return e.Log(ctx, readOnlyEntry(ctx, practice, ActionReadOnlyLeave, r))
	})
	e.forget(ctx, practice)
	return err
}

// readOnlyEntry is the activity-log entry of a step of the practice's
// read-only state for r, by the caller in ctx, the support staff in ctx,
// or else the billing system.
func readOnlyEntry(ctx context.Context, practice tenant.PracticeID, action string, r billing.ReadOnlyReason) audit.Entry {
	who, role := audit.SystemActor("billing"), ""
	if c, ok := CallerFrom(ctx); ok {
		who = c.Actor.ID
	} else if o, ok := OperatorFrom(ctx); ok {
		who, role = o.Actor(), OperatorRole
	}
	en := Entry(ctx, practice, who, action, "practice", string(r), audit.Allowed)
	en.Role = role
	return en
}

// ReadOnlyState returns the reasons the practice is read-only, the oldest
// first (none when it writes), for its staff holding billing.read.
func (e *Engine) ReadOnlyState(ctx context.Context, practice tenant.PracticeID) ([]billing.ReadOnly, error) {
	pm, err := e.Authorize(ctx, Access{Permission: rbac.BillingRead, PracticeID: practice})
	if err != nil {
		return nil, err
	}
	var out []billing.ReadOnly
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		out, err = e.store.Billing.ReadOnly(ctx, practice)
		return "", err
	})
	return out, err
}

// LiftReadOnly is the support staff in ctx lifting every reason the
// practice is read-only (the support panel's action), with reason: each
// step logged, with the support action's own entry, in one transaction.
// A practice that is not read-only is KindPreconditionFailed naming
// "practice_id", and nothing is written.
func (e *Engine) LiftReadOnly(ctx context.Context, practice tenant.PracticeID, reason string) error {
	const op = "carebook.LiftReadOnly"
	return e.supportAct(ctx, op, ActionSupportLiftReadOnly, practice, reason, func(ctx context.Context) (string, error) {
		ros, err := e.store.Billing.ReadOnly(ctx, practice)
		if err != nil {
			return "", err
		}
		if len(ros) == 0 {
			return "", &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "practice_id", Msg: "the practice is not read-only"}
		}
		lifted := make([]string, 0, len(ros))
		for _, ro := range ros {
			if err := e.leaveReadOnly(ctx, practice, string(ro.Reason)); err != nil {
				return "", err
			}
			lifted = append(lifted, string(ro.Reason))
		}
		return "lifted " + strings.Join(lifted, ", "), nil
	})
}
