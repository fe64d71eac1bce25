package carebook_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestPatientFiles: files go through the guard under the chart's
// permissions: a practice admin uploads, lists and reads a patient's file
// (each logged); the front desk, who sees no clinical data, is refused
// (403, logged as denied); the patient reads their own file, not another
// patient's; an Engine without a bucket answers 404.
func TestPatientFiles(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		e, objects := withFiles(t, c)
		require.NotNil(t, e.Files)
		p, err := e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		admin := callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))
		desk := callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(p.GroupID, p.ID))
		self := callerWith(t, c, rbac.PatientRoleID, rbac.SelfScope(p.GroupID, p.ID, c.patient.ID))

		f, err := e.PutFile(admin, c.practice, c.patient.ID, "referral letter.pdf", "application/pdf", strings.NewReader("Dear colleague"))
		require.NoError(t, err)
		list, err := e.PatientFiles(admin, c.practice, c.patient.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, "referral letter.pdf", list[0].Name)
		for _, who := range []struct {
			name   string
			caller func() (string, error)
		}{{"admin", func() (string, error) { return read(admin, e, c, f.ID) }}, {"the patient", func() (string, error) { return read(self, e, c, f.ID) }}} {
			got, err := who.caller()
			require.NoError(t, err, who.name)
			require.Equal(t, "Dear colleague", got, who.name)
		}

		_, err = e.PatientFiles(desk, c.practice, c.patient.ID)
		require.Equal(t, errs.KindForbidden, errs.KindOf(err), "%v", err)
		_, _, err = e.OpenFile(desk, c.practice, f.ID)
		require.Equal(t, errs.KindForbidden, errs.KindOf(err), "%v", err)
		_, err = e.PutFile(desk, c.practice, c.patient.ID, "x.txt", "text/plain", strings.NewReader("x"))
		require.Equal(t, errs.KindForbidden, errs.KindOf(err), "%v", err)
		require.Equal(t, errs.KindForbidden, errs.KindOf(e.DeleteFile(desk, c.practice, f.ID)))

		other, err := e.Scheduling.CreatePatient(c.staff, c.practice, schedulingPatient("Alan", "Turing"))
		require.NoError(t, err)
		otherSelf := callerWith(t, c, rbac.PatientRoleID, rbac.SelfScope(p.GroupID, p.ID, other.ID))
		_, _, err = e.OpenFile(otherSelf, c.practice, f.ID)
		require.Equal(t, errs.KindForbidden, errs.KindOf(err), "another patient's file: %v", err)
		_, err = e.PutFile(admin, c.practice, c.patient.ID, "", "text/plain", strings.NewReader("x"))
		require.Equal(t, errs.KindInvalid, errs.KindOf(err))
		require.Equal(t, "name", errs.FieldOf(err))

		outcomes := func(action string) []audit.Outcome {
			var out []audit.Outcome
			for _, en := range entries(t, c, action) {
				out = append(out, en.Outcome)
			}
			return out
		}
		require.Equal(t, []audit.Outcome{audit.Allowed, audit.Denied, audit.Failed}, outcomes("file.upload"))
		require.Equal(t, []audit.Outcome{audit.Allowed, audit.Allowed, audit.Denied, audit.Denied}, outcomes("file.read"))
		stored, err := filepath.Glob(filepath.Join(objects, "*[0-9a-f]")) // not fileblob's .attrs
		require.NoError(t, err)
		require.Len(t, stored, 1, "a refused or failed upload leaves no object")

		_, err = e.PatientFiles(admin, c.practice, uuid.New())
		require.Equal(t, errs.KindNotFound, errs.KindOf(err), "an unknown patient: %v", err)

		// An object altered in the bucket does not read, and says so in
		// the activity log.
		altered, err := e.PutFile(admin, c.practice, c.patient.ID, "altered.txt", "text/plain", strings.NewReader("to be altered"))
		require.NoError(t, err)
		obj := filepath.Join(objects, altered.ObjectKey)
		b, err := os.ReadFile(obj)
		require.NoError(t, err)
		b[len(b)-1] ^= 1
		require.NoError(t, os.WriteFile(obj, b, 0o600))
		_, err = read(admin, e, c, altered.ID)
		require.ErrorIs(t, err, files.ErrUnreadable)
		bad := entries(t, c, carebook.ActionUnreadable)
		require.Len(t, bad, 1)
		require.Equal(t, "files.object", bad[0].ResourceType)
		require.Equal(t, altered.ID.String(), bad[0].ResourceID)

		require.NoError(t, e.DeleteFile(admin, c.practice, f.ID))
		_, _, err = e.OpenFile(admin, c.practice, f.ID)
		require.Equal(t, errs.KindNotFound, errs.KindOf(err))

		_, err = c.e.PatientFiles(admin, c.practice, c.patient.ID) // no bucket
		require.Equal(t, errs.KindNotFound, errs.KindOf(err))
	})
}

// read opens file id through e as the caller in ctx and reads it whole.
func read(ctx context.Context, e *carebook.Engine, c *clinic, id files.ID) (string, error) {
	_, rc, err := e.OpenFile(ctx, c.practice, id)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

// TestUploadHoldsNoTransaction: while a client is still sending a file,
// other writes go through (on SQLite, whose one writer a transaction held
// over the upload would block): the upload runs outside the Engine's
// transactions, and only its record commits in one.
func TestUploadHoldsNoTransaction(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		e, _ := withFiles(t, c)
		p, err := e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		admin := callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))

		body, client := io.Pipe()
		done := make(chan error, 1)
		go func() {
			_, err := e.PutFile(admin, c.practice, c.patient.ID, "slow.bin", "application/octet-stream", body)
			done <- err
		}()
		_, err = client.Write(bytes.Repeat([]byte("x"), 64<<10)) // the upload has begun, and waits for more
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(c.staff, 20*time.Second)
		defer cancel()
		_, err = e.Scheduling.CreatePatient(ctx, c.practice, schedulingPatient("Grace", "Hopper"))
		require.NoError(t, err, "a write while the upload is in progress")
		require.NoError(t, client.Close())
		require.NoError(t, <-done)
	})
}

// withFiles returns an Engine over c's store that keeps files in a new
// directory, and the directory.
func withFiles(t *testing.T, c *clinic) (*carebook.Engine, string) {
	t.Helper()
	objects := filepath.Join(t.TempDir(), "objects")
	bucket, err := files.OpenBucket(c.staff, "file://"+filepath.ToSlash(objects)+"?create_dir=1")
	require.NoError(t, err)
	t.Cleanup(func() { bucket.Close() })
	return carebook.NewWithStore(c.st, carebook.WithClock(c.clk), carebook.WithFiles(bucket, files.Options{})), objects
}
