package web

// patientMatrix are the page authorization rows of the patient pages (see
// pageMatrix). Staff get 403 on them (the pages are for the practice's
// patients; they book at /desk/book); a patient reaches only their own
// visits (column 4: another patient's appointment is 403); a form posted
// without the patient's own patient_id is refused (403) by the route's
// guard.
var patientMatrix = map[string]string{
	"GET /p/{practice}/register":                         "yyyyyy",
	"POST /p/{practice}/register":                        "yyyyyy",
	"GET /p/{practice}/register/sent":                    "yyyyyy",
	"GET /verify":                                        "yyyyyy",
	"POST /verify":                                       "yyyyyy",
	"GET /p/{practice}/verified":                         "yyyyyy",
	"GET /p/{practice}/book":                             "ffyyns",
	"POST /p/{practice}/book":                            "ffffns",
	"GET /p/{practice}/visits":                           "ffyyns",
	"GET /p/{practice}/visits/{appointment}":             "ffyfns",
	"GET /p/{practice}/visits/{appointment}/reschedule":  "ffyfns",
	"POST /p/{practice}/visits/{appointment}/reschedule": "ffyfns",
	"GET /p/{practice}/visits/{appointment}/cancel":      "ffyfns",
	"POST /p/{practice}/visits/{appointment}/cancel":     "ffyfns",
	"GET /p/{practice}/preferences":                      "ffyyns",
	"POST /p/{practice}/preferences":                     "ffffns",
}
