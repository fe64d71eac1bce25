package refserver

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
)

// TestRequestFirstErrorWins: a request's accessors keep the first error,
// naming its input, and do nothing after it (the body is not even read).
func TestRequestFirstErrorWins(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t))
	good := uuid.NewString()
	for _, c := range []struct {
		name, practice, block, body, query string
		field                              string // "" is no error
	}{
		{"all good", good, good, `{"to_block_id":"` + good + `"}`, "limit=5", ""},
		{"bad practice first", "nope", "nope", `{"to_block_id":1}`, "limit=x", "practice"},
		{"then the path", good, "nope", `{"to_block_id":1}`, "limit=x", "block"},
		{"then the body", good, good, `{"to_block_id":1}`, "limit=x", "to_block_id"},
		{"then a body member", good, good, `{"to_block_id":"x"}`, "limit=x", "to_block_id"},
		{"then the query", good, good, `{"to_block_id":"` + good + `"}`, "limit=x", "limit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/x?"+c.query, strings.NewReader(c.body))
			r.Header.Set("Content-Type", "application/json")
			r.SetPathValue("practice", c.practice)
			r.SetPathValue("block", c.block)
			req := e.srv.Request(httptest.NewRecorder(), r)
			pid, block := req.Practice(), req.Path("block")
			var in struct {
				ToBlockID string `json:"to_block_id"`
			}
			req.Body(&in)
			to := req.BodyID("to_block_id", in.ToBlockID)
			limit := req.Int("limit", 10, 1, 100)
			if c.field == "" {
				if req.Err != nil || pid.String() != good || block.String() != good || to.String() != good || limit != 5 {
					t.Fatalf("err = %v; %v %v %v %d", req.Err, pid, block, to, limit)
				}
				return
			}
			if !errs.Is(req.Err, errs.KindInvalid) || errs.FieldOf(req.Err) != c.field {
				t.Fatalf("err = %v, want an invalid %s", req.Err, c.field)
			}
			if c.field == "practice" && in.ToBlockID != "" {
				t.Errorf("the body was read after the first error: %+v", in)
			}
		})
	}
}
