package fhir

import (
	"encoding/json"
	"io"

	"github.com/carebook/carebook/errs"
)

// Page is one page of a searchset Bundle.
type Page struct {
	// Base is the FHIR base URL the resources' fullUrls are under (such as
	// https://host/api/v1/practices/{id}/fhir); references are relative
	// to it.
	Base string
	// Self and Next are the links of this page and of the next one (""
	// on the last page).
	Self, Next string
	// Total is how many resources the whole search matches.
	Total int
	// Match is the resource type whose resources are the search's matches
	// (search.mode "match"); the others are "include".
	Match string
}

// Searchset returns a searchset Bundle of resources, one page of a
// search, with its total and self and next links.
func Searchset(resources []Resource, p Page) Resource {
	entries := make([]any, 0, len(resources))
	for _, r := range resources {
		mode := "include"
		if r.Type() == p.Match {
			mode = "match"
		}
		entries = append(entries, map[string]any{"fullUrl": p.Base + "/" + r.Type() + "/" + r.ID(),
			"resource": r, "search": map[string]any{"mode": mode}})
	}
	links := []any{map[string]any{"relation": "self", "url": p.Self}}
	if p.Next != "" {
		links = append(links, map[string]any{"relation": "next", "url": p.Next})
	}
	b := Resource{"resourceType": "Bundle", "type": "searchset", "total": p.Total, "link": links}
	if len(entries) > 0 {
		b["entry"] = entries
	}
	return b
}

// WriteNDJSON writes resources to w as NDJSON: one resource's JSON a line.
func WriteNDJSON(w io.Writer, resources []Resource) error {
	enc := json.NewEncoder(w) // Encode ends each value with a newline
	enc.SetEscapeHTML(false)
	for _, r := range resources {
		if r.Type() == "" {
			return errs.Invalid("fhir.WriteNDJSON", "resourceType", "is required")
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}
