package api

import (
	"net/http"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// verifyPracticeRequest is the body of POST …/verification.
type verifyPracticeRequest struct {
	NPI string `json:"npi"`
}

// verificationOut is a practice's verification; Verified false (and
// nothing else) when it has none.
type verificationOut struct {
	Verified     bool       `json:"verified"`
	NPI          string     `json:"npi,omitempty"`
	RegistryName string     `json:"registry_name,omitempty"`
	VerifiedAt   *time.Time `json:"verified_at,omitempty"`
	VerifiedBy   string     `json:"verified_by,omitempty"`
}

func verificationOf(v *tenant.Verification) verificationOut {
	at := v.VerifiedAt
	return verificationOut{Verified: true, NPI: v.NPI, RegistryName: v.RegistryName, VerifiedAt: &at, VerifiedBy: v.VerifiedBy}
}

// verifyPractice checks the practice's organisation NPI in the registry
// and records the verification (practice.manage).
func (s *server) verifyPractice(w http.ResponseWriter, r *http.Request) error {
	var in verifyPracticeRequest
	req := s.srv.Request(w, r)
	pid := req.Practice()
	req.Body(&in)
	if req.Err != nil {
		if pid == uuid.Nil {
			return req.Err
		}
		return s.engine.Refuse(r.Context(), carebook.Access{Permission: rbac.PracticeManage, PracticeID: pid}, req.Err)
	}
	v, err := s.engine.VerifyPractice(r.Context(), pid, in.NPI)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, verificationOf(v))
}

// getVerification is the practice's verification (any member).
func (s *server) getVerification(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	if req.Err != nil {
		return req.Err
	}
	v, err := s.engine.PracticeVerification(r.Context(), pid)
	if err != nil {
		return err
	}
	if v == nil {
		return refserver.Reply(w, http.StatusOK, verificationOut{})
	}
	return refserver.Reply(w, http.StatusOK, verificationOf(v))
}
