package carebook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/ehr/fhir"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The FHIR bulk export of a practice (the Bulk Data Access IG's
// asynchronous $export, at the level of the practice: every patient's
// record). A client kicks it off (StartExport), follows it (ExportStatus),
// may cancel it (CancelExport) and downloads its files (OpenExportFile);
// RunExports, the periodic job of RegisterJobs, does the work in between.
//
// Who may: a bulk export discloses every chart of the practice, so it
// needs patient.clinical.read at the practice's scope (no patient's own
// grant reaches that far) and patient.rights.manage there too, the
// permission of whoever answers for the practice's disclosures (the
// requests for copies of the record and the accounting of disclosures):
// the practice's and the group's administrators, not the front desk nor
// a patient. Only the actor who kicked an export off may follow, cancel
// or download it (to anyone else it is not there: 404), and only while
// they still hold both permissions.
//
// Restricted entries: the runner acts for the requester and holds what
// they held when they asked. Restricted chart entries are exported only
// if the requester held patient.restricted.read over the practice; such
// an export's files are then downloaded only under that permission too.
//
// Every access writes exactly one activity-log entry, in the operation's
// transaction: "fhir.bulk_export" (naming the practice) for the kick-off,
// "fhir.bulk_export.status", ".cancel" and ".download" (naming the export)
// for the rest; the run itself writes "fhir.bulk_export.run" as the
// system, in the transaction that completes the export.
//
// The files are NDJSON, one per resource type (more when a type passes
// ExportOptions.FileBytes), sealed with the practice's file key into the
// files bucket as they are written, never held in clear at rest; they
// expire ExportOptions.TTL after the export completes, when RunExports
// removes them.

// The defaults of ExportOptions.
const (
	DefaultExportTTL       = 24 * time.Hour
	DefaultExportLease     = 5 * time.Minute
	DefaultExportFileBytes = 8 << 20
	DefaultExportBatch     = 50
)

// ExportJobName is the name of the bulk export job on the scheduler, and
// the system actor of its activity-log entries ("system:fhir.bulk_export").
const ExportJobName = "fhir.bulk_export"

// exportContentType is the media type of an export's files.
const exportContentType = "application/fhir+ndjson"

// maxExportRequest bounds the kick-off URL kept with an export.
const maxExportRequest = 2000

// ExportOptions tune the bulk exports; zero fields take the defaults.
type ExportOptions struct {
	// TTL is how long a complete export's files are kept.
	TTL time.Duration
	// Lease is how long a runner holds an export between signs of life;
	// a runner that stops leaves it to another once the lease runs out.
	Lease time.Duration
	// FileBytes is the size past which a resource type's file is closed
	// and another begun (at most the files bucket's limit, half of it by
	// default).
	FileBytes int
	// Batch is how many patients are read between two signs of life.
	Batch int
}

// WithExportOptions tunes the bulk exports.
func WithExportOptions(o ExportOptions) Option { return func(e *Engine) { e.exportOpts = o } }

// exportOptions are e's ExportOptions with the defaults filled in.
func (e *Engine) exportOptions() ExportOptions {
	o := e.exportOpts
	if o.TTL <= 0 {
		o.TTL = DefaultExportTTL
	}
	if o.Lease <= 0 {
		o.Lease = DefaultExportLease
	}
	limit := e.filesOpts.MaxSize
	if limit <= 0 {
		limit = files.DefaultMaxSize
	}
	if o.FileBytes <= 0 {
		o.FileBytes = DefaultExportFileBytes
	}
	o.FileBytes = int(min(int64(o.FileBytes), limit/2))
	if o.Batch <= 0 {
		o.Batch = DefaultExportBatch
	}
	return o
}

// ExportRequest is what a bulk export is asked for.
type ExportRequest struct {
	// Types are the resource types to export (_type), each one of
	// fhir.BulkTypes, none twice; none is every type.
	Types []string
	// Since keeps only the resources changed at or after it (_since);
	// resources whose changes are not dated (the practice, its locations
	// and practitioners) are always exported.
	Since *time.Time
	// Request is the URL of the kick-off request, echoed in the manifest
	// (at most 2,000 bytes).
	Request string
	// FileURL, when set, is the prefix a patient's file ID is appended to
	// for the URL of a DocumentReference's attachment.
	FileURL string
}

// check checks r, naming the field at fault.
func (r *ExportRequest) check(op string) error {
	for i, t := range r.Types {
		if !fhir.IsBulkType(t) {
			return errs.Invalid(op, "_type", strconv.Quote(t)+" is not a resource type this server exports")
		}
		if slices.Contains(r.Types[:i], t) {
			return errs.Invalid(op, "_type", t+" is named twice")
		}
	}
	if len(r.Request) > maxExportRequest || !utf8.ValidString(r.Request) {
		return errs.Invalid(op, "request", "is longer than 2000 bytes, or not UTF-8")
	}
	if len(r.FileURL) > maxExportRequest || !utf8.ValidString(r.FileURL) {
		return errs.Invalid(op, "file_url", "is longer than 2000 bytes, or not UTF-8")
	}
	return nil
}

// exportPermit decides action on practice's bulk exports for the caller in
// ctx: patient.clinical.read and patient.rights.manage at the practice's
// scope, denied (and logged) without either.
func (e *Engine) exportPermit(ctx context.Context, practice tenant.PracticeID, action, resourceType, resourceID string) (*Permit, error) {
	pm, err := e.Authorize(ctx, Access{Permission: rbac.PatientClinicalRead, PracticeID: practice, Action: action,
		ResourceType: resourceType, ResourceID: resourceID})
	if err != nil {
		return nil, err
	}
	if !pm.holds(rbac.PatientRightsManage) {
		pm.deny(ctx)
		return nil, errs.E(errs.KindForbidden, "carebook.exportPermit", "a bulk export needs "+string(rbac.PatientRightsManage)+" as well")
	}
	return pm, nil
}

// StartExport accepts a bulk export of every patient of practice for the
// caller in ctx (see the top of this file for who may), to be run by
// RunExports, and returns it ("fhir.bulk_export"). Bad input names its
// field (_type, request, file_url) once the access is decided. Without a
// files bucket it is KindNotFound.
func (e *Engine) StartExport(ctx context.Context, practice tenant.PracticeID, in ExportRequest) (*ehr.Export, error) {
	const op = "carebook.StartExport"
	if e.Files == nil {
		return nil, noFiles(op)
	}
	pm, err := e.exportPermit(ctx, practice, "fhir.bulk_export", "practice", practice.String())
	if err != nil {
		return nil, err
	}
	if err := in.check(op); err != nil {
		pm.Fail(ctx)
		return nil, err
	}
	c, _ := CallerFrom(ctx)
	x := &ehr.Export{ID: e.IDs.New(), PracticeID: practice, State: ehr.ExportAccepted, RequestedBy: c.Actor.String(),
		Request: in.Request, Types: slices.Clone(in.Types), Since: in.Since, Restricted: pm.holds(rbac.PatientRestrictedRead),
		FileURL: in.FileURL, CreatedAt: e.Clock.Now()}
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		return x.ID.String(), e.store.EHR.CreateExport(ctx, x)
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}

// RefuseExport refuses bad, the error of kick-off input that could not be
// read (a bad _since, an _outputFormat other than NDJSON), once the access
// is decided as StartExport would: without access it returns the guard's
// error (logged as denied); with it, the attempt is logged as failed and
// bad returned. One entry either way.
func (e *Engine) RefuseExport(ctx context.Context, practice tenant.PracticeID, bad error) error {
	pm, err := e.exportPermit(ctx, practice, "fhir.bulk_export", "practice", practice.String())
	if err != nil {
		return err
	}
	pm.Fail(ctx)
	return bad
}

// ownExport decides action on export id for the caller in ctx and reads
// the export: one of another requester is KindNotFound, as if it were not
// there (the attempt logged as failed).
func (e *Engine) ownExport(ctx context.Context, practice tenant.PracticeID, id ehr.ExportID, action, resourceID string) (*Permit, *ehr.Export, error) {
	pm, err := e.exportPermit(ctx, practice, action, "fhir_export", resourceID)
	if err != nil {
		return nil, nil, err
	}
	x, err := e.store.EHR.Export(ctx, practice, id)
	if err == nil {
		if c, _ := CallerFrom(ctx); x.RequestedBy != c.Actor.String() {
			err = errs.NotFound("carebook.ownExport", "export")
		}
	}
	if err != nil {
		pm.Fail(ctx)
		return nil, nil, err
	}
	return pm, x, nil
}

// ExportStatus returns export id of practice for its requester in ctx
// ("fhir.bulk_export.status"): its state, its progress, and once complete
// its files (Outputs) and their expiry.
func (e *Engine) ExportStatus(ctx context.Context, practice tenant.PracticeID, id ehr.ExportID) (*ehr.Export, error) {
	pm, x, err := e.ownExport(ctx, practice, id, "fhir.bulk_export.status", id.String())
	if err != nil {
		return nil, err
	}
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		var err error
		x, err = e.store.EHR.Export(ctx, practice, id)
		return id.String(), err
	})
	return x, err
}

// CancelExport cancels export id of practice for its requester in ctx
// ("fhir.bulk_export.cancel"): one still to run never runs, one running
// stops at its next sign of life and leaves nothing, and a complete one's
// files are removed at once. A failed or canceled export is KindConflict.
func (e *Engine) CancelExport(ctx context.Context, practice tenant.PracticeID, id ehr.ExportID) error {
	pm, _, err := e.ownExport(ctx, practice, id, "fhir.bulk_export.cancel", id.String())
	if err != nil {
		return err
	}
	var before *ehr.Export
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		var err error
		before, err = e.store.EHR.CancelExport(ctx, practice, id, e.Clock.Now())
		return id.String(), err
	})
	if err != nil {
		return err
	}
	if before.State == ehr.ExportComplete && !before.Expired {
		e.discardOutputs(ctx, before, before.Outputs)
	}
	return nil
}

// OpenExportFile returns the output file output of export id of practice
// and its NDJSON content, decrypted as it is read, for the export's
// requester in ctx ("fhir.bulk_export.download"); an export of restricted
// entries needs patient.restricted.read as well (else KindForbidden,
// logged as denied). A file of an export not complete, or expired, is
// KindNotFound. The caller closes the reader.
func (e *Engine) OpenExportFile(ctx context.Context, practice tenant.PracticeID, id ehr.ExportID, output uuid.UUID) (*ehr.ExportOutput, io.ReadCloser, error) {
	const op = "carebook.OpenExportFile"
	if e.Files == nil {
		return nil, nil, noFiles(op)
	}
	pm, x, err := e.ownExport(ctx, practice, id, "fhir.bulk_export.download", id.String()+"/"+output.String())
	if err != nil {
		return nil, nil, err
	}
	if x.Restricted && !pm.holds(rbac.PatientRestrictedRead) {
		pm.deny(ctx)
		return nil, nil, errs.E(errs.KindForbidden, op, "the export holds restricted entries: its files need "+string(rbac.PatientRestrictedRead))
	}
	o, ok := x.Output(output)
	switch {
	case x.State != ehr.ExportComplete:
		err = errs.NotFound(op, "export file")
	case x.Expired || (x.ExpiresAt != nil && !e.Clock.Now().Before(*x.ExpiresAt)):
		err = errs.E(errs.KindNotFound, op, "the export's files have expired")
	case !ok:
		err = errs.NotFound(op, "export file")
	}
	if err != nil {
		pm.Fail(ctx)
		return nil, nil, err
	}
	var rc io.ReadCloser
	err = pm.Do(ctx, func(ctx context.Context) (string, error) {
		var err error
		rc, err = e.Files.OpenRecord(ctx, exportFile(x, o))
		return "", err
	})
	if err != nil {
		return nil, nil, err
	}
	return &o, rc, nil
}

// exportFile is the files.File of output o of x: a file of the practice
// that belongs to no patient (the nil patient ID binds its sealing), whose
// record is the export's, not the files store's.
func exportFile(x *ehr.Export, o ehr.ExportOutput) *files.File {
	return &files.File{ID: o.ID, PracticeID: x.PracticeID, PatientID: uuid.Nil, Name: o.Type + ".ndjson",
		ContentType: exportContentType, Size: o.Size, ObjectKey: o.ObjectKey}
}

// discardOutputs removes the objects of outs, outputs of x.
func (e *Engine) discardOutputs(ctx context.Context, x *ehr.Export, outs []ehr.ExportOutput) {
	for _, o := range outs {
		e.Files.Discard(ctx, exportFile(x, o))
	}
}

// exportsPerRun bounds the exports one RunExports claims, and the expired
// ones it clears.
const exportsPerRun = 10

// RunExports runs the bulk exports due: it removes the files of the
// complete exports that have expired, then claims each export accepted
// (or left by a runner whose lease ran out) and runs it, and returns how
// many it finished. Any number of RunExports may run at once, in one
// process or many: each export is claimed by exactly one of them (a
// conditional update), the others skip it. A run that fails marks its
// export failed (the error, in the server's log, is returned too); one
// whose export was canceled meanwhile stops and leaves nothing behind.
func (e *Engine) RunExports(ctx context.Context) (int, error) {
	if e.Files == nil {
		return 0, nil
	}
	var problems []error
	now := e.Clock.Now()
	expiring, err := e.store.EHR.ExpiringExports(ctx, now, exportsPerRun)
	if err != nil {
		return 0, err
	}
	for _, x := range expiring {
		e.discardOutputs(ctx, x, x.Outputs)
		if err := e.store.EHR.ExpireExport(ctx, x.PracticeID, x.ID); err != nil && !errs.Is(err, errs.KindConflict) {
			problems = append(problems, err)
		}
	}
	due, err := e.store.EHR.DueExports(ctx, now, exportsPerRun)
	if err != nil {
		return 0, errors.Join(append(problems, err)...)
	}
	lease := e.exportOptions().Lease
	finished := 0
	for _, ref := range due {
		token := e.IDs.New()
		x, err := e.store.EHR.ClaimExport(ctx, ref.PracticeID, ref.ID, token, now, now.Add(lease))
		switch {
		case errs.Is(err, errs.KindConflict) || errs.Is(err, errs.KindNotFound):
			continue // another runner has it
		case err != nil:
			problems = append(problems, err)
			continue
		}
		done, err := e.runExport(ctx, x, token)
		if err != nil {
			problems = append(problems, err)
		}
		if done {
			finished++
		}
	}
	return finished, errors.Join(problems...)
}

// exportRun is one run of an export: the files being written, by type, and
// those already stored.
type exportRun struct {
	e       *Engine
	x       *ehr.Export
	opts    ExportOptions
	open    map[string]*exportBuffer
	stored  []ehr.ExportOutput
	order   []string // types in the order first seen
	numbers map[string]int
}

// exportBuffer is the file of one type being written.
type exportBuffer struct {
	buf   bytes.Buffer
	count int
}

// add writes r to its type's file, storing the file when it is full.
func (run *exportRun) add(ctx context.Context, r fhir.Resource) error {
	typ := r.Type()
	b := run.open[typ]
	if b == nil {
		b = &exportBuffer{}
		run.open[typ] = b
		if run.numbers[typ] == 0 {
			run.order = append(run.order, typ)
		}
	}
	if err := fhir.WriteNDJSON(&b.buf, []fhir.Resource{r}); err != nil {
		return err
	}
	b.count++
	if b.buf.Len() >= run.opts.FileBytes {
		return run.store(ctx, typ)
	}
	return nil
}

// store seals typ's open file into the bucket.
func (run *exportRun) store(ctx context.Context, typ string) error {
	b := run.open[typ]
	delete(run.open, typ)
	if b == nil || b.count == 0 {
		return nil
	}
	run.numbers[typ]++
	name := typ + "-" + strconv.Itoa(run.numbers[typ]) + ".ndjson"
	f, err := run.e.Files.Upload(ctx, run.x.PracticeID, uuid.Nil, name, exportContentType, &b.buf)
	if err != nil {
		return err
	}
	run.stored = append(run.stored, ehr.ExportOutput{ID: f.ID, Type: typ, Count: b.count, ObjectKey: f.ObjectKey, Size: f.Size})
	return nil
}

// outputs stores every open file and returns the outputs by type, in the
// order of fhir.BulkTypes, each type's files in the order written.
func (run *exportRun) outputs(ctx context.Context) ([]ehr.ExportOutput, error) {
	for _, typ := range run.order {
		if err := run.store(ctx, typ); err != nil {
			return nil, err
		}
	}
	rank := map[string]int{}
	for i, t := range fhir.BulkTypes() {
		rank[t] = i
	}
	out := slices.Clone(run.stored)
	slices.SortStableFunc(out, func(a, b ehr.ExportOutput) int { return rank[a.Type] - rank[b.Type] })
	return out, nil
}

// runExport runs x, claimed under token, and reports whether it ended it
// (complete or failed). A run whose claim is gone (canceled, or taken
// over) removes what it wrote and reports false, without an error.
func (e *Engine) runExport(ctx context.Context, x *ehr.Export, token uuid.UUID) (bool, error) {
	run := &exportRun{e: e, x: x, opts: e.exportOptions(), open: map[string]*exportBuffer{}, numbers: map[string]int{}}
	patients, err := e.writeExport(ctx, run, token)
	var outs []ehr.ExportOutput
	if err == nil {
		outs, err = run.outputs(ctx)
	}
	if errs.Is(err, errs.KindConflict) && errors.Is(err, errClaimLost) {
		e.discardOutputs(ctx, x, run.stored)
		return false, nil
	}
	fin := e.Clock.Now()
	end := *x
	end.FinishedAt, end.Progress = &fin, strconv.Itoa(patients)+" patients exported"
	outcome := audit.Allowed
	if err != nil {
		e.discardOutputs(ctx, x, run.stored)
		e.Logger.ErrorContext(ctx, "a FHIR bulk export failed", "practice_id", x.PracticeID.String(), "export_id", x.ID.String(), "error", err)
		end.State, end.Error, outcome = ehr.ExportFailed, "the export failed on the server; its log says why", audit.Failed
	} else {
		exp := fin.Add(run.opts.TTL)
		end.State, end.ExpiresAt, end.Outputs = ehr.ExportComplete, &exp, outs
	}
	ferr := e.InTx(ctx, func(ctx context.Context) error {
		if err := e.store.EHR.FinishExport(ctx, &end, token); err != nil {
			return err
		}
		en := Entry(ctx, x.PracticeID, audit.SystemActor(ExportJobName), "fhir.bulk_export.run", "fhir_export", x.ID.String(), outcome)
		_, err := e.Audit.Record(ctx, en)
		return err
	})
	if ferr != nil {
		if end.State == ehr.ExportComplete {
			e.discardOutputs(ctx, x, outs)
		}
		if errs.Is(ferr, errs.KindConflict) {
			return false, nil // canceled, or taken over, meanwhile
		}
		return false, errors.Join(err, ferr)
	}
	return true, err
}

// errClaimLost marks the error of a run whose claim is gone.
var errClaimLost = errors.New("the export is no longer this run's")

// writeExport writes every patient's record of x's practice into run,
// Batch patients at a time, each patient read in one transaction, and
// returns how many patients it wrote. Between batches it extends its
// lease; a claim gone is KindConflict wrapping errClaimLost.
func (e *Engine) writeExport(ctx context.Context, run *exportRun, token uuid.UUID) (int, error) {
	x := run.x
	want := map[string]bool{}
	for _, t := range x.Types {
		want[t] = true
	}
	shared := map[string]bool{} // the shared resources written, by type/id
	var fileURL func(uuid.UUID) string
	if x.FileURL != "" {
		fileURL = func(id uuid.UUID) string { return x.FileURL + id.String() }
	}
	var after *scheduling.PatientID
	n := 0
	for {
		batch, err := e.store.Scheduling.ListPatients(ctx, x.PracticeID, scheduling.PatientFilter{After: after, Limit: run.opts.Batch})
		if err != nil {
			return n, err
		}
		for _, p := range batch {
			var out []fhir.Resource
			err := e.InTx(ctx, func(ctx context.Context) error {
				rec, opts, err := e.patientRecord(ctx, x.PracticeID, p.ID, chartReader{restricted: x.Restricted})
				if err != nil {
					return err
				}
				opts.FileURL = fileURL
				out, err = fhir.Export(*rec, opts)
				return err
			})
			if err != nil {
				return n, err
			}
			for _, r := range out {
				typ := r.Type()
				if len(want) > 0 && !want[typ] {
					continue
				}
				if x.Since != nil && !fhir.ChangedSince(r, *x.Since) {
					continue
				}
				if fhir.Shared(typ) {
					key := typ + "/" + r.ID()
					if shared[key] {
						continue
					}
					shared[key] = true
				}
				if err := run.add(ctx, r); err != nil {
					return n, err
				}
			}
			n++
		}
		if len(batch) < run.opts.Batch {
			return n, nil
		}
		after = &batch[len(batch)-1].ID
		err = e.store.EHR.ProgressExport(ctx, x.PracticeID, x.ID, token, strconv.Itoa(n)+" patients exported",
			e.Clock.Now().Add(run.opts.Lease))
		if errs.Is(err, errs.KindConflict) {
			return n, errs.Wrap(errs.KindConflict, "carebook.RunExports", errClaimLost.Error(), errors.Join(errClaimLost, err))
		}
		if err != nil {
			return n, err
		}
	}
}
