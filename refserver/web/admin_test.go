package web

// adminMatrix are the page authorization rows of the admin pages (see
// pageMatrix): the setup pages need the permission of the API route doing
// the same (every one held by administrators only), and onboarding is
// public.
var adminMatrix = map[string]string{
	"GET /p/{practice}/setup":                           "yfffns",
	"POST /p/{practice}/setup/policy":                   "yfffns",
	"GET /p/{practice}/setup/start":                     "yfffns",
	"GET /p/{practice}/setup/locations":                 "yfffns",
	"POST /p/{practice}/setup/locations":                "yfffns",
	"GET /p/{practice}/setup/providers":                 "yfffns",
	"POST /p/{practice}/setup/providers":                "yfffns",
	"GET /p/{practice}/setup/resources":                 "yfffns",
	"POST /p/{practice}/setup/resources":                "yfffns",
	"GET /p/{practice}/setup/visit-types":               "yfffns",
	"POST /p/{practice}/setup/visit-types":              "yfffns",
	"GET /p/{practice}/setup/blocks":                    "yfffns",
	"GET /p/{practice}/setup/blocks/new":                "yfffns",
	"POST /p/{practice}/setup/blocks":                   "yfffns",
	"GET /p/{practice}/setup/blocks/{block}":            "yfffns",
	"GET /p/{practice}/setup/blocks/{block}/edit":       "yfffns",
	"POST /p/{practice}/setup/blocks/{block}":           "yfffns",
	"POST /p/{practice}/setup/blocks/{block}/exdates":   "yfffns",
	"POST /p/{practice}/setup/blocks/{block}/overrides": "yfffns",
	"POST /p/{practice}/setup/blocks/{block}/delete":    "yfffns",
	"POST /p/{practice}/setup/blocks/{block}/move":      "yfffns",
	"GET /onboarding":                                   "yyyyyy",
	"POST /onboarding":                                  "yyyyyy",
}
