// Package openapicheck holds the reference server's answers to its OpenAPI
// document, for the tests of refserver/api and refserver/web: each answer's
// status, content type and body must be one the document allows for the
// operation of its request.
package openapicheck

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// ErrNoRoute is in the chain of Check's error when the document has no
// operation for the request.
var ErrNoRoute = errors.New("not in the document")

// Document is an OpenAPI document, loaded, validated and routed.
type Document struct {
	router routers.Router
}

func init() {
	// The pages of links and the TwiML of webhooks are checked as text.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/xml", openapi3filter.PlainBodyDecoder)
}

// Load parses and validates the JSON document doc.
func Load(doc []byte) (*Document, error) {
	d, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("OpenAPI document: %w", err)
	}
	if err := d.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("OpenAPI document: %w", err)
	}
	router, err := legacy.NewRouter(d)
	if err != nil {
		return nil, fmt.Errorf("OpenAPI document: %w", err)
	}
	return &Document{router: router}, nil
}

// Check returns nil when the answer (status, header, body) to r is one the
// document allows for r's operation; an error wrapping ErrNoRoute when the
// document has no operation for r; otherwise what the document refuses.
func (d *Document) Check(r *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := d.router.FindRoute(r)
	if err != nil {
		return fmt.Errorf("%s %s: %w (%v)", r.Method, r.URL.Path, ErrNoRoute, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s answered %d, which the document does not allow: %w", r.Method, r.URL.Path, status, err)
	}
	return nil
}
