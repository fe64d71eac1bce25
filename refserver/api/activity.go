package api

import (
	"net/http"
	"strconv"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
)

// The activity log endpoints, for practice administrators (audit.read),
// and the password change, which the log records.

// auditPage is a page of the activity log; NextAfter is the Seq to pass as
// after for the next page, absent on the last one.
type auditPage struct {
	Items     []*audit.Entry `json:"items"`
	NextAfter *int64         `json:"next_after,omitempty"`
}

// listAudit answers the practice's activity log by Seq, filtered by actor,
// patient_id, action, outcome and the time range [from, to), a page at a
// time (after is the last Seq of the previous page).
func (s *server) listAudit(w http.ResponseWriter, r *http.Request) error {
	const op = "refserver.listAudit"
	req := s.srv.Request(w, r)
	pid := req.Practice()
	f := audit.Filter{Actor: req.Str("actor"), PatientID: req.ID("patient_id"), Action: req.Str("action"),
		Outcome: audit.Outcome(req.Str("outcome")), From: req.Time("from"), To: req.Time("to"),
		Limit: req.Int("limit", audit.DefaultLimit, 1, audit.MaxLimit)}
	if v := req.Str("after"); v != "" {
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 0 {
			req.Fail(errs.Invalid(op, "after", "must be the non-negative seq of the last entry of the previous page"))
		}
		f.AfterSeq = n
	}
	if req.Err != nil {
		return req.Err
	}
	entries, err := s.engine.Audit.Query(r.Context(), pid, f)
	if err != nil {
		return err
	}
	out := auditPage{Items: entries}
	if out.Items == nil {
		out.Items = []*audit.Entry{}
	}
	if n := len(entries); n == f.Limit {
		last := entries[n-1].Seq
		out.NextAfter = &last
	}
	return refserver.Reply(w, http.StatusOK, out)
}

// auditVerification is the answer of verifyAudit: ok, or the first broken
// link of the chain.
type auditVerification struct {
	OK     bool         `json:"ok"`
	Seq    int64        `json:"seq,omitempty"`
	Reason audit.Reason `json:"reason,omitempty"`
}

// verifyAudit walks the practice's hash chain and answers whether it is
// whole.
func (s *server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	if req.Err != nil {
		return req.Err
	}
	b, err := s.engine.Audit.Verify(r.Context(), pid)
	if err != nil {
		return err
	}
	if b != nil {
		return refserver.Reply(w, http.StatusOK, auditVerification{Seq: b.Seq, Reason: b.Reason})
	}
	return refserver.Reply(w, http.StatusOK, auditVerification{OK: true})
}

type passwordChangeRequest struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

// changePassword replaces the signed-in account's password and ends every
// other session of the account (Engine.ChangePassword, which records both
// a change and a wrong old password as "password.change"), within the
// attempts CheckAttempt allows.
func (s *server) changePassword(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	c := req.SignedIn()
	var in passwordChangeRequest
	if req.Body(&in); req.Err != nil {
		return req.Err
	}
	if in.OldPassword == "" {
		return errs.Invalid("refserver.changePassword", "old_password", "is required")
	}
	if err := s.srv.CheckAttempt(r, c.Session.AccountID.String()); err != nil {
		return err
	}
	return req.NoContent(s.engine.ChangePassword(r.Context(), c.Session, in.OldPassword, in.NewPassword))
}
