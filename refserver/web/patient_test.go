package web

// patientMatrix are the page authorization rows of the patient pages (see
// pageMatrix).
var patientMatrix = map[string]string{}
