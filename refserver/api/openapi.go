package api

import "embed"

//go:embed openapi.json
var openapiFS embed.FS

// openAPIDocument returns the embedded OpenAPI 3.1 document.
func openAPIDocument() []byte {
	b, err := openapiFS.ReadFile("openapi.json")
	if err != nil {
		panic("refserver: the embedded OpenAPI document is missing: " + err.Error())
	}
	return b
}
