// Package nppes is a client of CMS's NPPES NPI Registry API, version 2.1
// (GET https://npiregistry.cms.hhs.gov/api/?version=2.1&number=<npi>): it
// looks one NPI up and implements kyc.Registry. Package nppestest serves a
// fake registry for tests.
package nppes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/kyc"
)

// DefaultBaseURL is the registry's API.
const DefaultBaseURL = "https://npiregistry.cms.hhs.gov/api/"

// maxBody bounds an answer: one NPI's record is a few kilobytes.
const maxBody = 1 << 20

// Config configures a Client. The zero Config asks the real registry with
// a 10-second timeout.
type Config struct {
	// BaseURL is the API's URL (DefaultBaseURL if empty); tests give
	// nppestest's.
	BaseURL string
	// HTTPClient makes the requests (a client of its own if nil).
	HTTPClient *http.Client
	// Timeout bounds each lookup (10 seconds if 0).
	Timeout time.Duration
}

// Client looks NPIs up in the registry. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	http    *http.Client
	timeout time.Duration
}

var _ kyc.Registry = (*Client)(nil)

// New returns a Client; a BaseURL that is not an absolute http(s) URL is
// KindInvalid naming "base_url".
func New(c Config) (*Client, error) {
	const op = "nppes.New"
	raw := c.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errs.Invalid(op, "base_url", "must be an absolute http or https URL")
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	t := c.Timeout
	if t <= 0 {
		t = 10 * time.Second
	}
	return &Client{base: u, http: hc, timeout: t}, nil
}

// Lookup returns the registry's record of npi: KindNotFound when it has
// none, kyc.Unreachable's error (field "npi") when the registry does not
// answer in time, answers an HTTP error, or answers what does not decode.
func (c *Client) Lookup(ctx context.Context, npi string) (*kyc.Record, error) {
	const op = "nppes.Lookup"
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := *c.base
	q := u.Query()
	q.Set("version", "2.1")
	q.Set("number", npi)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, kyc.Unreachable(op, "npi", "bad request")
	}
	req.Header.Set("Accept", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, kyc.Unreachable(op, "npi", "no answer in "+c.timeout.String())
		}
		return nil, kyc.Unreachable(op, "npi", "no connection")
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return nil, kyc.Unreachable(op, "npi", "the answer was cut off")
	}
	if res.StatusCode != http.StatusOK {
		return nil, kyc.Unreachable(op, "npi", "HTTP "+strconv.Itoa(res.StatusCode))
	}
	if len(body) > maxBody {
		return nil, kyc.Unreachable(op, "npi", "the answer is too long")
	}
	return Decode(body, npi)
}

// answer is the registry's JSON (the fields carebook reads).
type answer struct {
	ResultCount *int     `json:"result_count"`
	Results     []result `json:"results"`
	Errors      []struct {
		Description string `json:"description"`
		Field       string `json:"field"`
	} `json:"Errors"`
}

type result struct {
	// Number is a JSON number in version 2.1; a string is taken too.
	Number          json.RawMessage `json:"number"`
	EnumerationType string          `json:"enumeration_type"`
	Basic           struct {
		Status           string `json:"status"`
		OrganizationName string `json:"organization_name"`
		FirstName        string `json:"first_name"`
		LastName         string `json:"last_name"`
	} `json:"basic"`
	Taxonomies []struct {
		Code    string `json:"code"`
		Primary bool   `json:"primary"`
	} `json:"taxonomies"`
}

// Decode reads a registry answer to the lookup of npi: the record whose
// number is npi, KindNotFound when there is none, and kyc.Unreachable's
// error for an answer that is not the registry's (not JSON, no
// result_count, an Errors list, a record without a known
// enumeration_type).
func Decode(body []byte, npi string) (*kyc.Record, error) {
	const op = "nppes.Decode"
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, kyc.Unreachable(op, "npi", "the answer is not the registry's JSON")
	}
	if len(a.Errors) > 0 {
		d := a.Errors[0].Description
		if len(d) > 200 {
			d = d[:200]
		}
		return nil, kyc.Unreachable(op, "npi", "the registry refused the query: "+strings.ToValidUTF8(d, "?"))
	}
	if a.ResultCount == nil {
		return nil, kyc.Unreachable(op, "npi", "the answer has no result_count")
	}
	for _, r := range a.Results {
		num, ok := number(r.Number)
		if !ok || num != npi {
			continue
		}
		rec := &kyc.Record{NPI: num, Entity: kyc.Entity(r.EnumerationType), Active: r.Basic.Status == "A"}
		switch rec.Entity {
		case kyc.Organization:
			rec.Name = strings.TrimSpace(r.Basic.OrganizationName)
		case kyc.Individual:
			rec.Name = strings.TrimSpace(r.Basic.FirstName + " " + r.Basic.LastName)
		default:
			return nil, kyc.Unreachable(op, "npi", fmt.Sprintf("the record has an unknown enumeration_type %q", clip(r.EnumerationType)))
		}
		for _, t := range r.Taxonomies {
			if t.Primary {
				rec.Taxonomies = append([]string{t.Code}, rec.Taxonomies...)
			} else {
				rec.Taxonomies = append(rec.Taxonomies, t.Code)
			}
		}
		return rec, nil
	}
	return nil, errs.NotFound(op, "npi")
}

// number reads a record's number, a JSON number or string of ten digits.
func number(raw json.RawMessage) (string, bool) {
	s := string(raw)
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	if len(s) != 10 {
		return "", false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return s, true
}

func clip(s string) string {
	if len(s) > 20 {
		s = s[:20]
	}
	return strings.ToValidUTF8(s, "?")
}
