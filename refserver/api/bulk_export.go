package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/ehr"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
	"github.com/google/uuid"
)

// The FHIR bulk export of a practice, in the shapes of the Bulk Data Access
// IG (v2): the kick-off GET .../$export with Prefer: respond-async answers
// 202 with the status URL in Content-Location; the status URL answers 202
// with X-Progress while the export runs, then 200 with the manifest; a
// DELETE of it cancels; each file of the manifest is NDJSON
// (application/fhir+ndjson). The routes are refserver.Guarded: the Engine
// decides who may (patient.clinical.read and patient.rights.manage at the
// practice's scope, the requester alone for the rest) and logs each
// access once. Input that cannot be read is refused through
// Engine.RefuseExport, so that the access is decided first.

// exportFormats are the _outputFormat values the IG names for NDJSON.
var exportFormats = map[string]bool{"": true, "application/fhir+ndjson": true, "application/ndjson": true, "ndjson": true}

// unsupportedExportParams are kick-off parameters of the IG this server
// does not implement: refused, rather than ignored, as the IG asks of a
// strict server.
var unsupportedExportParams = []string{"_elements", "_typeFilter", "patient", "includeAssociatedData", "organizeOutputBy"}

// requestOrigin is the scheme and host r was sent to.
func requestOrigin(r *http.Request) string {
	if r.TLS == nil && r.Header.Get("X-Forwarded-Proto") != "https" {
		return "http://" + r.Host
	}
	return "https://" + r.Host
}

// practiceURL is the absolute URL of practice's API.
func practiceURL(r *http.Request, practice uuid.UUID) string {
	return requestOrigin(r) + "/api/v1/practices/" + practice.String()
}

// startExport kicks a bulk export off.
func (s *server) startExport(w http.ResponseWriter, r *http.Request) error {
	const op = "refserver.startExport"
	req := s.srv.Request(w, r)
	pid := req.Practice()
	if req.Err != nil {
		return req.Err
	}
	var in carebook.ExportRequest
	bad := func() error {
		if !preferAsync(r.Header.Values("Prefer")) {
			return errs.Invalid(op, "Prefer", "a bulk export is asynchronous: send Prefer: respond-async")
		}
		if f := req.Str("_outputFormat"); !exportFormats[f] {
			return errs.Invalid(op, "_outputFormat", "the only format is NDJSON: application/fhir+ndjson")
		}
		for _, p := range unsupportedExportParams {
			if req.Str(p) != "" {
				return errs.Invalid(op, p, "this server does not support the parameter")
			}
		}
		if v := req.Str("_since"); v != "" {
			t, err := refserver.ParseTime("_since", v)
			if err != nil {
				return err
			}
			in.Since = &t
		}
		return nil
	}()
	if bad != nil {
		return s.engine.RefuseExport(r.Context(), pid, bad)
	}
	base := practiceURL(r, pid)
	in.Types, in.Request, in.FileURL = req.List("_type"), requestOrigin(r)+r.URL.RequestURI(), base+"/files/"
	x, err := s.engine.StartExport(r.Context(), pid, in)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Location", base+"/exports/"+x.ID.String())
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// preferAsync reports whether the Prefer headers ask for respond-async.
func preferAsync(prefer []string) bool {
	for _, h := range prefer {
		for _, p := range strings.Split(h, ",") {
			if strings.EqualFold(strings.TrimSpace(strings.SplitN(p, ";", 2)[0]), "respond-async") {
				return true
			}
		}
	}
	return false
}

// exportManifest is the manifest of a complete export (the IG's Complete
// Status body); Extension says when its files expire and whether they
// have (the IG reserves "extension" for such server information).
type exportManifest struct {
	TransactionTime     string           `json:"transactionTime"`
	Request             string           `json:"request"`
	RequiresAccessToken bool             `json:"requiresAccessToken"`
	Output              []manifestOutput `json:"output"`
	Error               []manifestOutput `json:"error"`
	Extension           manifestExpiry   `json:"extension"`
}

type manifestOutput struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Count int    `json:"count"`
}

type manifestExpiry struct {
	ExpiresAt string `json:"expiresAt"`
	Expired   bool   `json:"expired"`
}

// fhirInstant is t as a FHIR instant.
func fhirInstant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// exportStatus answers an export's status: 202 while it runs, the
// manifest once complete, an OperationOutcome (500) if it failed, 404 once
// canceled.
func (s *server) exportStatus(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("export")
	if req.Err != nil {
		return req.Err
	}
	x, err := s.engine.ExportStatus(r.Context(), pid, id)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	switch x.State {
	case ehr.ExportAccepted, ehr.ExportInProgress:
		progress := x.Progress
		if progress == "" {
			progress = string(x.State)
		}
		h.Set("X-Progress", progress)
		h.Set("Retry-After", "10")
		w.WriteHeader(http.StatusAccepted)
		return nil
	case ehr.ExportCanceled:
		return errs.E(errs.KindNotFound, "refserver.exportStatus", "the export was canceled")
	case ehr.ExportFailed:
		outcome := map[string]any{"resourceType": "OperationOutcome",
			"issue": []any{map[string]any{"severity": "error", "code": "exception", "diagnostics": x.Error}}}
		writeFHIR(w, http.StatusInternalServerError, outcome)
		return nil
	}
	m := exportManifest{TransactionTime: fhirInstant(*x.StartedAt), Request: x.Request, RequiresAccessToken: true,
		Output: []manifestOutput{}, Error: []manifestOutput{}, Extension: manifestExpiry{Expired: x.Expired}}
	if x.ExpiresAt != nil {
		m.Extension.ExpiresAt = fhirInstant(*x.ExpiresAt)
		m.Extension.Expired = m.Extension.Expired || !s.engine.Clock.Now().Before(*x.ExpiresAt)
		h.Set("Expires", x.ExpiresAt.UTC().Format(http.TimeFormat))
	}
	if !m.Extension.Expired {
		base := practiceURL(r, pid) + "/exports/" + id.String() + "/files/"
		for _, o := range x.Outputs {
			m.Output = append(m.Output, manifestOutput{Type: o.Type, URL: base + o.ID.String(), Count: o.Count})
		}
	}
	return refserver.Reply(w, http.StatusOK, m)
}

// writeFHIR answers v as application/fhir+json.
func writeFHIR(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away
}

// cancelExport cancels an export (or removes a complete one's files): 202.
func (s *server) cancelExport(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("export")
	if req.Err != nil {
		return req.Err
	}
	if err := s.engine.CancelExport(r.Context(), pid, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// exportFile streams one NDJSON file of a complete export, decrypted on
// the way. A fault of its first segment is answered (409); one further in
// cuts the answer short of its Content-Length (see downloadFile).
func (s *server) exportFile(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id, output := req.Practice(), req.Path("export"), req.Path("output")
	if req.Err != nil {
		return req.Err
	}
	o, rc, err := s.engine.OpenExportFile(r.Context(), pid, id, output)
	if err != nil {
		return err
	}
	defer rc.Close()
	return s.stream(w, r, rc, o.Size, func(h http.Header) { h.Set("Content-Type", "application/fhir+ndjson") },
		"a bulk export file does not decrypt past its first bytes: the download is cut", "export_id", id.String())
}
