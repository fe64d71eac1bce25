package refserver

import (
	"context"
	"net/http"
	"strconv"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/errs"
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
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	const op = "refserver.listAudit"
	req := s.request(w, r)
	pid := req.practice()
	f := audit.Filter{Actor: req.str("actor"), PatientID: req.id("patient_id"), Action: req.str("action"),
		Outcome: audit.Outcome(req.str("outcome")), From: req.time("from"), To: req.time("to"),
		Limit: req.int("limit", audit.DefaultLimit, 1, audit.MaxLimit)}
	if v := req.str("after"); v != "" {
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 0 {
			req.fail(errs.Invalid(op, "after", "must be the non-negative seq of the last entry of the previous page"))
		}
		f.AfterSeq = n
	}
	if req.err != nil {
		return req.err
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
	return reply(w, http.StatusOK, out)
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
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	req := s.request(w, r)
	pid := req.practice()
	if req.err != nil {
		return req.err
	}
	b, err := s.engine.Audit.Verify(r.Context(), pid)
	if err != nil {
		return err
	}
	if b != nil {
		return reply(w, http.StatusOK, auditVerification{Seq: b.Seq, Reason: b.Reason})
	}
	return reply(w, http.StatusOK, auditVerification{OK: true})
}

type passwordChangeRequest struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

// changePassword replaces the signed-in account's password and ends every
// other session of the account. Both a change and a wrong old password are
// recorded in the account's practice's log as "password.change".
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	const op = "refserver.changePassword"
	req := s.request(w, r)
	c := req.signedIn()
	var in passwordChangeRequest
	if req.body(&in); req.err != nil {
		return req.err
	}
	if in.OldPassword == "" {
		return errs.Invalid(op, "old_password", "is required")
	}
	if err := s.limits.check(r, c.session.AccountID.String()); err != nil {
		return err
	}
	ctx := r.Context()
	e := entryOf(r, c.session.PracticeID, c.session.AccountID, "password.change", "account", c.session.AccountID.String(), audit.Allowed)
	// Checked and hashed before the transaction, which then only writes.
	pc, err := s.engine.Identity.PreparePasswordChange(ctx, c.session.AccountID, in.OldPassword, in.NewPassword)
	if errs.Is(err, errs.KindUnauthenticated) {
		e.Outcome = audit.Failed
		if rerr := record(ctx, s.engine, e); rerr != nil {
			s.log.ErrorContext(ctx, "cannot record a failed password change", "request_id", requestIDFrom(ctx), "error", rerr)
		}
	}
	if err != nil {
		return err
	}
	return req.noContent(s.change(ctx, e, func(ctx context.Context, _ *audit.Entry) error {
		return s.engine.Identity.FinishPasswordChange(ctx, pc, c.session.ID)
	}))
}
