package ehr

import (
	"context"
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// A practice's FHIR bulk export (the Bulk Data Access IG's asynchronous
// $export): a job asked for by a client, run later by a periodic runner,
// whose output is one NDJSON file per resource type (or more, for a large
// type), kept sealed in the files bucket until it expires.
//
// A job moves ExportAccepted → ExportInProgress (claimed by one runner
// under a lease) → ExportComplete or ExportFailed; it may be
// ExportCanceled from any state but ExportFailed and ExportCanceled. A
// runner that stops mid-run (a crash) leaves its lease to run out, and
// another runner claims the job again; a runner whose claim was taken
// over, or whose job was canceled meanwhile, cannot finish it.

// ExportID identifies a bulk export within its practice.
type ExportID = uuid.UUID

// ExportState is where a bulk export stands.
type ExportState string

// The states of a bulk export.
const (
	ExportAccepted   ExportState = "accepted"
	ExportInProgress ExportState = "in-progress"
	ExportComplete   ExportState = "complete"
	ExportFailed     ExportState = "failed"
	ExportCanceled   ExportState = "canceled"
)

// Export is a bulk export job of one practice.
type Export struct {
	ID         ExportID          `json:"id"`
	PracticeID tenant.PracticeID `json:"practice_id"`
	State      ExportState       `json:"state"`
	// RequestedBy is the actor who asked for it (actor.Actor.String): the
	// only one who may follow, cancel or download it.
	RequestedBy string `json:"requested_by"`
	// Request is the URL of the kick-off request, echoed in the manifest.
	Request string `json:"request"`
	// Types are the resource types asked for (_type); none is every type.
	Types []string `json:"types,omitempty"`
	// Since keeps only the resources changed at or after it (_since).
	Since *time.Time `json:"since,omitempty"`
	// Restricted reports whether restricted chart entries are exported:
	// only when the requester held patient.restricted.read, which then
	// guards every download too.
	Restricted bool `json:"restricted"`
	// FileURL is the prefix a patient's file ID is appended to for a
	// DocumentReference's attachment URL ("" for none).
	FileURL   string    `json:"file_url,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// StartedAt is when the run that finished it was claimed: the
	// manifest's transactionTime.
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// ExpiresAt is when a complete export's files are removed; Expired
	// that they have been.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Expired   bool       `json:"expired"`
	// Progress is what the runner last said of its progress, such as "40
	// of 120 patients".
	Progress string         `json:"progress,omitempty"`
	Outputs  []ExportOutput `json:"outputs,omitempty"`
	// Error says why a failed export failed (no protected health
	// information: the details are in the server's log).
	Error string `json:"error,omitempty"`
	// Claim is the token of the runner holding the job, and LeaseUntil
	// when its hold runs out (in progress only).
	Claim      *uuid.UUID `json:"-"`
	LeaseUntil *time.Time `json:"-"`
}

// ExportOutput is one NDJSON file of a complete export: its resource type
// and how many resources (lines) it holds, and where its sealed object is.
type ExportOutput struct {
	// ID names the file in its URL and binds its sealing.
	ID    uuid.UUID `json:"id"`
	Type  string    `json:"type"`
	Count int       `json:"count"`
	// ObjectKey is the opaque key of the sealed object in the bucket;
	// Size the plaintext's length in bytes.
	ObjectKey string `json:"object_key"`
	Size      int64  `json:"size"`
}

// Active reports whether the export is still to run or running.
func (x *Export) Active() bool { return x.State == ExportAccepted || x.State == ExportInProgress }

// Output returns the output file id of x, or false.
func (x *Export) Output(id uuid.UUID) (ExportOutput, bool) {
	for _, o := range x.Outputs {
		if o.ID == id {
			return o, true
		}
	}
	return ExportOutput{}, false
}

// ExportRef names an export of a practice.
type ExportRef struct {
	PracticeID tenant.PracticeID
	ID         ExportID
}

// Exports keeps bulk export jobs. Every method but DueExports and
// ExpiringExports, which serve the runner across practices, is scoped to
// its practice: an export of another practice is KindNotFound. The
// conditional methods (ClaimExport, ProgressExport, FinishExport,
// CancelExport, ExpireExport) change a job only from the state they name,
// in one statement, so that of concurrent callers exactly one wins and the
// others get KindConflict. Implementations are safe for concurrent use.
type Exports interface {
	// CreateExport stores x, which must be ExportAccepted with no run
	// fields set; an ID taken is KindConflict. x's times are set to what
	// is stored.
	CreateExport(ctx context.Context, x *Export) error
	// Export returns export id, or KindNotFound.
	Export(ctx context.Context, practice tenant.PracticeID, id ExportID) (*Export, error)
	// DueExports returns up to limit exports of any practice that a runner
	// may claim at now: accepted, or in progress under a lease that ran
	// out before now; oldest first.
	DueExports(ctx context.Context, now time.Time, limit int) ([]ExportRef, error)
	// ClaimExport takes export id for the runner token until leaseUntil,
	// if it is claimable at now (see DueExports): it is then in progress,
	// its StartedAt now, and returned. A job not claimable (claimed by
	// another runner, finished, canceled) is KindConflict.
	ClaimExport(ctx context.Context, practice tenant.PracticeID, id ExportID, token uuid.UUID, now, leaseUntil time.Time) (*Export, error)
	// ProgressExport records progress and extends the lease of token's
	// claim to leaseUntil; a job no longer in progress under token is
	// KindConflict (it was canceled, or its lease taken over).
	ProgressExport(ctx context.Context, practice tenant.PracticeID, id ExportID, token uuid.UUID, progress string, leaseUntil time.Time) error
	// FinishExport writes the end of the run of token: x.State (complete
	// or failed), FinishedAt, ExpiresAt, Outputs and Error, if x is still
	// in progress under token; else KindConflict, and nothing is written.
	FinishExport(ctx context.Context, x *Export, token uuid.UUID) error
	// CancelExport marks export id canceled at now, if it is accepted, in
	// progress or complete, and returns it as it was before (with the
	// outputs whose objects the caller removes). A failed or canceled one
	// is KindConflict, an unknown one KindNotFound.
	CancelExport(ctx context.Context, practice tenant.PracticeID, id ExportID, now time.Time) (*Export, error)
	// ExpiringExports returns up to limit complete exports of any
	// practice whose ExpiresAt is at or before now and whose files are not
	// marked expired yet, soonest first.
	ExpiringExports(ctx context.Context, now time.Time, limit int) ([]*Export, error)
	// ExpireExport marks a complete export's files expired (its objects
	// removed); one already marked, or not complete, is KindConflict.
	ExpireExport(ctx context.Context, practice tenant.PracticeID, id ExportID) error
}
