package web

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"net/http"
	"strings"

	"github.com/carebook/carebook/errs"
	"github.com/pquerna/otp"
)

// Two-factor authentication with an authenticator app (TOTP): the page
// refserver.MFAEnrollPath, where staff of a practice that requires it are
// sent from every page until they enroll. Enrolment is in three steps on
// one page: start (a new secret, shown as a QR code and as text), confirm
// with a first code, and the recovery codes, shown once.

// mfaPage is the two-factor page.
type mfaPage struct {
	*view
	On, MustEnroll bool
	// Enrolling shows the secret and the confirmation form.
	Enrolling bool
	// QR is the otpauth URI as a PNG, a data: URL; Secret the secret in
	// groups of four for typing; URI the otpauth URI, sent back with the
	// code only to show the same QR code again after a wrong code.
	QR     template.URL
	Secret string
	URI    string
	// Codes are the recovery codes, once TOTP is on.
	Codes []string
}

// qrSize is the QR code's width and height in pixels.
const qrSize = 240

func (s *pages) showMFA(w http.ResponseWriter, r *http.Request) error {
	p, err := s.mfaPage(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "mfa.html", p)
}

func (s *pages) mfaPage(r *http.Request) (*mfaPage, error) {
	c, err := s.srv.SignedIn(r)
	if err != nil {
		return nil, err
	}
	a, err := s.engine.Identity.Account(r.Context(), c.Session.AccountID)
	if err != nil {
		return nil, err
	}
	return &mfaPage{view: s.newView(r, "mfa.title"), On: a.TOTPEnabled, MustEnroll: c.Session.NeedsMFAEnrollment}, nil
}

// enrollMFA starts enrolment (step=start: a new secret, identity's
// EnrollTOTP) or confirms it with the first code (step=confirm:
// Engine.ConfirmTOTP, which answers the recovery codes).
func (s *pages) enrollMFA(w http.ResponseWriter, r *http.Request) error {
	const op = "web.enrollMFA"
	c, err := s.srv.SignedIn(r)
	if err != nil {
		return err
	}
	p, err := s.mfaPage(r)
	if err != nil {
		return err
	}
	switch r.PostFormValue("step") {
	case "start":
		en, err := s.engine.Identity.EnrollTOTP(r.Context(), c.Session.AccountID)
		if err != nil {
			return s.invalid(w, r, p.view, "mfa.html", p, err)
		}
		if err := p.showSecret(en.URL); err != nil {
			return err
		}
		return s.render(w, http.StatusOK, "mfa.html", p)
	case "confirm":
		codes, err := s.engine.ConfirmTOTP(r.Context(), c.Session, strings.TrimSpace(r.PostFormValue("code")))
		if err != nil {
			if errs.FieldOf(err) == "code" && errs.KindOf(err) == errs.KindInvalid {
				err = errs.Invalid(op, "code", p.T("mfa.code_refused"))
			}
			// The same secret again, to type the next code.
			if serr := p.showSecret(r.PostFormValue("otpauth")); serr != nil {
				p.Enrolling = false
			}
			return s.invalid(w, r, p.view, "mfa.html", p, err)
		}
		p.On, p.Codes = true, codes
		return s.render(w, http.StatusOK, "mfa.html", p)
	}
	return s.invalid(w, r, p.view, "mfa.html", p, errs.Invalid(op, "step", p.T("mfa.step_unknown")))
}

// showSecret puts the TOTP key of uri (an otpauth://totp/ URI) on the
// page: as a QR code, and as text.
func (p *mfaPage) showSecret(uri string) error {
	const op = "web.showSecret"
	key, err := otp.NewKeyFromURL(uri)
	if err != nil || key.Type() != "totp" {
		return errs.Invalid(op, "otpauth", "not a TOTP key")
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return errs.Wrap(errs.KindInternal, op, "cannot draw the QR code", err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return errs.Wrap(errs.KindInternal, op, "cannot encode the QR code", err)
	}
	p.Enrolling, p.URI = true, uri
	p.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes()))
	p.Secret = groups(key.Secret(), 4)
	return nil
}

// groups is s cut into groups of n characters, separated by spaces.
func groups(s string, n int) string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return strings.Join(append(out, s), " ")
}
