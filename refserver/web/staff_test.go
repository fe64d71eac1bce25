package web

// staffMatrix are the page authorization rows of the staff pages (see
// pageMatrix).
var staffMatrix = map[string]string{}
