package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/refserver"
)

// Patients' files. The routes are refserver.Guarded: each handler calls
// one guarded Engine operation (PutFile, PatientFiles, OpenFile,
// DeleteFile), which authorizes the caller under patient.clinical.read or
// .write and writes the activity-log entry ("file.upload", "file.list",
// "file.read", "file.delete"), so the route neither decides nor logs a
// second time. No route ever answers with a URL of the bucket: a file's
// bytes pass through the server, decrypted on the way out.

// uploadFile stores the request body as a new file of {patient}: the body
// is the file's bytes, its Content-Type the file's media type, the name
// the "name" query parameter (the name is PHI and is sealed at rest; a
// query parameter is the plainest place for a UTF-8 name, percent-encoded
// as URLs always are). The body streams into the bucket, encrypted as it
// is read, never held whole in memory.
//
// The route opens no transaction of its own: it is not an Audited write
// route (Server.authorizedWrite), whose transaction would span the whole
// upload and hold the answer until its commit. The Engine's guard still
// runs the upload inside its own transaction (the record and its
// "allowed" entry commit together), and on SQLite that transaction holds
// the process's one writer turn while the body is read: until the Engine
// writes the object before it opens the transaction, a slow upload stalls
// every other write, and every audited read, of a SQLite server (behind
// Server.Serve, for at most its ReadTimeout of 30 s). PostgreSQL is not
// stalled.
func (s *server) uploadFile(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, patient := req.Practice(), req.Path("patient")
	name := req.Str("name")
	if req.Err != nil {
		return req.Err
	}
	// The body's framing is checked before the Engine decides: the same
	// answer for anyone, which tells nothing of the practice.
	const op = "refserver.uploadFile"
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err == nil && (mt == "application/x-www-form-urlencoded" || strings.HasPrefix(mt, "multipart/")):
		// A form is not a file: its body is parsed (and consumed) on the
		// way in, and would be stored mangled.
		return &errs.Error{Kind: errs.KindUnsupportedMedia, Op: op, Field: "Content-Type",
			Msg: "send the file's own bytes as the body, with the file's media type (such as application/pdf), not a form"}
	case err == nil && !strings.Contains(mt, "/"):
		// mime.ParseMediaType takes a bare token ("pdf"), which is no media
		// type of a file.
		return errs.Invalid(op, "Content-Type", "is not a media type such as application/pdf")
	}
	// A missing or malformed Content-Type is the Engine's to refuse
	// (content_type), once it has decided the access.
	f, err := s.engine.PutFile(r.Context(), pid, patient, name, ct, r.Body)
	if err != nil {
		return renameField(err, map[string]string{"content_type": "Content-Type"})
	}
	return refserver.Created(w, "/api/v1/practices/"+pid.String()+"/files/"+f.ID.String(), f)
}

// listFiles lists {patient}'s files, oldest first. An unknown patient is
// 404, not an empty list: the Engine's list does not tell them apart, so an
// empty one is checked against the patient (after the guard allowed the
// caller the patient's chart, so a stranger learns nothing).
func (s *server) listFiles(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, patient := req.Practice(), req.Path("patient")
	if req.Err != nil {
		return req.Err
	}
	fs, err := s.engine.PatientFiles(r.Context(), pid, patient)
	if err != nil {
		return err
	}
	if len(fs) == 0 {
		if _, err := s.engine.Scheduling.Patient(r.Context(), pid, patient); err != nil {
			return err
		}
	}
	return refserver.Reply(w, http.StatusOK, listOf(fs))
}

// firstChunk is how much of a file downloadFile reads before it answers.
// A file is sealed in segments of 1 MiB, each checked as a whole when it is
// read, so reading any of the first segment checks all of it.
const firstChunk = 32 << 10

// downloadBytesPerSecond is the slowest client a download waits for: the
// write deadline of the server (60 s) grows by the time the file takes at
// this rate, so that a large file reaches a slow link.
const downloadBytesPerSecond = 64 << 10

// downloadFile streams {file}'s decrypted bytes as an attachment, with its
// stored media type, its length, never sniffed, cached or rendered inline.
//
// A stored object that does not decrypt under its record (altered,
// truncated, or moved from another file) is found when its first segment
// is read, before the status is sent: 409. A fault further in (a later
// segment altered, or the object shorter than its record) is found only
// once the status and the first bytes are on their way; an error can no
// longer be answered, so the response is cut (http.ErrAbortHandler: the
// connection is closed without the rest, so the client, which was told the
// Content-Length, sees an incomplete body and never a complete-looking
// file) and the fault is logged.
func (s *server) downloadFile(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("file")
	if req.Err != nil {
		return req.Err
	}
	f, rc, err := s.engine.OpenFile(r.Context(), pid, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	return s.stream(w, r, rc, f.Size, func(h http.Header) {
		h.Set("Content-Type", f.ContentType)
		h.Set("Content-Disposition", attachment(f.Name))
		// Opened in a browser after all, the file runs nothing of ours.
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	}, "a patient's file does not decrypt past its first bytes: the download is cut", "file_id", id.String())
}

// stream answers rc, a decrypting reader of size bytes, with the headers
// set adds to Content-Length, nosniff and no-store. The first segment is
// read before the status is sent, so that its fault is answered (as
// rc's error); a fault further in cuts the answer short of its
// Content-Length (http.ErrAbortHandler) and is logged as msg with the
// object's key and ID. A HEAD gets the headers only.
func (s *server) stream(w http.ResponseWriter, r *http.Request, rc io.Reader, size int64, set func(http.Header), msg, key, id string) error {
	buf := make([]byte, firstChunk)
	n, err := io.ReadFull(rc, buf)
	done := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	if err != nil && !done {
		return err
	}
	h := w.Header()
	set(h)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	// The wall clock: a network deadline, no domain time. Writers that
	// cannot take deadlines (a test's recorder) keep none.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(60*time.Second +
		time.Duration(size/downloadBytesPerSecond)*time.Second))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	if _, err := w.Write(buf[:n]); err != nil || done {
		return nil // the client went away, or that was all
	}
	src := &readErr{r: rc}
	if _, err := io.Copy(w, src); err != nil && src.err != nil {
		s.log.ErrorContext(r.Context(), msg, "request_id", refserver.RequestID(r.Context()),
			"practice_id", r.PathValue("practice"), key, id, "error", src.err)
		panic(http.ErrAbortHandler)
	}
	return nil // a write error: the client went away
}

// readErr remembers the error of its reader, to tell it from a write
// error of io.Copy.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// attachment is the Content-Disposition of a download of a file named
// name (RFC 6266): "attachment", an ASCII filename for every client (a
// quoted string, escaped by mime.FormatMediaType) and, when the name is
// not ASCII, its UTF-8 form in filename* (RFC 8187 encoding).
func attachment(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '_'
		}
		return r
	}, name)
	v := mime.FormatMediaType("attachment", map[string]string{"filename": ascii})
	if v == "" {
		return "attachment"
	}
	if ascii != name {
		if ext := mime.FormatMediaType("attachment", map[string]string{"filename": name}); ext != "" {
			v += strings.TrimPrefix(ext, "attachment")
		}
	}
	return v
}

// deleteFile removes {file}: its object, then its record.
func (s *server) deleteFile(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	pid, id := req.Practice(), req.Path("file")
	if req.Err != nil {
		return req.Err
	}
	return req.NoContent(s.engine.DeleteFile(r.Context(), pid, id))
}
