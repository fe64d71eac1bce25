package ehr_test

import (
	"fmt"
	"time"

	"github.com/carebook/carebook/ehr"
	"github.com/google/uuid"
)

// A clinician opens an encounter, writes a note, then signs and locks it:
// each write is checked and linked into the patient's chain, which
// verifies; a change to the locked note is refused.
func ExampleCheckWrite() {
	at := time.Date(2030, 3, 5, 15, 0, 0, 0, time.UTC)
	practice, patient, dr := uuid.New(), uuid.New(), "dr-chen"
	enc := &ehr.Entry{ID: uuid.New(), PracticeID: practice, PatientID: patient, Kind: ehr.KindEncounter, Version: 1,
		Status: ehr.Draft, Body: &ehr.Encounter{Class: "ambulatory", Start: at}, AuthorID: dr, RecordedAt: at}
	note := &ehr.Entry{ID: uuid.New(), PracticeID: practice, PatientID: patient, EncounterID: &enc.ID, Kind: ehr.KindNote,
		Version: 1, Status: ehr.Draft, Body: &ehr.Note{Title: "Visit", Subjective: "Sore throat.", Plan: "Rest."},
		AuthorID: dr, RecordedAt: at}
	locked := *note
	locked.Version, locked.Status, locked.SignedBy, locked.SignedAt = 2, ehr.Locked, dr, &at

	var chain []*ehr.Entry
	write := func(prev, next *ehr.Entry) {
		if err := ehr.CheckWrite(prev, next, enc, at); err != nil {
			fmt.Println("refused:", err)
			return
		}
		var last *ehr.Entry
		if len(chain) > 0 {
			last = chain[len(chain)-1]
		}
		if err := ehr.Link(next, last); err != nil {
			fmt.Println(err)
			return
		}
		chain = append(chain, next)
		fmt.Printf("version %d of the %s, %s (chart seq %d)\n", next.Version, next.Kind, next.Status, next.Seq)
	}
	write(nil, enc)
	write(nil, note)
	write(note, &locked)
	edit := locked
	edit.Version, edit.Status, edit.SignedBy, edit.SignedAt = 3, ehr.Draft, "", nil
	write(&locked, &edit)
	fmt.Println("chain verifies:", ehr.VerifyChain(chain) == nil)
	// Output:
	// version 1 of the encounter, draft (chart seq 1)
	// version 1 of the note, draft (chart seq 2)
	// version 2 of the note, locked (chart seq 3)
	// refused: ehr.CheckWrite: the note is locked: it takes no change (a note is corrected by an addendum)
	// chain verifies: true
}
