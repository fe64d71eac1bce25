package carebook

import (
	"context"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/keys"
	"github.com/google/uuid"
)

// Sealed data that does not open. Every ciphertext the Engine keeps is
// bound to its practice, table, column and row; one found anywhere else
// (copied in SQL, restored into the wrong row) or altered does not open,
// and whatever read it fails with KindConflict naming the place (409 over
// HTTP, never a 5xx). Each such refusal is a possible tampering, so the
// Engine records it in the practice's activity log as well.

// ActionUnreadable is the activity-log action of a sealed value that did
// not open where it was stored. Its ResourceType is "table.column" and its
// ResourceID the row.
const ActionUnreadable = "phi.unreadable"

// recordUnreadable appends the "phi.unreadable" entry of the sealed value
// of practice at b, by the caller in ctx (else the system), once the
// transaction in ctx has ended: the read that failed usually takes its
// transaction down with it. Values of the platform scope (accounts' TOTP
// secrets) belong to no practice's log and are logged as errors.
func (e *Engine) recordUnreadable(ctx context.Context, practice uuid.UUID, b keys.Binding) {
	if practice == keys.Platform {
		e.Logger.ErrorContext(ctx, "a sealed value does not open where it is stored", "table", b.Table, "column", b.Column, "row", b.Row)
		return
	}
	who := audit.SystemActor("keys")
	if c, ok := CallerFrom(ctx); ok {
		who = c.Actor.ID
	}
	en := Entry(ctx, practice, who, ActionUnreadable, b.Table+"."+b.Column, b.Row, audit.Failed)
	write := func(ctx context.Context) {
		if _, err := e.Audit.Record(context.WithoutCancel(ctx), en); err != nil {
			e.Logger.ErrorContext(ctx, "cannot record an unreadable sealed value in the activity log",
				"table", b.Table, "column", b.Column, "row", b.Row, "error", err)
		}
	}
	if !e.store.AfterTx(ctx, write) {
		write(ctx)
	}
}

// resealBatch is how many rows Reseal rewrites per transaction.
const resealBatch = 500

// RotateKeys gives practice a new primary sealing key (keys.Service.Rotate)
// and seals again, with it, everything an older key sealed (Reseal).
// Values sealed before still open throughout, so the practice keeps
// working while it runs.
func (e *Engine) RotateKeys(ctx context.Context, practice uuid.UUID) (int, error) {
	if e.Keys == nil {
		return 0, errs.E(errs.KindInternal, "carebook.RotateKeys", "the engine has no master key")
	}
	if err := e.Keys.Rotate(ctx, practice); err != nil {
		return 0, err
	}
	return e.Reseal(ctx, practice)
}

// Reseal seals again, with practice's primary key, every value of the
// practice that an older key sealed or that an earlier release left in
// clear (patients, outbox messages, file names, chart versions), a batch
// per transaction,
// and returns how many rows it rewrote.
// It is resumable and idempotent: run again after a crash or a
// cancellation, it finishes what is left and rewrites nothing twice.
func (e *Engine) Reseal(ctx context.Context, practice uuid.UUID) (int, error) {
	total := 0
	for _, batch := range []func(context.Context, uuid.UUID, int) (int, error){
		e.store.Scheduling.ResealPatients, e.store.Notify.ResealMessages, e.store.Files.ResealFiles,
		e.store.EHR.ResealVersions, e.store.EHR.ResealRights,
	} {
		for {
			n, err := batch(ctx, practice, resealBatch)
			total += n
			if err != nil {
				return total, err
			}
			if n == 0 {
				break
			}
		}
	}
	return total, nil
}
