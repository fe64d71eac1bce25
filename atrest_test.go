package carebook_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/files"
	"github.com/carebook/carebook/files/s3test"
	"github.com/carebook/carebook/identity"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { s3test.Main(m) }

// TestNothingInClearAtRest is issue 11's proof: it writes a patient whose
// names, birth date, phone and email are marker strings, books visits for
// them (so the outbox holds messages naming them), charts an encounter, a
// note and a problem with marked text, enrolls an account in TOTP, and
// records the patient's rights (amendment, record and disclosure texts)
// with marked text, stores files named and filled with markers in a local
// directory and in an S3 gateway; then it reads every column of every
// row of every table, and every stored object, and finds no marker in
// clear (as text, in any case, nor as the hex of a bytea).
func TestNothingInClearAtRest(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		ctx := c.staff
		markers := []string{"Zqxgivenmark", "Zqxfamilymark", "1931-07-17", "2025550177", "zqxmail@example.org",
			"zqxfilename", "ZQX file content marker", "ZQX second file marker"}

		pt, err := c.e.Scheduling.CreatePatient(ctx, c.practice, scheduling.PatientInput{GivenName: markers[0], FamilyName: markers[1],
			BirthDate: markers[2], Phone: "+1" + markers[3], Email: markers[4], Language: "en"})
		require.NoError(t, err)
		for _, day := range []int{10, 11} {
			_, err := c.e.Scheduling.Book(ctx, c.practice, scheduling.BookRequest{PatientID: pt.ID, ProviderID: c.provider,
				VisitTypeID: c.vt, Start: c.at(3, day, 10, 0)})
			require.NoError(t, err)
		}
		box, err := c.e.Notify.Messages(ctx, c.practice, notify.MessageFilter{Limit: 100})
		require.NoError(t, err)
		require.NotEmpty(t, box, "the bookings wrote messages")
		named := 0
		for _, m := range box {
			if strings.Contains(m.To, markers[3]) || m.To == markers[4] {
				named++
			}
		}
		require.NotZero(t, named, "the messages go to the patient's phone and email")

		acct, _, err := c.e.Identity.Register(ctx, identity.Registration{PracticeID: c.practice, Email: "scan@example.com",
			Password: "correct horse battery"})
		require.NoError(t, err)
		enr, err := c.e.Identity.EnrollTOTP(ctx, acct.ID)
		require.NoError(t, err)
		markers = append(markers, enr.Secret)

		dirObjects := filepath.Join(t.TempDir(), "objects")
		dirBucket, err := files.OpenBucket(ctx, "file://"+filepath.ToSlash(dirObjects)+"?create_dir=1")
		require.NoError(t, err)
		t.Cleanup(func() { dirBucket.Close() })
		s3Bucket, s3Objects := s3test.Bucket(t)
		for i, b := range []*carebook.Engine{
			carebook.NewWithStore(st, carebook.WithClock(c.clk), carebook.WithFiles(dirBucket, files.Options{})),
			carebook.NewWithStore(st, carebook.WithClock(c.clk), carebook.WithFiles(s3Bucket, files.Options{})),
		} {
			_, err := b.Files.Put(ctx, c.practice, pt.ID, markers[5]+".txt", "text/plain", strings.NewReader(markers[6+i]))
			require.NoError(t, err)
		}

		// A chart: an encounter, a note and a problem, marked.
		p, err := c.e.Tenants.Practice(ctx, c.practice)
		require.NoError(t, err)
		clinician := callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(p.GroupID, p.ID))
		enc, err := c.e.WriteChart(clinician, c.practice, carebook.ChartWrite{PatientID: pt.ID, Status: ehr.Draft,
			Body: &ehr.Encounter{Class: "ambulatory", Reason: "zqx reason marker", Start: c.clk.Now()}})
		require.NoError(t, err)
		note, err := c.e.WriteChart(clinician, c.practice, carebook.ChartWrite{PatientID: pt.ID, EncounterID: &enc.ID, Status: ehr.Locked,
			Body: &ehr.Note{Title: "zqx note title", Subjective: "zqx subjective marker", Plan: "zqx plan marker"}})
		require.NoError(t, err)
		_, err = c.e.WriteChart(clinician, c.practice, carebook.ChartWrite{PatientID: pt.ID, Status: ehr.Active, Restricted: true,
			Body: &ehr.Problem{Coding: ehr.Coding{Display: "zqx diagnosis marker"}, ClinicalStatus: "active"}})
		require.NoError(t, err)
		markers = append(markers, "zqx reason marker", "zqx note title", "zqx subjective marker", "zqx plan marker", "zqx diagnosis marker")

		// The patient's rights: an amendment request denied, disagreed with
		// and rebutted; a record request extended and denied; a disclosure.
		self := callerWith(t, c, rbac.PatientRoleID, rbac.SelfScope(p.GroupID, p.ID, pt.ID))
		am, err := c.e.RequestAmendment(self, c.practice, pt.ID, []ehr.EntryID{note.ID}, "zqx amendment reason")
		require.NoError(t, err)
		_, err = c.e.ExtendAmendment(clinician, c.practice, pt.ID, am.ID, "zqx extension reason")
		require.NoError(t, err)
		_, err = c.e.DecideAmendment(clinician, c.practice, pt.ID, am.ID, carebook.AmendmentDecision{Basis: ehr.Accurate, Reason: "zqx denial reason"})
		require.NoError(t, err)
		_, err = c.e.DisagreeAmendment(self, c.practice, pt.ID, am.ID, "zqx disagreement")
		require.NoError(t, err)
		_, err = c.e.RebutAmendment(clinician, c.practice, pt.ID, am.ID, "zqx rebuttal")
		require.NoError(t, err)
		accepted, err := c.e.RequestAmendment(self, c.practice, pt.ID, []ehr.EntryID{note.ID}, "zqx second reason")
		require.NoError(t, err)
		_, err = c.e.DecideAmendment(clinician, c.practice, pt.ID, accepted.ID, carebook.AmendmentDecision{Accept: true, Amendment: "zqx amendment text"})
		require.NoError(t, err)
		rr, err := c.e.RequestRecordCopy(self, c.practice, pt.ID, ehr.FHIR)
		require.NoError(t, err)
		_, err = c.e.ExtendRecordRequest(clinician, c.practice, pt.ID, rr.ID, "zqx access extension")
		require.NoError(t, err)
		_, err = c.e.DenyRecordRequest(clinician, c.practice, pt.ID, rr.ID, "zqx access denial")
		require.NoError(t, err)
		_, err = c.e.RecordDisclosure(clinician, c.practice, pt.ID, carebook.DisclosureInput{DisclosedAt: c.clk.Now(),
			Recipient: "zqx recipient", RecipientAddress: "zqx address", Description: "zqx description", Purpose: "zqx purpose"})
		require.NoError(t, err)
		locs, err := c.e.Tenants.Locations(ctx, c.practice)
		require.NoError(t, err)
		away := callerWith(t, c, rbac.ClinicianID, rbac.LocationScope(p.GroupID, p.ID, locs[0].ID))
		_, err = c.e.BreakGlass(away, c.practice, pt.ID, "zqx break-glass reason")
		require.NoError(t, err)
		markers = append(markers, "zqx break-glass reason")
		markers = append(markers, "zqx amendment reason", "zqx extension reason", "zqx denial reason", "zqx disagreement",
			"zqx rebuttal", "zqx second reason", "zqx amendment text", "zqx access extension", "zqx access denial",
			"zqx recipient", "zqx address", "zqx description", "zqx purpose")

		var found []string
		check := func(where string, b []byte) {
			low := bytes.ToLower(b)
			for _, m := range markers {
				lm := []byte(strings.ToLower(m))
				if bytes.Contains(low, lm) || bytes.Contains(low, []byte(hex.EncodeToString(lm))) {
					found = append(found, m+" in "+where)
				}
			}
		}
		check("a check of the check", []byte("x"+strings.ToUpper(markers[1])+"x"))
		require.Len(t, found, 1, "the scan sees a marker, whatever its case")
		found = nil
		for _, table := range tables(t, st) {
			for i, row := range rowsAsBytes(t, st, table) {
				check(table+" row "+strconv.Itoa(i), row)
			}
		}
		for _, dir := range []string{dirObjects, s3Objects} {
			n := 0
			require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				n++
				check("object "+p, b)
				check("object name "+p, []byte(p))
				return err
			}))
			require.NotZero(t, n, "no object stored under %s", dir)
		}
		require.Empty(t, found, "markers in clear at rest")

		// The data is there, and reads back through the Engine.
		got, err := c.e.Scheduling.Patient(ctx, c.practice, pt.ID)
		require.NoError(t, err)
		require.Equal(t, markers[0], got.GivenName)
		require.Equal(t, markers[4], got.Email)
	})
}

// tables lists the store's tables.
func tables(t *testing.T, st *sqlstore.Store) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if st.Dialect() == sqlstore.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`
	}
	rows, err := st.DB().QueryContext(context.Background(), q)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		out = append(out, n)
	}
	require.NoError(t, rows.Err())
	require.Contains(t, out, "patients")
	return out
}

// rowsAsBytes returns every row of table as bytes: on PostgreSQL the row's
// text form (bytea columns in hex), on SQLite each column cast to a blob.
func rowsAsBytes(t *testing.T, st *sqlstore.Store, table string) [][]byte {
	t.Helper()
	ctx := context.Background()
	var q string
	if st.Dialect() == sqlstore.Postgres {
		q = `SELECT t::text FROM "` + table + `" AS t`
	} else {
		cols, err := st.DB().QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
		require.NoError(t, err)
		var parts []string
		for cols.Next() {
			var n string
			require.NoError(t, cols.Scan(&n))
			parts = append(parts, `COALESCE(CAST("`+n+`" AS BLOB), X'')`)
		}
		require.NoError(t, cols.Close())
		q = `SELECT ` + strings.Join(parts, ` || X'1f' || `) + ` FROM "` + table + `"`
	}
	rows, err := st.DB().QueryContext(ctx, q)
	require.NoError(t, err)
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		require.NoError(t, rows.Scan(&b))
		out = append(out, b)
	}
	require.NoError(t, rows.Err())
	return out
}
