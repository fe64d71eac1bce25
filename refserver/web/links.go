package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/refserver"
)

// The pages of signed links. A GET only describes the action and offers a
// button (mail scanners fetch links); the POST of that button acts.

// linkPage is what a link page says (templates/link.html).
type linkPage struct {
	*view
	Text string
	// Button, when set, is the label of the form that POSTs the link.
	Button string
}

// servePage answers a link page titled title with 200.
func (s *pages) servePage(w http.ResponseWriter, r *http.Request, title string, p linkPage) error {
	p.view = s.newView(r, "link.title")
	p.Title = title
	return s.render(w, http.StatusOK, "link.html", &p)
}

// showLink describes what following the link will do, and changes
// nothing; a link whose action would now be refused (the visit is past
// its cancellation cut-off, or no longer upcoming) says why, with no
// button.
func (s *pages) showLink(w http.ResponseWriter, r *http.Request) error {
	l, err := s.engine.Notify.CheckLink(r.Context(), r.PathValue("token"))
	if err != nil {
		return linkError(err)
	}
	when := visitWords(l.Facts)
	switch l.Action {
	case notify.LinkConfirm:
		return s.servePage(w, r, "Confirm your visit", linkPage{Text: "Press the button to tell the practice you will come to " + when + ".", Button: "Confirm my visit"})
	case notify.LinkCancel:
		return s.servePage(w, r, "Cancel your visit", linkPage{Text: "Press the button to cancel " + when + ". This cannot be undone.", Button: "Cancel my visit"})
	}
	return s.servePage(w, r, "Unsubscribe", linkPage{Text: "Press the button to stop receiving offers from the practice. Messages about your visits still come.", Button: "Unsubscribe"})
}

// followLink does what the link says, once, and answers a page.
func (s *pages) followLink(w http.ResponseWriter, r *http.Request) error {
	out, err := s.engine.Notify.FollowLink(r.Context(), r.PathValue("token"))
	if err != nil {
		return linkError(err)
	}
	when := visitWords(out.Facts)
	switch out.Action {
	case notify.LinkConfirm:
		return s.servePage(w, r, "Thank you", linkPage{Text: "We look forward to " + when + "."})
	case notify.LinkCancel:
		return s.servePage(w, r, "Your visit is canceled", linkPage{Text: "We have canceled " + when + "."})
	}
	return s.servePage(w, r, "You are unsubscribed", linkPage{Text: "You will no longer receive offers from the practice."})
}

// visitWords names the visit of f for its patient: "your visit on Monday
// 2 March 2026 at 10:00 at Main Street", in the location's time zone, or
// "your visit" when f is nil.
func visitWords(f *notify.Facts) string {
	if f == nil {
		return "your visit"
	}
	loc, err := time.LoadLocation(f.LocationZone)
	if err != nil {
		loc = time.UTC
	}
	when := "your visit on " + f.Start.In(loc).Format("Monday 2 January 2006 at 15:04")
	if f.LocationName != "" {
		when += " at " + f.LocationName
	}
	return when
}

// linkError words the failure of a link for its page; the renderer
// answers it (a page route's errors are pages). The kind gives the status,
// as everywhere: 403 forged, 409 used, 422 too late to cancel, 404 the
// visit is gone, and, a page's rule, 503 for a failure of ours. Two
// failures read differently on a link: an expired token is 410 Gone (no
// kind names it), and an action the visit's status refuses (KindInvalid
// from scheduling: the visit was canceled or seen) is a conflict with the
// visit, 409, not bad input of the patient's.
func linkError(err error) error {
	const op = "web.link"
	onToken := errs.FieldOf(err) == "token"
	contact := "Please contact the practice."
	switch k := errs.KindOf(err); {
	case k == errs.KindForbidden:
		return &refserver.PageError{Title: "This link is not valid", Text: "Please use the link in your message exactly as it is, or contact the practice.", Err: err}
	case k == errs.KindPreconditionFailed && onToken:
		return &refserver.PageError{Status: http.StatusGone, Title: "This link has expired", Text: contact, Err: err}
	case k == errs.KindConflict && onToken:
		return &refserver.PageError{Title: "This link was already used", Text: "It works only once. Please contact the practice if anything is unclear.", Err: err}
	case k == errs.KindPreconditionFailed:
		text := "Your visit is too soon to cancel online. Please call the practice."
		if e, ok := errs.As(err); ok {
			if d, ok := e.Details.(notify.CancelCutoffDetails); ok && d.CancelCutoff > 0 {
				text = "Online cancellation closes " + wordDuration(d.CancelCutoff) + " before the visit, and that time has passed. Please call the practice to cancel."
			}
		}
		return &refserver.PageError{Title: "Too late to cancel online", Text: text, Err: err}
	case k == errs.KindConflict, k == errs.KindInvalid:
		return &refserver.PageError{Title: "This visit can no longer be changed online", Text: contact,
			Err: &errs.Error{Kind: errs.KindConflict, Op: op, Msg: "the visit can no longer change", Err: err}}
	case k == errs.KindNotFound:
		return &refserver.PageError{Title: "We could not find this visit", Text: contact, Err: err}
	}
	return err
}

// wordDuration words a cut-off for patients: "24 hours", "90 minutes",
// "2 days".
func wordDuration(d time.Duration) string {
	n, unit := int64(d/time.Minute), "minute"
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		n, unit = int64(d/(24*time.Hour)), "day"
	case d%time.Hour == 0:
		n, unit = int64(d/time.Hour), "hour"
	}
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}
