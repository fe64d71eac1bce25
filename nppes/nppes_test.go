package nppes_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/kyc"
	"github.com/carebook/carebook/nppes"
	"github.com/carebook/carebook/nppes/nppestest"
	"github.com/stretchr/testify/require"
)

// TestLookup: the fake registry's records come back as kyc records; an
// unknown NPI is KindNotFound; a registry down or slow is the retryable
// error naming "npi", never KindInternal.
func TestLookup(t *testing.T) {
	fake := nppestest.New()
	t.Cleanup(fake.Close)
	fake.Add(nppestest.Record{NPI: "1245319599", Type: "NPI-2", Status: "A", Organization: "RIVERSIDE FAMILY CLINIC", Taxonomy: "261QP2300X"})
	fake.Add(nppestest.Record{NPI: "1234567893", Type: "NPI-1", Status: "A", First: "ANNA", Last: "PETROVA"})
	c, err := nppes.New(nppes.Config{BaseURL: fake.URL(), Timeout: time.Second})
	require.NoError(t, err)
	ctx := context.Background()

	r, err := c.Lookup(ctx, "1245319599")
	require.NoError(t, err)
	require.Equal(t, &kyc.Record{NPI: "1245319599", Entity: kyc.Organization, Active: true, Name: "RIVERSIDE FAMILY CLINIC", Taxonomies: []string{"261QP2300X"}}, r)
	r, err = c.Lookup(ctx, "1234567893")
	require.NoError(t, err)
	require.Equal(t, kyc.Individual, r.Entity)
	require.Equal(t, "ANNA PETROVA", r.Name)

	_, err = c.Lookup(ctx, "1111111112")
	require.True(t, errs.Is(err, errs.KindNotFound), "%v", err)
	_, err = c.Lookup(ctx, "12&x=1")
	require.True(t, errs.Is(err, errs.KindPreconditionFailed), "the registry's Errors answer: %v", err)
	require.Equal(t, "npi", errs.FieldOf(err))

	fake.Fail(http.StatusServiceUnavailable)
	_, err = c.Lookup(ctx, "1245319599")
	require.True(t, errs.Is(err, errs.KindPreconditionFailed), "%v", err)
	require.Equal(t, "npi", errs.FieldOf(err))
	require.Contains(t, err.Error(), "try again later")

	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(block) })
	sc, err := nppes.New(nppes.Config{BaseURL: slow.URL, Timeout: 50 * time.Millisecond})
	require.NoError(t, err)
	_, err = sc.Lookup(ctx, "1245319599")
	require.True(t, errs.Is(err, errs.KindPreconditionFailed), "%v", err)
	require.Contains(t, err.Error(), "no answer")

	_, err = nppes.New(nppes.Config{BaseURL: "ftp://x"})
	require.Equal(t, "base_url", errs.FieldOf(err))
}

// TestDecode: the registry's shapes, one row each.
func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		kind       errs.Kind
		want       *kyc.Record
	}{
		{"organisation, number as JSON number", `{"result_count":1,"results":[{"number":1245319599,"enumeration_type":"NPI-2","basic":{"organization_name":" ACME ","status":"A"}}]}`, 0,
			&kyc.Record{NPI: "1245319599", Entity: kyc.Organization, Active: true, Name: "ACME"}},
		{"individual, number as string, inactive", `{"result_count":1,"results":[{"number":"1245319599","enumeration_type":"NPI-1","basic":{"first_name":"A","last_name":"B","status":"D"}}]}`, 0,
			&kyc.Record{NPI: "1245319599", Entity: kyc.Individual, Name: "A B"}},
		{"primary taxonomy first", `{"result_count":1,"results":[{"number":1245319599,"enumeration_type":"NPI-2","basic":{"status":"A"},"taxonomies":[{"code":"X1"},{"code":"P","primary":true}]}]}`, 0,
			&kyc.Record{NPI: "1245319599", Entity: kyc.Organization, Active: true, Taxonomies: []string{"P", "X1"}}},
		{"none", `{"result_count":0,"results":[]}`, errs.KindNotFound, nil},
		{"another number", `{"result_count":1,"results":[{"number":1234567893,"enumeration_type":"NPI-1"}]}`, errs.KindNotFound, nil},
		{"errors", `{"Errors":[{"description":"bad","field":"number"}]}`, errs.KindPreconditionFailed, nil},
		{"no count", `{"results":[]}`, errs.KindPreconditionFailed, nil},
		{"not JSON", `<html>`, errs.KindPreconditionFailed, nil},
		{"unknown type", `{"result_count":1,"results":[{"number":1245319599,"enumeration_type":"NPI-3"}]}`, errs.KindPreconditionFailed, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := nppes.Decode([]byte(tc.body), "1245319599")
			if tc.want != nil {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			require.True(t, errs.Is(err, tc.kind), "%v", err)
		})
	}
}

// FuzzDecode: no answer panics or reads as a bug; what decodes is a record
// of the NPI asked, of a known entity.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"result_count":1,"results":[{"number":1245319599,"enumeration_type":"NPI-2","basic":{"organization_name":"ACME","status":"A"}}]}`))
	f.Add([]byte(`{"result_count":1,"results":[{"number":"1245319599","enumeration_type":"NPI-1","basic":{"first_name":"A","last_name":"B"},"taxonomies":[{"code":"1","primary":true}]}]}`))
	f.Add([]byte(`{"Errors":[{"description":"x","field":"number"}]}`))
	f.Add([]byte(`{"result_count":0,"results":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := nppes.Decode(body, "1245319599")
		if err != nil {
			if k := errs.KindOf(err); k != errs.KindNotFound && k != errs.KindPreconditionFailed {
				t.Fatalf("kind %v: %v", k, err)
			}
			return
		}
		if r.NPI != "1245319599" || (r.Entity != kyc.Individual && r.Entity != kyc.Organization) {
			t.Fatalf("decoded %+v", r)
		}
	})
}
