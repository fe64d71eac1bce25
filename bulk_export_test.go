package carebook_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/ehr/fhir"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// exportClinic is a clinic whose Engine keeps files in objects, exporting
// one patient a batch into files of at most 1 KiB, so that the runs show
// their progress and split their files.
type exportClinic struct {
	*clinic
	e       *carebook.Engine
	objects string
	// uploads draws the IDs of the files sealed into the bucket: one a
	// file written.
	uploads *armedIDs
	admin   context.Context // a practice administrator: every permission, restricted entries too
	officer context.Context // clinical read and rights, not restricted entries
	desk    context.Context
	self    context.Context
}

func newExportClinic(t *testing.T, st *sqlstore.Store, opts ...carebook.Option) *exportClinic {
	t.Helper()
	c := newClinic(t, st)
	objects := filepath.Join(t.TempDir(), "objects")
	bucket, err := files.OpenBucket(c.staff, "file://"+filepath.ToSlash(objects)+"?create_dir=1")
	require.NoError(t, err)
	t.Cleanup(func() { bucket.Close() })
	uploads := &armedIDs{}
	e := carebook.NewWithStore(c.st, append([]carebook.Option{carebook.WithClock(c.clk), carebook.WithFiles(bucket, files.Options{IDs: uploads}),
		carebook.WithExportOptions(carebook.ExportOptions{Batch: 1, FileBytes: 1024})}, opts...)...)
	p, err := e.Tenants.Practice(c.staff, c.practice)
	require.NoError(t, err)
	role := &rbac.Role{ID: uuid.New(), Owner: rbac.PracticeOwner(p.GroupID, p.ID), Name: "Privacy officer",
		Permissions: []rbac.Permission{rbac.PatientClinicalRead, rbac.PatientRightsManage}, CreatedAt: c.clk.Now(),
		CreatedBy: "system:test", UpdatedAt: c.clk.Now()}
	require.NoError(t, st.RBAC.CreateRole(c.staff, role))
	x := &exportClinic{clinic: c, e: e, objects: objects, uploads: uploads,
		admin:   callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID)),
		officer: callerWith(t, c, role.ID, rbac.PracticeScope(p.GroupID, p.ID)),
		desk:    callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(p.GroupID, p.ID)),
		self:    callerWith(t, c, rbac.PatientRoleID, rbac.SelfScope(p.GroupID, p.ID, c.patient.ID))}
	return x
}

// chart writes the clinic's charts: the first patient's visit (an
// encounter, a signed note, a vital sign), a restricted problem and a
// booked visit; a second patient's allergy.
func (x *exportClinic) chart(t *testing.T) {
	t.Helper()
	pt, now := x.patient.ID, x.clk.Now()
	x.book(t, x.at(3, 5, 10, 0))
	enc, err := x.e.WriteChart(x.admin, x.practice, carebook.ChartWrite{PatientID: pt, Status: ehr.Draft,
		Body: &ehr.Encounter{Class: "ambulatory", Reason: "Cough", Start: now}})
	require.NoError(t, err)
	for _, w := range []carebook.ChartWrite{
		{PatientID: pt, EncounterID: &enc.ID, Status: ehr.Signed, Body: &ehr.Note{Title: "Visit", Subjective: "Dry cough."}},
		{PatientID: pt, EncounterID: &enc.ID, Status: ehr.Active, Body: &ehr.Vital{Code: "8867-4", Value: 88, Unit: "/min", EffectiveAt: now}},
		{PatientID: pt, Status: ehr.Active, Restricted: true, Body: &ehr.Problem{Coding: ehr.Coding{Display: "Depression"}, ClinicalStatus: "active"}},
	} {
		_, err := x.e.WriteChart(x.admin, x.practice, w)
		require.NoError(t, err)
	}
	other, err := x.e.Scheduling.CreatePatient(x.staff, x.practice, schedulingPatient("Alan", "Turing"))
	require.NoError(t, err)
	_, err = x.e.WriteChart(x.admin, x.practice, carebook.ChartWrite{PatientID: other.ID, Status: ehr.Active,
		Body: &ehr.Allergy{Substance: ehr.Coding{Display: "Peanut"}, Type: "allergy", Category: "food"}})
	require.NoError(t, err)
}

// download reads every file of a complete export as who, checks each line
// against the R4 schema and the file's type and count, and returns the
// resources by type.
func (x *exportClinic) download(t *testing.T, who context.Context, schema *jsonschema.Schema, id ehr.ExportID) map[string][]fhir.Resource {
	t.Helper()
	st, err := x.e.ExportStatus(who, x.practice, id)
	require.NoError(t, err)
	require.Equal(t, ehr.ExportComplete, st.State)
	out := map[string][]fhir.Resource{}
	for _, o := range st.Outputs {
		got, rc, err := x.e.OpenExportFile(who, x.practice, id, o.ID)
		require.NoError(t, err)
		require.Equal(t, o, *got)
		b, err := io.ReadAll(rc)
		require.NoError(t, rc.Close())
		require.NoError(t, err)
		require.EqualValues(t, o.Size, len(b))
		lines := 0
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines++
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(sc.Bytes()))
			require.NoError(t, err)
			require.NoError(t, schema.Validate(v), "%s line %d", o.Type, lines)
			var r fhir.Resource
			require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
			require.Equal(t, o.Type, r.Type())
			out[o.Type] = append(out[o.Type], r)
		}
		require.NoError(t, sc.Err())
		require.Equal(t, o.Count, lines, o.Type)
	}
	return out
}

// objectFiles returns the contents of every object in the bucket.
func (x *exportClinic) objectFiles(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	err := filepath.WalkDir(x.objects, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".attrs") {
			return err
		}
		b, err := os.ReadFile(path)
		out = append(out, b)
		return err
	})
	if !os.IsNotExist(err) {
		require.NoError(t, err)
	}
	return out
}

// TestBulkExport: the front desk and a patient may not export the
// practice; bad input names _type; an administrator's export and a privacy
// officer's are run by RunExports into NDJSON files, one type a file (more
// once one passes 1 KiB), every line valid R4, every patient in, shared
// resources once, the restricted problem only in the administrator's;
// nobody but the requester sees an export; the objects at rest are
// sealed; _since keeps the undated resources only; the files expire after
// a day and are removed; a cancel stops an export once; each access is
// logged once.
func TestBulkExport(t *testing.T) {
	schema := mustFHIRSchema(t)
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		x := newExportClinic(t, st)
		x.chart(t)
		for _, who := range []context.Context{x.desk, x.self} {
			_, err := x.e.StartExport(who, x.practice, carebook.ExportRequest{})
			require.Equal(t, errs.KindForbidden, errs.KindOf(err), "%v", err)
		}
		_, err := x.e.StartExport(x.admin, x.practice, carebook.ExportRequest{Types: []string{"Patient", "Claim"}})
		require.Equal(t, "_type", errs.FieldOf(err))
		_, err = x.e.StartExport(x.admin, x.practice, carebook.ExportRequest{Types: []string{"Patient", "Patient"}})
		require.Equal(t, "_type", errs.FieldOf(err))

		all, err := x.e.StartExport(x.admin, x.practice, carebook.ExportRequest{Request: "https://x/$export", FileURL: "https://x/files/"})
		require.NoError(t, err)
		require.True(t, all.Restricted)
		mine, err := x.e.StartExport(x.officer, x.practice, carebook.ExportRequest{Types: []string{"Patient", "Condition", "Provenance"}})
		require.NoError(t, err)
		require.False(t, mine.Restricted)
		st1, err := x.e.ExportStatus(x.admin, x.practice, all.ID)
		require.NoError(t, err)
		require.Equal(t, ehr.ExportAccepted, st1.State)
		_, err = x.e.ExportStatus(x.officer, x.practice, all.ID)
		require.Equal(t, errs.KindNotFound, errs.KindOf(err), "another requester's export")
		_, err = x.e.ExportStatus(x.desk, x.practice, all.ID)
		require.Equal(t, errs.KindForbidden, errs.KindOf(err))

		n, err := x.e.RunExports(context.Background())
		require.NoError(t, err)
		require.Equal(t, 2, n)
		n, err = x.e.RunExports(context.Background())
		require.NoError(t, err)
		require.Zero(t, n, "nothing left to run")

		got := x.download(t, x.admin, schema, all.ID)
		require.Len(t, got["Patient"], 2, "every patient")
		require.Len(t, got["Organization"], 1, "the practice once, for two patients")
		require.Len(t, got["Practitioner"], 1)
		require.Len(t, got["Appointment"], 1)
		require.Len(t, got["Condition"], 1, "the administrator holds restricted entries")
		require.Len(t, got["AllergyIntolerance"], 1)
		require.Len(t, got["Provenance"], 5)
		for _, d := range got["DocumentReference"] {
			require.Equal(t, "DocumentReference", d.Type())
		}
		status, err := x.e.ExportStatus(x.admin, x.practice, all.ID)
		require.NoError(t, err)
		require.Equal(t, "2 patients exported", status.Progress)
		require.True(t, x.clk.Now().Add(carebook.DefaultExportTTL).Equal(*status.ExpiresAt), "%v", status.ExpiresAt)
		perType := map[string]int{}
		for _, o := range status.Outputs {
			perType[o.Type]++
			require.LessOrEqual(t, o.Size, int64(1024+2048), "files are split once past 1 KiB")
		}
		require.Greater(t, perType["Provenance"], 1, "the Provenance file was split")

		theirs := x.download(t, x.officer, schema, mine.ID)
		require.Len(t, theirs["Patient"], 2)
		require.Empty(t, theirs["Condition"], "the restricted problem is left out")
		require.Len(t, theirs["Provenance"], 4)
		require.Len(t, theirs, 2, "only the types asked for")
		st2, _ := x.e.ExportStatus(x.officer, x.practice, mine.ID)
		_, _, err = x.e.OpenExportFile(x.admin, x.practice, mine.ID, st2.Outputs[0].ID)
		require.Equal(t, errs.KindNotFound, errs.KindOf(err), "another requester's file")
		_, _, err = x.e.OpenExportFile(x.officer, x.practice, mine.ID, uuid.New())
		require.Equal(t, errs.KindNotFound, errs.KindOf(err))

		objects := x.objectFiles(t)
		require.Len(t, objects, len(status.Outputs)+len(st2.Outputs))
		for _, b := range objects {
			for _, clear := range []string{"resourceType", "Lovelace", "Depression", x.patient.ID.String()} {
				require.NotContains(t, string(b), clear, "an object at rest is sealed")
			}
		}

		// The requester without patient.restricted.read any more may not
		// download an export of restricted entries.
		ac, _ := carebook.CallerFrom(x.admin)
		oc, _ := carebook.CallerFrom(x.officer)
		demoted := carebook.WithCaller(context.Background(), carebook.Caller{Actor: ac.Actor, Principal: oc.Principal})
		_, _, err = x.e.OpenExportFile(demoted, x.practice, all.ID, status.Outputs[0].ID)
		require.Equal(t, errs.KindForbidden, errs.KindOf(err), "%v", err)

		since := x.clk.Now().Add(time.Hour)
		later, err := x.e.StartExport(x.admin, x.practice, carebook.ExportRequest{Since: &since})
		require.NoError(t, err)
		_, err = x.e.RunExports(context.Background())
		require.NoError(t, err)
		undated := x.download(t, x.admin, schema, later.ID)
		stLater, err := x.e.ExportStatus(x.admin, x.practice, later.ID)
		require.NoError(t, err)
		types := []string{}
		for typ := range undated {
			types = append(types, typ)
		}
		require.ElementsMatch(t, []string{"Organization", "Location", "Practitioner", "PractitionerRole"}, types)

		// A day later the files are gone, and the status says so.
		x.clk.Advance(carebook.DefaultExportTTL)
		_, _, err = x.e.OpenExportFile(x.admin, x.practice, all.ID, status.Outputs[0].ID)
		require.Equal(t, errs.KindNotFound, errs.KindOf(err), "expired")
		_, err = x.e.RunExports(context.Background())
		require.NoError(t, err)
		require.Empty(t, x.objectFiles(t), "every expired object removed")
		status, err = x.e.ExportStatus(x.admin, x.practice, all.ID)
		require.NoError(t, err)
		require.True(t, status.Expired)

		// A cancel: the export never runs; a second cancel conflicts; a
		// complete one's files go at once.
		canceled, err := x.e.StartExport(x.admin, x.practice, carebook.ExportRequest{Types: []string{"Patient"}})
		require.NoError(t, err)
		require.NoError(t, x.e.CancelExport(x.admin, x.practice, canceled.ID))
		require.Equal(t, errs.KindConflict, errs.KindOf(x.e.CancelExport(x.admin, x.practice, canceled.ID)))
		require.Equal(t, errs.KindNotFound, errs.KindOf(x.e.CancelExport(x.officer, x.practice, canceled.ID)), "another requester's export")
		n, err = x.e.RunExports(context.Background())
		require.NoError(t, err)
		require.Zero(t, n)
		done, err := x.e.StartExport(x.admin, x.practice, carebook.ExportRequest{Types: []string{"Patient"}})
		require.NoError(t, err)
		_, err = x.e.RunExports(context.Background())
		require.NoError(t, err)
		require.Len(t, x.objectFiles(t), 1)
		require.NoError(t, x.e.CancelExport(x.admin, x.practice, done.ID))
		require.Empty(t, x.objectFiles(t), "a complete export's files go with its cancel")
		st3, err := x.e.ExportStatus(x.admin, x.practice, done.ID)
		require.NoError(t, err)
		require.Equal(t, ehr.ExportCanceled, st3.State)

		outcomes := func(action string) []audit.Outcome {
			var out []audit.Outcome
			for _, en := range entries(t, x.clinic, action) {
				out = append(out, en.Outcome)
			}
			return out
		}
		require.Equal(t, []audit.Outcome{audit.Denied, audit.Denied, audit.Failed, audit.Failed, audit.Allowed, audit.Allowed,
			audit.Allowed, audit.Allowed, audit.Allowed}, outcomes("fhir.bulk_export"))
		for _, en := range entries(t, x.clinic, "fhir.bulk_export") {
			require.Equal(t, "practice", en.ResourceType)
			require.Equal(t, x.practice.String(), en.ResourceID)
		}
		runs := entries(t, x.clinic, "fhir.bulk_export.run")
		require.Len(t, runs, 4, "one a run")
		for _, en := range runs {
			require.Equal(t, "system:"+carebook.ExportJobName, en.Actor)
			require.Equal(t, audit.Allowed, en.Outcome)
		}
		downloads := len(status.Outputs) + len(st2.Outputs) + len(stLater.Outputs)
		want := append(make([]audit.Outcome, 0, downloads+3), slicesRepeat(audit.Allowed, len(status.Outputs)+len(st2.Outputs))...)
		want = append(want, audit.Failed, audit.Failed) // another requester's file, an unknown file
		want = append(want, audit.Denied)               // restricted entries without the grant
		want = append(want, slicesRepeat(audit.Allowed, len(stLater.Outputs))...)
		want = append(want, audit.Failed) // expired
		require.Equal(t, want, outcomes("fhir.bulk_export.download"))
	})
}

// slicesRepeat is n times v.
func slicesRepeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestRunExportsConcurrently: sixteen runners at once over three accepted
// exports finish each exactly once: three runs in all, one
// "fhir.bulk_export.run" entry each, and no object beyond the outputs
// recorded.
func TestRunExportsConcurrently(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		x := newExportClinic(t, st)
		x.chart(t)
		ids := map[ehr.ExportID]bool{}
		for range 3 {
			ex, err := x.e.StartExport(x.admin, x.practice, carebook.ExportRequest{})
			require.NoError(t, err)
			ids[ex.ID] = true
		}
		const runners = 16
		uploadsBefore := x.uploads.drawn()
		finished := make([]int, runners)
		problems := make([]error, runners)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range runners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				finished[i], problems[i] = x.e.RunExports(context.Background())
			}()
		}
		close(start)
		wg.Wait()
		total := 0
		for i := range runners {
			require.NoError(t, problems[i], "runner %d", i)
			total += finished[i]
		}
		require.Equal(t, 3, total, "each export finished by exactly one runner")
		outputs := 0
		for id := range ids {
			s, err := x.e.ExportStatus(x.admin, x.practice, id)
			require.NoError(t, err)
			require.Equal(t, ehr.ExportComplete, s.State)
			outputs += len(s.Outputs)
		}
		require.Len(t, x.objectFiles(t), outputs)
		require.Equal(t, outputs, x.uploads.drawn()-uploadsBefore, "no runner wrote an export a second time, even to throw it away")
		runs := entries(t, x.clinic, "fhir.bulk_export.run")
		require.Len(t, runs, 3)
		seen := map[string]bool{}
		for _, en := range runs {
			require.False(t, seen[en.ResourceID], "export %s run twice", en.ResourceID)
			seen[en.ResourceID] = true
		}
	})
}

// TestRunExportsTakesOverALapsedLease: an export held by a runner that
// stopped is left alone while its lease runs, then run by the next runner
// once the lease has run out.
func TestRunExportsTakesOverALapsedLease(t *testing.T) {
	x := newExportClinic(t, sqltest.SQLite(t))
	x.chart(t)
	ex, err := x.e.StartExport(x.admin, x.practice, carebook.ExportRequest{Types: []string{"Patient"}})
	require.NoError(t, err)
	now := x.clk.Now()
	_, err = x.st.EHR.ClaimExport(context.Background(), x.practice, ex.ID, uuid.New(), now, now.Add(carebook.DefaultExportLease))
	require.NoError(t, err)
	n, err := x.e.RunExports(context.Background())
	require.NoError(t, err)
	require.Zero(t, n, "the lease still runs")
	x.clk.Advance(carebook.DefaultExportLease + time.Second)
	n, err = x.e.RunExports(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	s, err := x.e.ExportStatus(x.admin, x.practice, ex.ID)
	require.NoError(t, err)
	require.Equal(t, ehr.ExportComplete, s.State)
	require.Equal(t, 2, s.Outputs[0].Count)
}

// TestBulkExportJob: RegisterJobs with FHIRExports puts the bulk export
// job on the scheduler, which runs an accepted export once the fake clock
// reaches its interval; without a files bucket the job is refused naming
// fhir_exports.
func TestBulkExportJob(t *testing.T) {
	x := newExportClinic(t, sqltest.SQLite(t))
	x.chart(t)
	ex, err := x.e.StartExport(x.admin, x.practice, carebook.ExportRequest{Types: []string{"Patient"}})
	require.NoError(t, err)

	s, clk := fakeScheduler(t)
	_, err = x.clinic.e.RegisterJobs(s, carebook.JobsConfig{FHIRExports: true})
	require.Equal(t, "fhir_exports", errs.FieldOf(err), "an Engine without files")
	_, err = x.e.RegisterJobs(s, carebook.JobsConfig{FHIRExports: true, FHIRExportEvery: -time.Second})
	require.Equal(t, "fhir_export_every", errs.FieldOf(err))
	require.Empty(t, jobNames(s))

	ran := make(chan error, 4)
	jobs, err := x.e.RegisterJobs(s, carebook.JobsConfig{FHIRExports: true, FHIRExportEvery: time.Minute,
		JobOptions: []gocron.JobOption{gocron.WithEventListeners(
			gocron.AfterJobRuns(func(uuid.UUID, string) { ran <- nil }),
			gocron.AfterJobRunsWithError(func(_ uuid.UUID, _ string, err error) { ran <- err }))}})
	require.NoError(t, err)
	require.Len(t, jobs.Scheduled, 1)
	require.Equal(t, carebook.ExportJobName, jobs.Scheduled[0].Name())
	s.Start()
	wait, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, clk.BlockUntilContext(wait, 1))
	clk.Advance(time.Minute)
	select {
	case err := <-ran:
		require.NoError(t, err)
	case <-wait.Done():
		t.Fatal("the job did not run")
	}
	st, err := x.e.ExportStatus(x.admin, x.practice, ex.ID)
	require.NoError(t, err)
	require.Equal(t, ehr.ExportComplete, st.State)
}

// armedIDs makes UUIDv7s and runs fire once, when the ID numbered at is
// drawn: a way to act in the middle of a run, at a point the run itself
// reaches.
type armedIDs struct {
	mu   sync.Mutex
	n    int
	at   int
	fire func()
}

func (a *armedIDs) New() uuid.UUID {
	a.mu.Lock()
	a.n++
	fire := a.n == a.at && a.fire != nil
	a.mu.Unlock()
	if fire {
		a.fire()
	}
	return uuid.Must(uuid.NewV7())
}

// drawn is how many IDs a has made.
func (a *armedIDs) drawn() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// arm makes the after-th ID from now fire f.
func (a *armedIDs) arm(after int, f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at, a.fire = a.n+after, f
}

// TestRunExportsStopsWhenCanceled: an export canceled while it runs (here
// as its first file is sealed) stops at its next sign of life: the run finishes nothing, fails
// nothing, logs no run, and leaves no object behind.
func TestRunExportsStopsWhenCanceled(t *testing.T) {
	x := newExportClinic(t, sqltest.SQLite(t))
	x.chart(t)
	ex, err := x.e.StartExport(x.admin, x.practice, carebook.ExportRequest{})
	require.NoError(t, err)
	fired := false
	x.uploads.arm(1, func() {
		fired = true
		_, err := x.st.EHR.CancelExport(context.Background(), x.practice, ex.ID, x.clk.Now())
		require.NoError(t, err)
	})
	n, err := x.e.RunExports(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
	require.True(t, fired, "the cancel came mid-run, as a file was sealed")
	require.Empty(t, x.objectFiles(t), "the canceled run removed what it wrote")
	s, err := x.e.ExportStatus(x.admin, x.practice, ex.ID)
	require.NoError(t, err)
	require.Equal(t, ehr.ExportCanceled, s.State)
	require.Empty(t, s.Outputs)
	require.Empty(t, entries(t, x.clinic, "fhir.bulk_export.run"))
}
