package audit_test

import (
	"testing"
	"time"

	"github.com/carebook/carebook/audit"
	"github.com/google/uuid"
)

func TestSealAndHash(t *testing.T) {
	patient := uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8057")
	e := audit.Entry{
		ID:         uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8058"),
		PracticeID: uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8059"),
		At:         time.Date(2031, 3, 10, 10, 0, 0, 123456789, time.FixedZone("x", 3600)),
		Actor:      "acct-1", Action: "patient.read", PatientID: &patient, Outcome: audit.Allowed,
	}
	e.Seal(1, audit.ZeroHash, time.Time{})
	if e.Seq != 1 || e.PrevHash != audit.ZeroHash || len(audit.ZeroHash) != 64 {
		t.Fatalf("Seal set seq %d, prev %s", e.Seq, e.PrevHash)
	}
	if e.At.Location() != time.UTC || e.At.Nanosecond() != 123456000 {
		t.Fatalf("At = %v, want UTC to the microsecond", e.At)
	}
	if e.Hash != e.ComputeHash() || len(e.Hash) != 64 {
		t.Fatalf("Hash = %q", e.Hash)
	}
	// Every field is covered: changing any one changes the hash.
	for name, mod := range map[string]func(*audit.Entry){
		"id":       func(x *audit.Entry) { x.ID = uuid.Nil },
		"seq":      func(x *audit.Entry) { x.Seq = 2 },
		"at":       func(x *audit.Entry) { x.At = x.At.Add(time.Microsecond) },
		"actor":    func(x *audit.Entry) { x.Actor = "acct-2" },
		"role":     func(x *audit.Entry) { x.Role = "admin" },
		"patient":  func(x *audit.Entry) { x.PatientID = nil },
		"outcome":  func(x *audit.Entry) { x.Outcome = audit.Denied },
		"prev":     func(x *audit.Entry) { x.PrevHash = x.Hash },
		"boundary": func(x *audit.Entry) { x.Actor, x.Role = "acct-", "1" },
	} {
		x := e
		mod(&x)
		if x.ComputeHash() == e.Hash {
			t.Errorf("changing %s keeps the hash", name)
		}
	}
	// At never goes below the previous entry's.
	later := e.At.Add(time.Hour)
	e.Seal(2, e.Hash, later)
	if !e.At.Equal(later) {
		t.Fatalf("At = %v, want it raised to %v", e.At, later)
	}
}
