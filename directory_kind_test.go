package carebook_test

import (
	"context"
	"testing"
	"time"

	"github.com/carebook/carebook/directory"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/require"
)

// TestDirectoryNextOpenByKind: "within N days" and the order by soonest
// of a search by visit kind count that kind's next open time, and the hits
// show it. Bones's check-up (follow-up) opens tomorrow at 09:00; his new
// patient visit (8½ hours, longer than his March days) first on April 6 at
// 08:00, five weeks on. Later, nearer, opens for both on March 20.
func TestDirectoryNextOpenByKind(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		l := newListed(t, st)
		_, err := l.e.Scheduling.UpdateBlock(l.staff, l.practice, l.block(t).ID, l.daily(func(in *scheduling.BlockInput) {
			in.RRule, in.ExDates = "FREQ=DAILY;COUNT=30", []string{"2026-03-02"}
		}))
		require.NoError(t, err)
		_, err = l.e.Scheduling.CreateBlock(l.staff, l.practice, scheduling.NewBlock{ProviderID: l.bones, BlockInput: scheduling.BlockInput{
			LocationID: l.brooklyn, Start: l.at(4, 6, 8, 0), End: l.at(4, 6, 17, 0), RRule: "FREQ=DAILY;COUNT=2"}})
		require.NoError(t, err)
		np, err := l.e.Scheduling.CreateVisitType(l.staff, l.practice, scheduling.NewVisitType{Name: "New patient visit",
			Duration: 8*time.Hour + 30*time.Minute, Step: 30 * time.Minute})
		require.NoError(t, err)
		l.addLater(t, scheduling.BlockInput{Start: l.at(3, 20, 8, 0), End: l.at(3, 20, 17, 0)})
		require.NoError(t, l.e.PutDirectoryVisitType(l.admin, l.practice, directory.VisitSetting{VisitTypeID: l.vt, Kind: directory.VisitFollowUp}))
		require.NoError(t, l.e.PutDirectoryVisitType(l.admin, l.practice, directory.VisitSetting{VisitTypeID: np.ID, Kind: directory.VisitNewPatient}))
		l.publish(t)

		search := func(kind directory.VisitKind, within int, soonest bool) []directory.Hit {
			t.Helper()
			hits := l.backPain(t, func(q *directory.Query) { q.VisitKind, q.WithinDays, q.OrderBySoonest = kind, within, soonest })
			l.bookable(t, hits)
			return hits
		}
		// bones is Bones's hit among hits, nil when there is none.
		bones := func(hits []directory.Hit) *directory.Hit {
			for i := range hits {
				if hits[i].Provider.ID == l.bones {
					return &hits[i]
				}
			}
			return nil
		}
		names := func(hits []directory.Hit) (out []string) {
			for _, h := range hits {
				out = append(out, h.Provider.FamilyName)
			}
			return out
		}
		shows := func(h *directory.Hit, at time.Time, vt scheduling.VisitTypeID) {
			t.Helper()
			require.NotNil(t, h)
			require.NotNil(t, h.Location.NextOpen)
			require.Equal(t, at, h.Location.NextOpen.In(l.loc))
			require.Equal(t, vt, h.Location.NextOpenVisitType)
		}
		tomorrow, fiveWeeks := l.at(3, 3, 9, 0), l.at(4, 6, 8, 0)

		require.Nil(t, bones(search(directory.VisitNewPatient, 7, false)), "new patients: first in five weeks")
		shows(bones(search(directory.VisitNewPatient, 60, false)), fiveWeeks, np.ID)
		shows(bones(search(directory.VisitNewPatient, 0, false)), fiveWeeks, np.ID)
		shows(bones(search("", 7, false)), tomorrow, l.vt)
		shows(bones(search(directory.VisitFollowUp, 7, false)), tomorrow, l.vt)
		require.Equal(t, []string{"Bones", "Later"}, names(search("", 0, true)))
		hits := search(directory.VisitNewPatient, 0, true)
		require.Equal(t, []string{"Later", "Bones"}, names(hits), "by the new-patient times")
		shows(&hits[0], l.at(3, 20, 8, 0), np.ID)

		// The provider's page carries each kind's time.
		h, err := l.e.DirectoryProvider(context.Background(), l.bones)
		require.NoError(t, err)
		shows(h, tomorrow, l.vt)
		require.Len(t, h.Location.KindOpens, 2)
		h.Location.UseKind(directory.VisitNewPatient)
		shows(h, fiveWeeks, np.ID)

		// A patient books the new-patient time: the kind's moves to the
		// next day, in the booking's transaction; the follow-up's stays.
		_, err = l.e.Scheduling.Book(l.patientCtx, l.practice, scheduling.BookRequest{PatientID: l.patient.ID, ProviderID: l.bones,
			VisitTypeID: np.ID, Start: fiveWeeks})
		require.NoError(t, err)
		shows(bones(search(directory.VisitNewPatient, 60, false)), l.at(4, 7, 8, 0), np.ID)
		shows(bones(search("", 7, false)), tomorrow, l.vt)
	})
}
