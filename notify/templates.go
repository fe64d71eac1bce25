package notify

import (
	htmltemplate "html/template"
	"strings"
	"text/template"
	"time"

	"github.com/carebook/carebook/errs"
)

// TemplateData is what a template may refer to, as {{.Practice}},
// {{.Patient.GivenName}}, {{.When}} and so on. A template naming anything
// else is refused when it is saved.
type TemplateData struct {
	Practice  string
	Patient   PatientName
	Provider  string
	VisitType string
	Location  string
	Address   string
	// When is the visit's start in the location's time zone, worded for the
	// message's language; Date and Time are its parts. Start is the same
	// instant, in that zone, for custom layouts ({{.Start.Format "15:04"}}).
	When, Date, Time string
	Start            time.Time
	// ConfirmURL and CancelURL are signed, single-use links (email only; ""
	// when the server has no public URL). UnsubscribeURL ends marketing
	// consent (campaigns).
	ConfirmURL, CancelURL, UnsubscribeURL string
	// CanCancel says whether the patient can still cancel the visit
	// themselves (by link or by replying C) when the message goes out:
	// false once the practice's cancellation cut-off has begun. CancelURL
	// is set only when it is true.
	CanCancel bool
	// Status is the appointment's status word.
	Status string
	// Text is a campaign's own text, rendered inside its template.
	Text string
	// Amount is a receipt's amount, formatted with its currency; Refund
	// says the money was given back rather than taken.
	Amount string
	Refund bool
}

// PatientName is the patient's name in TemplateData.
type PatientName struct{ GivenName, FamilyName string }

// sampleData fills every field, so that executing a template on it finds
// references to fields that do not exist.
func sampleData() TemplateData {
	start := time.Date(2030, 3, 14, 9, 30, 0, 0, time.UTC)
	return TemplateData{Practice: "Riverside Clinic", Patient: PatientName{"Ada", "Lovelace"}, Provider: "Dr. Grace Hopper",
		VisitType: "Check-up", Location: "Main Street", Address: "1 Main St, Springfield",
		When: "Thu Mar 14 at 9:30 AM", Date: "Thu Mar 14", Time: "9:30 AM", Start: start,
		ConfirmURL: "https://example.org/l/c", CancelURL: "https://example.org/l/x", UnsubscribeURL: "https://example.org/l/u",
		CanCancel: true, Status: "confirmed", Text: "10% off flu shots this week", Amount: "USD 25.00"}
}

// maxTemplate bounds each part of a template.
const maxTemplate = 20000

// compiled is a parsed template.
type compiled struct {
	subject *template.Template
	text    *template.Template
	html    *htmltemplate.Template
}

// compile parses t's parts and runs them once on sample data, so that a
// template that does not parse or names an unknown field is refused with
// KindInvalid naming the part (subject, text or html).
func compile(op string, t *Template) (*compiled, error) {
	if !t.Kind.Valid() {
		return nil, errs.Invalid(op, "kind", "unknown kind \""+string(t.Kind)+"\"")
	}
	if !t.Channel.Valid() {
		return nil, errs.Invalid(op, "channel", "unknown channel \""+string(t.Channel)+"\"")
	}
	if strings.TrimSpace(t.Text) == "" {
		return nil, errs.Invalid(op, "text", "is required")
	}
	if t.Channel == Email && strings.TrimSpace(t.Subject) == "" {
		return nil, errs.Invalid(op, "subject", "an email needs a subject")
	}
	if t.Channel != Email && (t.Subject != "" || t.HTML != "") {
		return nil, errs.Invalid(op, "html", "only email templates have a subject and an HTML part")
	}
	for field, part := range map[string]string{"subject": t.Subject, "text": t.Text, "html": t.HTML} {
		if len(part) > maxTemplate {
			return nil, errs.Invalid(op, field, "is longer than 20000 bytes")
		}
	}
	c := &compiled{}
	var err error
	if c.text, err = parseText(op, "text", t.Text); err != nil {
		return nil, err
	}
	if t.Subject != "" {
		if c.subject, err = parseText(op, "subject", t.Subject); err != nil {
			return nil, err
		}
	}
	if t.HTML != "" {
		if c.html, err = htmltemplate.New("html").Option("missingkey=error").Parse(t.HTML); err != nil {
			return nil, errs.Invalid(op, "html", "does not parse: "+err.Error())
		}
	}
	if _, err := c.render(sampleData()); err != nil {
		e := errs.Invalid(op, err.field, "refers to something a message does not have: "+err.Error())
		return nil, e
	}
	return c, nil
}

func parseText(op, field, src string) (*template.Template, error) {
	t, err := template.New(field).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, errs.Invalid(op, field, "does not parse: "+err.Error())
	}
	return t, nil
}

// rendered is a message's content.
type rendered struct{ subject, text, html string }

// renderError says which part failed to render.
type renderError struct {
	field string
	err   error
}

func (e *renderError) Error() string { return e.err.Error() }

// render executes the parts on d.
func (c *compiled) render(d TemplateData) (rendered, *renderError) {
	var out rendered
	var b strings.Builder
	if c.subject != nil {
		if err := c.subject.Execute(&b, d); err != nil {
			return out, &renderError{"subject", err}
		}
		out.subject = strings.TrimSpace(b.String())
		b.Reset()
	}
	if err := c.text.Execute(&b, d); err != nil {
		return out, &renderError{"text", err}
	}
	out.text = strings.TrimSpace(b.String())
	if c.html != nil {
		b.Reset()
		if err := c.html.Execute(&b, d); err != nil {
			return out, &renderError{"html", err}
		}
		out.html = b.String()
	}
	return out, nil
}

// whenLayouts word a visit's time per language; other languages take the
// 24-hour layout.
var whenLayouts = map[string][2]string{
	"en": {"Mon Jan 2", "3:04 PM"},
}

// wordWhen words t (already in the location's zone) for language.
func wordWhen(t time.Time, language string) (when, date, clock string) {
	l, ok := whenLayouts[baseLanguage(language)]
	if !ok {
		l = [2]string{"02.01.2006", "15:04"}
	}
	date, clock = t.Format(l[0]), t.Format(l[1])
	if baseLanguage(language) == "en" {
		return date + " at " + clock, date, clock
	}
	return date + " " + clock, date, clock
}

// baseLanguage is the primary subtag of a BCP 47 tag, lower-cased: "es" for
// "es-MX".
func baseLanguage(tag string) string {
	tag = strings.ToLower(tag)
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// sprintf fills the one %s of a reply.
func sprintf(format, s string) string { return strings.Replace(format, "%s", s, 1) }
