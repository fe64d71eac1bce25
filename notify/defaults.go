package notify

// defaultKey names a default template.
type defaultKey struct {
	kind     Kind
	channel  Channel
	language string
}

// defaults are the templates of a practice that wrote none, in English and
// Spanish. Email defaults share their text part with SMS and add a subject
// and an HTML part.
var defaults = map[defaultKey]Template{}

func init() {
	type wording struct{ subject, text string }
	add := func(lang string, w map[Kind]wording) {
		for k, x := range w {
			defaults[defaultKey{k, SMS, lang}] = Template{Kind: k, Channel: SMS, Language: lang, Text: x.text}
			defaults[defaultKey{k, Email, lang}] = Template{Kind: k, Channel: Email, Language: lang, Subject: x.subject,
				Text: x.text + `{{if .CancelURL}}

` + linkWords[lang][0] + `: {{.CancelURL}}{{end}}{{if .UnsubscribeURL}}

` + linkWords[lang][1] + `: {{.UnsubscribeURL}}{{end}}`,
				HTML: `<p>` + x.text + `</p>{{if .ConfirmURL}}<p><a href="{{.ConfirmURL}}">` + linkWords[lang][2] + `</a></p>{{end}}` +
					`{{if .CancelURL}}<p><a href="{{.CancelURL}}">` + linkWords[lang][0] + `</a></p>{{end}}` +
					`{{if .UnsubscribeURL}}<p><small><a href="{{.UnsubscribeURL}}">` + linkWords[lang][1] + `</a></small></p>{{end}}`}
		}
		defaults[defaultKey{KindRequested, InApp, lang}] = Template{Kind: KindRequested, Channel: InApp, Language: lang, Text: w[KindRequested].text}
	}
	add("en", map[Kind]wording{
		KindRequested:   {"New appointment request", "New request: {{.Patient.GivenName}} {{.Patient.FamilyName}} asks for {{.VisitType}} with {{.Provider}} on {{.When}}."},
		KindConfirmed:   {"Your visit is confirmed", "{{.Practice}}: your {{.VisitType}} with {{.Provider}} is confirmed for {{.When}} at {{.Location}}."},
		KindRescheduled: {"Your visit has moved", "{{.Practice}}: your {{.VisitType}} with {{.Provider}} is now on {{.When}} at {{.Location}}."},
		KindCanceled:    {"Your visit is canceled", "{{.Practice}}: your {{.VisitType}} on {{.When}} is canceled. Call us or book again online."},
		KindReminder:    {"Reminder of your visit", "{{.Practice}}: reminder of your {{.VisitType}} with {{.Provider}} on {{.When}} at {{.Location}}. {{if .CanCancel}}Reply C to cancel, Y to confirm.{{else}}Reply Y to confirm; to cancel, please call us.{{end}}"},
		KindNoVisit:     {"We missed you", "{{.Practice}}: we missed you at your visit on {{.When}}. Reply or book again online to find a new time."},
		KindCampaign:    {"News from {{.Practice}}", "{{.Practice}}: {{.Text}}"},
		KindReceipt:     {"{{if .Refund}}Your refund{{else}}Your receipt{{end}}", "{{.Practice}}: {{if .Refund}}we refunded {{.Amount}}{{else}}we received your payment of {{.Amount}}{{end}} for your {{.VisitType}} on {{.When}}. Thank you."},
	})
	smsCampaign("en", "{{.Practice}}: {{.Text}} Reply STOP to opt out.")
	add("es", map[Kind]wording{
		KindRequested:   {"Nueva solicitud de cita", "Nueva solicitud: {{.Patient.GivenName}} {{.Patient.FamilyName}} pide {{.VisitType}} con {{.Provider}} el {{.When}}."},
		KindConfirmed:   {"Su cita está confirmada", "{{.Practice}}: su cita de {{.VisitType}} con {{.Provider}} está confirmada para el {{.When}} en {{.Location}}."},
		KindRescheduled: {"Su cita ha cambiado", "{{.Practice}}: su cita de {{.VisitType}} con {{.Provider}} es ahora el {{.When}} en {{.Location}}."},
		KindCanceled:    {"Su cita está cancelada", "{{.Practice}}: su cita de {{.VisitType}} del {{.When}} está cancelada. Llámenos o reserve de nuevo en línea."},
		KindReminder:    {"Recordatorio de su cita", "{{.Practice}}: le recordamos su cita de {{.VisitType}} con {{.Provider}} el {{.When}} en {{.Location}}. {{if .CanCancel}}Responda C para cancelar, Y para confirmar.{{else}}Responda Y para confirmar; para cancelar, llámenos.{{end}}"},
		KindNoVisit:     {"Le echamos de menos", "{{.Practice}}: no pudimos verle en su cita del {{.When}}. Responda o reserve de nuevo en línea."},
		KindCampaign:    {"Novedades de {{.Practice}}", "{{.Practice}}: {{.Text}}"},
		KindReceipt:     {"{{if .Refund}}Su reembolso{{else}}Su recibo{{end}}", "{{.Practice}}: {{if .Refund}}le hemos reembolsado {{.Amount}}{{else}}hemos recibido su pago de {{.Amount}}{{end}} por su cita de {{.VisitType}} del {{.When}}. Gracias."},
	})
	smsCampaign("es", "{{.Practice}}: {{.Text}} Responda STOP para no recibir más.")
}

// smsCampaign sets the SMS wording of campaigns, which says how to stop them.
func smsCampaign(lang, text string) {
	defaults[defaultKey{KindCampaign, SMS, lang}] = Template{Kind: KindCampaign, Channel: SMS, Language: lang, Text: text}
}

// linkWords are the words of an email's links: cancel, unsubscribe, confirm.
var linkWords = map[string][3]string{
	"en": {"Cancel this visit", "Unsubscribe", "Confirm"},
	"es": {"Cancelar esta cita", "Darse de baja", "Confirmar"},
}

// defaultTemplate returns the default for kind and channel in language, or
// in English.
func defaultTemplate(kind Kind, ch Channel, language string) (Template, bool) {
	if t, ok := defaults[defaultKey{kind, ch, baseLanguage(language)}]; ok {
		return t, true
	}
	t, ok := defaults[defaultKey{kind, ch, "en"}]
	return t, ok
}
