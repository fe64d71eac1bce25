package api

import (
	"net/http"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/refserver"
	"github.com/google/uuid"
)

// The patient's rights over their record: amendment requests (45 CFR
// 164.526), requests for a copy of the record (164.524) and the
// accounting of disclosures (164.528). The routes are refserver.Guarded:
// each handler calls one guarded Engine operation, which authorizes the
// caller (patient.clinical.read to make and read requests about a record,
// a patient their own; patient.rights.manage to decide them, record
// disclosures and list what is overdue) and writes the one activity-log
// entry. A body or an ID that cannot be read is refused through
// Engine.RefuseRights, so that the access is decided (403, 404) before
// the input is (400), with one entry either way.

// amendmentRequest is the body of a new amendment request.
type amendmentRequest struct {
	EntryIDs []string `json:"entry_ids"`
	Reason   string   `json:"reason"`
}

// amendmentDecision is the body of a decision on an amendment request.
type amendmentDecision struct {
	Accept      bool   `json:"accept"`
	Amendment   string `json:"amendment"`
	DenialBasis string `json:"denial_basis"`
	Reason      string `json:"reason"`
}

// reasonBody is a body of one written reason.
type reasonBody struct {
	Reason string `json:"reason"`
}

// statementBody is a body of one written statement.
type statementBody struct {
	Text string `json:"text"`
}

// formBody is a body naming a form of the record.
type formBody struct {
	Form string `json:"form"`
}

// disclosureRequest is the body of a disclosure to record.
type disclosureRequest struct {
	DisclosedAt      string `json:"disclosed_at"`
	Recipient        string `json:"recipient"`
	RecipientAddress string `json:"recipient_address"`
	Description      string `json:"description"`
	Purpose          string `json:"purpose"`
}

// rightsInput reads the {practice} and {patient} of a rights route, then
// with read the rest of its input; an error of the rest is refused
// through Engine.RefuseRights as action.
func (s *server) rightsInput(w http.ResponseWriter, r *http.Request, action string, read func(req *refserver.Request)) (uuid.UUID, uuid.UUID, error) {
	req := s.srv.Request(w, r)
	pid, patient := req.Practice(), req.Path("patient")
	if req.Err != nil {
		return pid, patient, req.Err
	}
	if read != nil {
		read(req)
	}
	if req.Err != nil {
		return pid, patient, s.engine.RefuseRights(r.Context(), pid, &patient, action, req.Err)
	}
	return pid, patient, nil
}

func (s *server) requestAmendment(w http.ResponseWriter, r *http.Request) error {
	var in amendmentRequest
	var entries []uuid.UUID
	pid, patient, err := s.rightsInput(w, r, "amendment.request", func(req *refserver.Request) {
		req.Body(&in)
		if req.Err == nil {
			var err error
			entries, err = refserver.ParseIDs("entry_ids", in.EntryIDs)
			req.Fail(err)
		}
	})
	if err != nil {
		return err
	}
	a, err := s.engine.RequestAmendment(r.Context(), pid, patient, entries, in.Reason)
	if err != nil {
		return err
	}
	return refserver.Created(w, r.URL.Path+"/"+a.ID.String(), a)
}

func (s *server) listAmendments(w http.ResponseWriter, r *http.Request) error {
	pid, patient, err := s.rightsInput(w, r, "amendment.read", nil)
	if err != nil {
		return err
	}
	as, err := s.engine.Amendments(r.Context(), pid, patient)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, listOf(as))
}

// changeAmendment reads {amendment} and the body into in, then answers
// what change returns.
func (s *server) changeAmendment(w http.ResponseWriter, r *http.Request, action string, in any,
	change func(pid, patient, id uuid.UUID) (*ehr.Amendment, error)) error {
	var id uuid.UUID
	pid, patient, err := s.rightsInput(w, r, action, func(req *refserver.Request) {
		id = req.Path("amendment")
		req.Body(in)
	})
	if err != nil {
		return err
	}
	a, err := change(pid, patient, id)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, a)
}

func (s *server) decideAmendment(w http.ResponseWriter, r *http.Request) error {
	var in amendmentDecision
	return s.changeAmendment(w, r, "amendment.decide", &in, func(pid, patient, id uuid.UUID) (*ehr.Amendment, error) {
		return s.engine.DecideAmendment(r.Context(), pid, patient, id, carebook.AmendmentDecision{Accept: in.Accept,
			Amendment: in.Amendment, Basis: ehr.DenialBasis(in.DenialBasis), Reason: in.Reason})
	})
}

func (s *server) extendAmendment(w http.ResponseWriter, r *http.Request) error {
	var in reasonBody
	return s.changeAmendment(w, r, "amendment.extend", &in, func(pid, patient, id uuid.UUID) (*ehr.Amendment, error) {
		return s.engine.ExtendAmendment(r.Context(), pid, patient, id, in.Reason)
	})
}

func (s *server) disagreeAmendment(w http.ResponseWriter, r *http.Request) error {
	var in statementBody
	return s.changeAmendment(w, r, "amendment.disagree", &in, func(pid, patient, id uuid.UUID) (*ehr.Amendment, error) {
		return s.engine.DisagreeAmendment(r.Context(), pid, patient, id, in.Text)
	})
}

func (s *server) rebutAmendment(w http.ResponseWriter, r *http.Request) error {
	var in statementBody
	return s.changeAmendment(w, r, "amendment.rebut", &in, func(pid, patient, id uuid.UUID) (*ehr.Amendment, error) {
		return s.engine.RebutAmendment(r.Context(), pid, patient, id, in.Text)
	})
}

func (s *server) overdueAmendments(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	if req.Err != nil {
		return req.Err
	}
	as, err := s.engine.OverdueAmendments(r.Context(), pid)
	return req.OK(listOf(as), err)
}

func (s *server) requestRecordCopy(w http.ResponseWriter, r *http.Request) error {
	var in formBody
	pid, patient, err := s.rightsInput(w, r, "access.request", func(req *refserver.Request) { req.Body(&in) })
	if err != nil {
		return err
	}
	rr, err := s.engine.RequestRecordCopy(r.Context(), pid, patient, ehr.RecordForm(in.Form))
	if err != nil {
		return err
	}
	return refserver.Created(w, r.URL.Path+"/"+rr.ID.String(), rr)
}

func (s *server) listRecordRequests(w http.ResponseWriter, r *http.Request) error {
	pid, patient, err := s.rightsInput(w, r, "access.read", nil)
	if err != nil {
		return err
	}
	rs, err := s.engine.RecordRequests(r.Context(), pid, patient)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, listOf(rs))
}

// changeRecordRequest is changeAmendment for {record_request}.
func (s *server) changeRecordRequest(w http.ResponseWriter, r *http.Request, action string, in any,
	change func(pid, patient, id uuid.UUID) (*ehr.RecordRequest, error)) error {
	var id uuid.UUID
	pid, patient, err := s.rightsInput(w, r, action, func(req *refserver.Request) {
		id = req.Path("record_request")
		req.Body(in)
	})
	if err != nil {
		return err
	}
	rr, err := change(pid, patient, id)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, rr)
}

func (s *server) fulfilRecordRequest(w http.ResponseWriter, r *http.Request) error {
	var in formBody
	return s.changeRecordRequest(w, r, "access.fulfil", &in, func(pid, patient, id uuid.UUID) (*ehr.RecordRequest, error) {
		return s.engine.FulfilRecordRequest(r.Context(), pid, patient, id, ehr.RecordForm(in.Form))
	})
}

func (s *server) denyRecordRequest(w http.ResponseWriter, r *http.Request) error {
	var in reasonBody
	return s.changeRecordRequest(w, r, "access.deny", &in, func(pid, patient, id uuid.UUID) (*ehr.RecordRequest, error) {
		return s.engine.DenyRecordRequest(r.Context(), pid, patient, id, in.Reason)
	})
}

func (s *server) extendRecordRequest(w http.ResponseWriter, r *http.Request) error {
	var in reasonBody
	return s.changeRecordRequest(w, r, "access.extend", &in, func(pid, patient, id uuid.UUID) (*ehr.RecordRequest, error) {
		return s.engine.ExtendRecordRequest(r.Context(), pid, patient, id, in.Reason)
	})
}

func (s *server) overdueRecordRequests(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid := req.Practice()
	if req.Err != nil {
		return req.Err
	}
	rs, err := s.engine.OverdueRecordRequests(r.Context(), pid)
	return req.OK(listOf(rs), err)
}

func (s *server) recordDisclosure(w http.ResponseWriter, r *http.Request) error {
	var in disclosureRequest
	var disclosedAt time.Time
	pid, patient, err := s.rightsInput(w, r, "disclosure.record", func(req *refserver.Request) {
		req.Body(&in)
		disclosedAt = req.BodyTime("disclosed_at", in.DisclosedAt)
	})
	if err != nil {
		return err
	}
	d, err := s.engine.RecordDisclosure(r.Context(), pid, patient, carebook.DisclosureInput{DisclosedAt: disclosedAt,
		Recipient: in.Recipient, RecipientAddress: in.RecipientAddress, Description: in.Description, Purpose: in.Purpose})
	if err != nil {
		return err
	}
	return refserver.Created(w, r.URL.Path+"/"+d.ID.String(), d)
}

func (s *server) disclosureReport(w http.ResponseWriter, r *http.Request) error {
	pid, patient, err := s.rightsInput(w, r, "disclosure.report", nil)
	if err != nil {
		return err
	}
	ds, err := s.engine.DisclosureReport(r.Context(), pid, patient)
	if err != nil {
		return err
	}
	return refserver.Reply(w, http.StatusOK, listOf(ds))
}
