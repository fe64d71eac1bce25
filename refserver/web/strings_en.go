package web

// english is the pages' English, the default language. Keys are
// "<area>.<name>"; Spanish (strings_es.go) has the same keys.
var english = merge(
	catalog{
		"shell.skip":         "Skip to content",
		"shell.nav":          "Main",
		"shell.signout":      "Sign out",
		"shell.other_lang":   "Español",
		"shell.new_requests": "%d new requests",
		"form.fix":           "Please correct the field marked below.",
		"form.save":          "Save",
		"form.cancel":        "Cancel",
		"link.title":         "Your visit",

		"nav.book":          "Book a visit",
		"nav.visits":        "My visits",
		"nav.preferences":   "Preferences",
		"nav.calendar":      "Calendar",
		"nav.requests":      "Requests",
		"nav.book_for":      "Book for a patient",
		"nav.setup":         "Setup",
		"nav.staff":         "Staff",
		"nav.notifications": "Notifications",
		"nav.activity":      "Activity log",

		"account.title":        "Your account",
		"account.signed_in_as": "Signed in as",
		"account.practice":     "Practice",
		"account.home":         "Go to your start page",

		"signin.title":             "Sign in",
		"signin.email":             "Email",
		"signin.password":          "Password",
		"signin.code":              "Code from your authenticator app",
		"signin.code_hint":         "(6 digits, or a recovery code)",
		"signin.code_needed":       "Enter the code from your authenticator app, with your password again.",
		"signin.code_refused":      "That code is not right: enter the current code, with your password again.",
		"signin.submit":            "Sign in",
		"signin.ended":             "You were signed out after a period of inactivity. Please sign in again.",
		"signin.refused":           "The email or the password is not right.",
		"signin.email_required":    "Enter your email.",
		"signin.password_required": "Enter your password.",
		"signin.new_clinic":        "A new clinic?",
		"signin.new_clinic_link":   "Set up your practice",
	},
	enPatient, enDesk, enAdmin, enStaff,
)

// enPatient is the English of the patients' pages.
var enPatient = catalog{}

// enDesk is the English of the front desk's pages.
var enDesk = catalog{}

// enAdmin is the English of the administrators' setup pages and onboarding.
var enAdmin = catalog{}

// enStaff is the English of the staff, notifications, activity-log and
// account pages.
var enStaff = catalog{}

// merge is the union of cs; a key in two of them panics at start, so that
// two areas never define one key differently.
func merge(cs ...catalog) catalog {
	out := catalog{}
	for _, c := range cs {
		for k, v := range c {
			if _, dup := out[k]; dup {
				panic("web: the string " + k + " is defined twice")
			}
			out[k] = v
		}
	}
	return out
}
