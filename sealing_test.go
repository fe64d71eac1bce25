package carebook_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestMovedCiphertext: a patient's sealed fields copied onto another
// patient's row in SQL do not open there: the read fails with KindConflict
// naming the row (no crash, no wrong patient shown), the attempt is logged
// as failed, and a "phi.unreadable" entry names the row; the patient the
// ciphertext came from still reads. The same holds for a ciphertext
// copied from another practice.
func TestMovedCiphertext(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		p, err := c.e.Tenants.Practice(c.staff, c.practice)
		require.NoError(t, err)
		desk := callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(p.GroupID, p.ID))
		victim, err := c.e.Scheduling.CreatePatient(c.staff, c.practice, schedulingPatient("Alan", "Turing"))
		require.NoError(t, err)

		copySealed := func(fromPractice, from, to string) {
			t.Helper()
			_, err := st.DB().ExecContext(c.staff, `UPDATE patients SET sealed = (SELECT sealed FROM patients WHERE practice_id = ? AND id = ?)
WHERE practice_id = ? AND id = ?`, fromPractice, from, c.practice.String(), to)
			require.NoError(t, err)
		}
		copySealed(c.practice.String(), c.patient.ID.String(), victim.ID.String())
		_, err = c.e.Patient(desk, c.practice, victim.ID)
		require.Equal(t, errs.KindConflict, errs.KindOf(err), "%v", err)
		require.Contains(t, err.Error(), "patients.sealed of row "+victim.ID.String())
		got, err := c.e.Patient(desk, c.practice, c.patient.ID)
		require.NoError(t, err, "the patient the ciphertext came from")
		require.Equal(t, c.patient.GivenName, got.GivenName)

		unreadable := entries(t, c, carebook.ActionUnreadable)
		require.Len(t, unreadable, 1)
		require.Equal(t, audit.Failed, unreadable[0].Outcome)
		require.Equal(t, "patients.sealed", unreadable[0].ResourceType)
		require.Equal(t, victim.ID.String(), unreadable[0].ResourceID)
		who, _ := carebook.CallerFrom(desk)
		require.Equal(t, who.Actor.ID, unreadable[0].Actor)
		var outcomes []audit.Outcome
		for _, e := range entries(t, c, "patient.read") {
			outcomes = append(outcomes, e.Outcome)
		}
		require.Equal(t, []audit.Outcome{audit.Failed, audit.Allowed}, outcomes)

		// From another practice's patient: the practice is bound in too.
		other := newClinic(t, st)
		copySealed(other.practice.String(), other.patient.ID.String(), victim.ID.String())
		_, err = c.e.Scheduling.Patient(c.staff, c.practice, victim.ID)
		require.Equal(t, errs.KindConflict, errs.KindOf(err), "%v", err)
		require.True(t, strings.Contains(err.Error(), "does not open"), "%v", err)
		require.Len(t, entries(t, c, carebook.ActionUnreadable), 2)
	})
}

// TestReseal: after a practice's key is rotated, Reseal moves every
// patient row to the new key, and seals a row an earlier release left in
// clear (which reads and is found by phone before and after); a run cut
// short (one batch, as if killed) is finished by the next, and a run with
// nothing left rewrites nothing. Every patient reads the same throughout.
func TestReseal(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		ctx := c.staff
		for i := range 24 {
			_, err := c.e.Scheduling.CreatePatient(ctx, c.practice, schedulingPatient("Pat", fmt.Sprintf("Number%02d", i)))
			require.NoError(t, err)
		}
		legacy := uuid.New()
		_, err := st.DB().ExecContext(ctx, `INSERT INTO patients (practice_id, id, given_name, family_name, given_key, family_key,
	birth_date, phone, email, language, created_at, updated_at)
VALUES (?, ?, 'Old', 'Row', 'old', 'row', '1950-01-01', '+12025550999', 'old@example.com', 'en', ?, ?)`,
			c.practice, legacy, c.clk.Now().UTC().Format(time.RFC3339Nano), c.clk.Now().UTC().Format(time.RFC3339Nano))
		require.NoError(t, err)
		byPhone := func() []uuid.UUID {
			ids, err := st.Notify.PatientsByPhone(ctx, c.practice, "+12025550999")
			require.NoError(t, err)
			return ids
		}
		require.Equal(t, []uuid.UUID{legacy}, byPhone(), "a clear row is found by phone before it is sealed")
		for _, f := range []scheduling.PatientFilter{{Name: "OL"}, {Name: "row"}, {FamilyName: "ROW", BirthDate: "1950-01-01"}, {Email: "old@example.com"}} {
			found, err := c.e.Scheduling.Patients(ctx, c.practice, f)
			require.NoError(t, err)
			require.Len(t, found, 1, "%+v", f)
			require.Equal(t, legacy, found[0].ID)
		}
		before, err := c.e.Scheduling.Patients(ctx, c.practice, scheduling.PatientFilter{})
		require.NoError(t, err)
		require.Len(t, before, 26)

		c.book(t, c.at(3, 10, 9, 0)) // its messages are sealed too
		filing, _ := withFiles(t, c)
		f, err := filing.Files.Put(ctx, c.practice, c.patient.ID, "scan.pdf", "application/pdf", strings.NewReader("scan"))
		require.NoError(t, err)
		countsOf := func(table string) map[int64]int {
			rows, err := st.DB().QueryContext(ctx, `SELECT sealed_key, COUNT(*) FROM `+table+` WHERE practice_id = ? GROUP BY sealed_key`, c.practice)
			require.NoError(t, err)
			defer rows.Close()
			out := map[int64]int{}
			for rows.Next() {
				var k int64
				var n int
				require.NoError(t, rows.Scan(&k, &n))
				out[k] = n
			}
			return out
		}
		keyCounts := func() map[int64]int { return countsOf("patients") }
		messages := 0
		for _, n := range countsOf("notify_messages") {
			messages += n
		}
		require.NotZero(t, messages)
		// One message as an earlier release wrote it: in clear.
		_, err = st.DB().ExecContext(ctx, `UPDATE notify_messages SET sealed = NULL, sealed_key = 0, to_addr = '+12025550998',
	subject = '', text = 'written in clear', html = '' WHERE id = (SELECT id FROM notify_messages WHERE practice_id = ? ORDER BY id LIMIT 1)`, c.practice)
		require.NoError(t, err)
		old, err := c.e.Keys.PrimaryKeyID(ctx, c.practice)
		require.NoError(t, err)
		require.Equal(t, map[int64]int{int64(old): 25, 0: 1}, keyCounts())
		require.Equal(t, 1, countsOf("notify_messages")[0])

		require.NoError(t, c.e.Keys.Rotate(ctx, c.practice))
		primary, err := c.e.Keys.PrimaryKeyID(ctx, c.practice)
		require.NoError(t, err)
		require.NotEqual(t, old, primary)
		n, err := st.Scheduling.ResealPatients(ctx, c.practice, 10) // killed after one batch
		require.NoError(t, err)
		require.Equal(t, 10, n)
		require.Equal(t, 10, keyCounts()[int64(primary)])
		n, err = c.e.Reseal(ctx, c.practice)
		require.NoError(t, err)
		require.Equal(t, 16+messages+1, n, "the rest of the patients, the messages and the file, each once")
		require.Equal(t, map[int64]int{int64(primary): 26}, keyCounts())
		require.Equal(t, map[int64]int{int64(primary): messages}, countsOf("notify_messages"))
		require.Equal(t, map[int64]int{int64(primary): 1}, countsOf("files"))
		got, err := filing.Files.Get(ctx, c.practice, f.ID)
		require.NoError(t, err)
		require.Equal(t, "scan.pdf", got.Name)
		box, err := c.e.Notify.Messages(ctx, c.practice, notify.MessageFilter{Limit: 100})
		require.NoError(t, err)
		require.Len(t, box, messages)
		legacyRead := false
		for _, m := range box {
			if m.Text == "written in clear" {
				legacyRead = m.To == "+12025550998"
				continue
			}
			require.Contains(t, []string{c.patient.Phone, c.patient.Email, ""}, m.To, "message %s", m.Key)
		}
		require.True(t, legacyRead, "the message written in clear reads sealed")
		n, err = c.e.Reseal(ctx, c.practice)
		require.NoError(t, err)
		require.Zero(t, n)

		after, err := c.e.Scheduling.Patients(ctx, c.practice, scheduling.PatientFilter{})
		require.NoError(t, err)
		require.Len(t, after, len(before))
		for i := range before {
			require.Equal(t, before[i].ID, after[i].ID)
			require.Equal(t, before[i].GivenName+before[i].FamilyName+before[i].BirthDate+before[i].Phone+before[i].Email,
				after[i].GivenName+after[i].FamilyName+after[i].BirthDate+after[i].Phone+after[i].Email)
		}
		require.Equal(t, []uuid.UUID{legacy}, byPhone(), "the sealed row is found through its new token")
		var clear int
		require.NoError(t, st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM patients WHERE practice_id = ? AND
	(given_name <> '' OR family_name <> '' OR given_key <> '' OR family_key <> '' OR birth_date <> '' OR phone <> '' OR email <> '')`,
			c.practice).Scan(&clear))
		require.Zero(t, clear, "clear columns left filled")

		n, err = c.e.RotateKeys(ctx, c.practice)
		require.NoError(t, err)
		require.Equal(t, 26+messages+1, n)
	})
}

// TestShredPractice: once a practice's keys are shredded, nothing sealed
// for it opens: its patients read as gone (KindNotFound, saying why), its
// lookups find no one, its files do not open, and a fresh Engine (no
// cache) sees the same; another practice is untouched.
func TestShredPractice(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		other := newClinic(t, st)
		ctx := c.staff
		e, _ := withFiles(t, c)
		f, err := e.Files.Put(ctx, c.practice, c.patient.ID, "scan.pdf", "application/pdf", strings.NewReader("scan"))
		require.NoError(t, err)

		require.NoError(t, e.Keys.Shred(ctx, c.practice))
		for _, eng := range []*carebook.Engine{e, carebook.NewWithStore(st)} {
			_, err = eng.Scheduling.Patient(ctx, c.practice, c.patient.ID)
			require.Equal(t, errs.KindNotFound, errs.KindOf(err), "%v", err)
			require.Contains(t, err.Error(), "shredded")
			ids, err := st.Notify.PatientsByPhone(ctx, c.practice, c.patient.Phone)
			require.NoError(t, err)
			require.Empty(t, ids)
		}
		if _, err := e.Files.Open(ctx, c.practice, f.ID); err == nil {
			t.Fatal("a shredded practice's file opened")
		}
		got, err := other.e.Scheduling.Patient(other.staff, other.practice, other.patient.ID)
		require.NoError(t, err, "another practice")
		require.Equal(t, other.patient.FamilyName, got.FamilyName)
	})
}
