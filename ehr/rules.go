package ehr

import (
	"fmt"
	"slices"
	"time"

	"github.com/carebook/carebook/errs"
)

// The statuses each kind may take, and the changes allowed between them
// (from → to). A status missing on the left is final: Locked and
// EnteredInError take no change.
var (
	noteFlow = map[Status][]Status{
		"":     {Draft, Signed, Locked},
		Draft:  {Draft, Signed, Locked, EnteredInError},
		Signed: {Draft, Locked, EnteredInError}, // a correction goes back to draft
	}
	encounterFlow = map[Status][]Status{
		"":    {Draft, Locked},
		Draft: {Draft, Locked, EnteredInError},
	}
	listFlow = map[Status][]Status{
		"":       {Active, Inactive},
		Active:   {Active, Inactive, EnteredInError},
		Inactive: {Active, Inactive, EnteredInError},
	}
)

// flow returns the status changes of kind k.
func flow(k Kind) map[Status][]Status {
	switch k {
	case KindNote:
		return noteFlow
	case KindEncounter:
		return encounterFlow
	}
	return listFlow
}

// CheckWrite decides whether next may be written as the new version of an
// entry whose current version is prev (nil for a new entry), recorded in
// encounter (the current version of next's encounter, nil if none), at
// now. It checks, naming the field at fault:
//
//   - the body: of next's kind, and valid (KindInvalid);
//   - the encounter: notes and vital signs are recorded in one, an
//     encounter in none (KindInvalid);
//   - the version: 1 for a new entry, prev's plus one after it, with the
//     same practice, patient, kind and encounter (KindInvalid);
//   - the status: one the kind may take, and a change its flow allows; a
//     locked entry, or one entered in error, refuses every change
//     (KindConflict); a signed note is corrected only by who signed it
//     (KindForbidden);
//   - the signature: a signed or locked version names who signed it and
//     when, a draft does not (KindInvalid);
//   - the encounter: the patient's, and not locked (KindConflict: a
//     locked encounter takes no new entry, not even a vital sign, and
//     none of its entries changes).
//
// A store runs it inside the write's transaction, over the versions it
// read there, so that no path changes a locked entry.
func CheckWrite(prev, next, encounter *Entry, now time.Time) error {
	const op = "ehr.CheckWrite"
	if next.Body == nil || next.Body.Kind() != next.Kind {
		return errs.Invalid(op, "kind", "the body is not of the entry's kind")
	}
	if err := next.Body.Validate(op, now); err != nil {
		return err
	}
	switch {
	case next.Kind == KindEncounter && next.EncounterID != nil:
		return errs.Invalid(op, "encounter_id", "an encounter is in no other encounter")
	case (next.Kind == KindNote || next.Kind == KindVital) && next.EncounterID == nil:
		return errs.Invalid(op, "encounter_id", fmt.Sprintf("a %s is recorded in an encounter", next.Kind))
	}
	from := Status("")
	if prev == nil {
		if next.Version != 1 {
			return errs.Invalid(op, "version", "a new entry's first version is 1")
		}
	} else {
		switch {
		case prev.Status == Locked:
			return errs.Conflict(op, fmt.Sprintf("the %s is locked: it takes no change (a note is corrected by an addendum)", prev.Kind))
		case prev.Status == EnteredInError:
			return errs.Conflict(op, fmt.Sprintf("the %s was entered in error: it takes no change", prev.Kind))
		case next.ID != prev.ID || next.PracticeID != prev.PracticeID || next.PatientID != prev.PatientID || next.Kind != prev.Kind:
			return errs.Invalid(op, "id", "a version belongs to the same entry, patient and kind as the one before")
		case !sameEncounter(prev.EncounterID, next.EncounterID):
			return errs.Invalid(op, "encounter_id", "an entry stays in the encounter it was recorded in")
		case next.Version != prev.Version+1:
			return errs.Conflict(op, fmt.Sprintf("the %s changed meanwhile: version %d is the current one", prev.Kind, prev.Version))
		case prev.Status == Signed && next.Status == Draft && next.AuthorID != prev.SignedBy:
			return errs.E(errs.KindForbidden, op, "a signed note is corrected only by who signed it; others add an addendum")
		}
		from = prev.Status
	}
	if !slices.Contains(flow(next.Kind)[from], next.Status) {
		if from == "" {
			return errs.Invalid(op, "status", fmt.Sprintf("a %s cannot start as %q", next.Kind, next.Status))
		}
		return errs.Invalid(op, "status", fmt.Sprintf("a %s cannot go from %q to %q", next.Kind, from, next.Status))
	}
	signed := Signs(next.Kind, next.Status)
	switch {
	case signed && (next.SignedBy == "" || next.SignedAt == nil):
		return errs.Invalid(op, "signed_by", "a signed or locked version names who signed it, and when")
	case !signed && next.Status != EnteredInError && (next.SignedBy != "" || next.SignedAt != nil):
		return errs.Invalid(op, "signed_by", "only a signed or locked version carries a signature")
	case next.AuthorID == "":
		return errs.Invalid(op, "author_id", "a version names who wrote it")
	}
	if n, ok := next.Body.(*Note); ok && n.AddendumTo != nil && *n.AddendumTo == next.ID {
		return errs.Invalid(op, "addendum_to", "a note is no addendum to itself")
	}
	if next.EncounterID != nil {
		switch {
		case encounter == nil || encounter.ID != *next.EncounterID || encounter.Kind != KindEncounter:
			return errs.NotFound(op, "encounter")
		case encounter.PatientID != next.PatientID || encounter.PracticeID != next.PracticeID:
			return errs.Invalid(op, "encounter_id", "the encounter is another patient's")
		case encounter.Status == Locked:
			return errs.Conflict(op, "the encounter is locked: it takes no new entry and no change")
		case encounter.Status == EnteredInError:
			return errs.Conflict(op, "the encounter was entered in error")
		}
	}
	return nil
}

// CheckAddendum decides whether next, a note whose body names AddendumTo,
// may be written as an addendum to target, the current version of the
// note it names (nil if there is none): target must be a note of the same
// patient (KindNotFound otherwise, as if it were not there), not entered
// in error, and not itself an addendum (KindInvalid naming addendum_to:
// an addendum corrects a note, not another addendum). A note that names
// no addendum passes.
func CheckAddendum(next, target *Entry) error {
	const op = "ehr.CheckAddendum"
	n, ok := next.Body.(*Note)
	if !ok || n.AddendumTo == nil {
		return nil
	}
	if target == nil || target.Kind != KindNote || target.PatientID != next.PatientID || target.PracticeID != next.PracticeID {
		return errs.NotFound(op, "the note the addendum corrects")
	}
	if target.Status == EnteredInError {
		return errs.Invalid(op, "addendum_to", "the note was entered in error")
	}
	if t, ok := target.Body.(*Note); ok && t.AddendumTo != nil {
		return errs.Invalid(op, "addendum_to", "an addendum corrects a note, not another addendum")
	}
	return nil
}

// Signs reports whether a version of kind k in status s carries a
// signature: a signed one, and a locked note or encounter (locking is
// signing for good).
func Signs(k Kind, s Status) bool {
	return s == Signed || (s == Locked && (k == KindNote || k == KindEncounter))
}

func sameEncounter(a, b *EntryID) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// Link makes e the version after prev in its patient's chain (prev nil for
// the chart's first version): it sets Seq, PrevHash and Hash.
func Link(e, prev *Entry) error {
	e.Seq, e.PrevHash = 1, ZeroHash
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	h, err := e.ComputeHash()
	e.Hash = h
	return err
}

// VerifyChain checks the versions of one patient's chart, in Seq order: Seq
// runs 1, 2, 3… without a gap, each PrevHash is the Hash of the version
// before, and each Hash is the version's own. The first fault is an error
// of KindConflict naming the version's Seq: a version edited, inserted or
// removed behind the engine's back.
func VerifyChain(versions []*Entry) error {
	const op = "ehr.VerifyChain"
	prevHash := ZeroHash
	for i, v := range versions {
		want := int64(i + 1)
		switch {
		case v.Seq != want:
			return errs.Conflict(op, fmt.Sprintf("version %d of the chart is missing (found %d in its place)", want, v.Seq))
		case v.PrevHash != prevHash:
			return errs.Conflict(op, fmt.Sprintf("version %d does not follow version %d", v.Seq, v.Seq-1))
		}
		h, err := v.ComputeHash()
		if err != nil {
			return err
		}
		if h != v.Hash {
			return errs.Conflict(op, fmt.Sprintf("version %d was changed after it was written", v.Seq))
		}
		prevHash = v.Hash
	}
	return nil
}

// Visible returns the entries a reader may see: all of them for a reader
// who may see restricted entries, else those not Restricted. Every read
// path of the chart (the chart, search, exports, the portal, FHIR) filters
// through it.
func Visible(entries []*Entry, seeRestricted bool) []*Entry {
	if seeRestricted {
		return entries
	}
	out := make([]*Entry, 0, len(entries))
	for _, e := range entries {
		if !e.Restricted {
			out = append(out, e)
		}
	}
	return out
}
