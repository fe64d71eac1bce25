package web

// deskMatrix are the page authorization rows of the desk pages (see
// pageMatrix).
var deskMatrix = map[string]string{}
