package api

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/carebook/carebook"
	"github.com/google/uuid"
)

// everything answers a patient's Patient/$everything: one page of the
// FHIR R4 searchset Bundle (ExportPatient), as application/fhir+json; the
// Bundle's next link carries the cursor of the page after.
func (s *server) everything(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, patient := req.Practice(), req.Path("patient")
	count := req.Int("_count", carebook.DefaultEverythingPage, 1, carebook.MaxEverythingPage)
	cursor := req.Str("cursor")
	if req.Err != nil {
		return req.Err
	}
	origin := "https://" + r.Host
	if r.TLS == nil && r.Header.Get("X-Forwarded-Proto") != "https" {
		origin = "http://" + r.Host
	}
	practice := origin + "/api/v1/practices/" + pid.String()
	b, _, err := s.engine.ExportPatient(r.Context(), pid, patient, carebook.EverythingQuery{
		Base: practice + "/fhir", Self: practice + "/patients/" + patient.String() + "/$everything",
		FileURL: func(f uuid.UUID) string { return practice + "/files/" + f.String() },
		Cursor:  cursor, Limit: count})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}
