package web

// adminMatrix are the page authorization rows of the admin pages (see
// pageMatrix).
var adminMatrix = map[string]string{}
