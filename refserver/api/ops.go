package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/refserver"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// The operator's support staff over JSON (refserver.OperatorAPIPrefix):
// sign in for a bearer token, list every practice with its plan, status,
// usage and invoices, and extend a trial, change a plan or lift a
// read-only state, each with a reason, through the Engine's support
// operations that the /ops/ pages call (audited in the practice's
// activity log and in support_actions). The routes are
// refserver.Operator: an account's credentials, whatever its grants, get
// 403, and nothing here reads a patient's data.

// opsRoutes are the support staff's routes of the API.
func (s *server) opsRoutes() []refserver.Route {
	b := refserver.OperatorAPIPrefix
	return []refserver.Route{
		route("POST", refserver.OperatorAPILoginPath, s.opsLogin, "Sign a support staff member in: a bearer token for the support routes", refserver.Public()),
		route("POST", b+"/logout", s.opsLogout, "End this support session", refserver.Operator()),
		route("GET", b+"/practices", s.opsTenants, "Every practice with its plan, status, usage of the period and invoices, by ID after ?after", refserver.Operator()),
		route("GET", b+"/practices/{id}", s.opsPractice, "A practice's account and billing, its latest invoices and support actions", refserver.Operator()),
		route("POST", b+"/practices/{id}/trial", s.opsExtendTrial, "Extend a practice's trial to until, with a reason", refserver.Operator()),
		route("PUT", b+"/practices/{id}/plan", s.opsChangePlan, "Put a practice on another plan, with a reason", refserver.Operator()),
		route("POST", b+"/practices/{id}/read-only/lift", s.opsLiftReadOnly, "Lift every reason a practice is read-only, with a reason", refserver.Operator()),
	}
}

// opsLoginIn is POST /api/v1/ops/login's body.
type opsLoginIn struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// opsLoginOut is a support session: its token, given once.
type opsLoginOut struct {
	Token     string    `json:"token"`
	Staff     string    `json:"staff"`
	ExpiresAt time.Time `json:"expires_at"`
}

// opsLogin signs a support staff member in, counted by the sign-in rate
// limits as every sign-in is (refserver.Server.CheckAttempt).
func (s *server) opsLogin(w http.ResponseWriter, r *http.Request) error {
	var in opsLoginIn
	req := s.srv.Request(w, r)
	req.Body(&in)
	if req.Err != nil {
		return req.Err
	}
	if err := s.srv.CheckAttempt(r, in.Email); err != nil {
		return err
	}
	tok, o, err := s.engine.OperatorSignIn(r.Context(), in.Email, in.Password)
	if err != nil {
		return err
	}
	exp := s.engine.Clock.Now().UTC().Add(carebook.OperatorSessionMax)
	return refserver.Reply(w, http.StatusCreated, opsLoginOut{Token: tok, Staff: o.Email, ExpiresAt: exp})
}

// opsLogout ends the support session of the request's bearer token.
func (s *server) opsLogout(w http.ResponseWriter, r *http.Request) error {
	_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if err := s.engine.OperatorSignOut(r.Context(), strings.TrimSpace(tok)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// opsTenantOut is one practice as the support staff see it: account and
// billing, nothing of its patients.
type opsTenantOut struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	GroupID     string           `json:"group_id"`
	Group       string           `json:"group"`
	Plan        string           `json:"plan,omitempty"`
	Status      string           `json:"status"`
	TrialEnd    *time.Time       `json:"trial_end,omitempty"`
	PeriodStart time.Time        `json:"period_start"`
	PeriodEnd   time.Time        `json:"period_end"`
	Usage       []opsUsageOut    `json:"usage"`
	ReadOnly    []readOnlyOut    `json:"read_only"`
	Invoices    opsInvoiceCounts `json:"invoices"`
}

// opsUsageOut is the units of one meter in the current period.
type opsUsageOut struct {
	Meter string `json:"meter"`
	Units int64  `json:"units"`
}

// opsInvoiceCounts count a practice's invoices.
type opsInvoiceCounts struct {
	Open int `json:"open"`
	Paid int `json:"paid"`
}

// opsTenantsOut is a page of practices; Next, when set, is the ?after of
// the next page.
type opsTenantsOut struct {
	Practices []opsTenantOut `json:"practices"`
	Next      string         `json:"next,omitempty"`
}

// opsActionOut is one support action taken on a practice.
type opsActionOut struct {
	Action string    `json:"action"`
	Detail string    `json:"detail"`
	Reason string    `json:"reason"`
	Staff  string    `json:"staff"`
	At     time.Time `json:"at"`
}

// opsPracticeOut is a practice's support view.
type opsPracticeOut struct {
	opsTenantOut
	LatestInvoices []invoiceJSON  `json:"latest_invoices"`
	Actions        []opsActionOut `json:"actions"`
}

// opsTenantOf is t as the API shows it.
func opsTenantOf(t carebook.SupportTenant) opsTenantOut {
	out := opsTenantOut{ID: t.Practice.ID.String(), Name: t.Practice.Name, GroupID: t.Group.ID.String(), Group: t.Group.Name,
		Status: "no_plan", PeriodStart: t.PeriodStart.UTC(), PeriodEnd: t.PeriodEnd.UTC(), Usage: []opsUsageOut{},
		ReadOnly: []readOnlyOut{}, Invoices: opsInvoiceCounts{Open: t.InvoicesOpen, Paid: t.InvoicesPaid}}
	if sub := t.Subscription; sub != nil {
		out.Plan, out.Status, out.TrialEnd = string(sub.Plan), string(sub.Status), nonZero(sub.TrialEnd)
	}
	for _, u := range t.Usage {
		out.Usage = append(out.Usage, opsUsageOut{Meter: string(u.Meter), Units: u.Units})
	}
	for _, ro := range t.ReadOnly {
		out.ReadOnly = append(out.ReadOnly, readOnlyOut{Reason: string(ro.Reason), Since: ro.Since.UTC(), Restore: ro.Reason.Restore()})
	}
	return out
}

// opsTenants lists the practices by ID after ?after, a page
// (carebook.SupportPage) at a time.
func (s *server) opsTenants(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	after := req.ID("after")
	if req.Err != nil {
		return req.Err
	}
	var from tenant.PracticeID
	if after != nil {
		from = *after
	}
	list, err := s.engine.SupportTenants(r.Context(), from)
	if err != nil {
		return err
	}
	out := opsTenantsOut{Practices: make([]opsTenantOut, len(list))}
	for i, t := range list {
		out.Practices[i] = opsTenantOf(t)
	}
	if len(list) == carebook.SupportPage {
		out.Next = list[len(list)-1].Practice.ID.String()
	}
	return refserver.Reply(w, http.StatusOK, out)
}

// opsPractice is one practice's support view.
func (s *server) opsPractice(w http.ResponseWriter, r *http.Request) error {
	req := s.srv.Request(w, r)
	id := req.Path("id")
	if req.Err != nil {
		return req.Err
	}
	return s.replyOpsPractice(w, r, id, http.StatusOK)
}

// replyOpsPractice answers practice id's support view with status.
func (s *server) replyOpsPractice(w http.ResponseWriter, r *http.Request, id uuid.UUID, status int) error {
	v, err := s.engine.SupportPractice(r.Context(), id)
	if err != nil {
		return err
	}
	out := opsPracticeOut{opsTenantOut: opsTenantOf(v.SupportTenant), LatestInvoices: make([]invoiceJSON, len(v.Invoices)),
		Actions: make([]opsActionOut, len(v.Actions))}
	for i, inv := range v.Invoices {
		out.LatestInvoices[i] = invoiceOf(inv)
	}
	for i, a := range v.Actions {
		out.Actions[i] = opsActionOut{Action: a.Action, Detail: a.Detail, Reason: a.Reason, Staff: a.StaffEmail, At: a.At.UTC()}
	}
	return refserver.Reply(w, status, out)
}

// opsTrialIn is POST …/trial's body.
type opsTrialIn struct {
	Until  string `json:"until"`
	Reason string `json:"reason"`
}

// opsPlanIn is PUT …/plan's body.
type opsPlanIn struct {
	Plan   string `json:"plan"`
	Reason string `json:"reason"`
}

// opsReasonIn is POST …/read-only/lift's body.
type opsReasonIn struct {
	Reason string `json:"reason"`
}

// opsAct reads the {id} and the body into in, runs act, and answers the
// practice's support view after it.
func opsAct[T any](s *server, w http.ResponseWriter, r *http.Request, act func(req *refserver.Request, id tenant.PracticeID, in *T) error) error {
	req := s.srv.Request(w, r)
	id := req.Path("id")
	var in T
	req.Body(&in)
	if req.Err != nil {
		return req.Err
	}
	if err := act(req, id, &in); err != nil {
		return err
	}
	return s.replyOpsPractice(w, r, id, http.StatusOK)
}

// opsExtendTrial extends a practice's trial (carebook.Engine.ExtendTrial).
func (s *server) opsExtendTrial(w http.ResponseWriter, r *http.Request) error {
	return opsAct(s, w, r, func(req *refserver.Request, id tenant.PracticeID, in *opsTrialIn) error {
		until := req.BodyTime("until", in.Until)
		if req.Err != nil {
			return req.Err
		}
		return s.engine.ExtendTrial(r.Context(), id, until, in.Reason)
	})
}

// opsChangePlan changes a practice's plan (carebook.Engine.ChangePlan).
func (s *server) opsChangePlan(w http.ResponseWriter, r *http.Request) error {
	return opsAct(s, w, r, func(_ *refserver.Request, id tenant.PracticeID, in *opsPlanIn) error {
		return s.engine.ChangePlan(r.Context(), id, billing.PlanID(in.Plan), in.Reason)
	})
}

// opsLiftReadOnly lifts a practice's read-only state
// (carebook.Engine.LiftReadOnly).
func (s *server) opsLiftReadOnly(w http.ResponseWriter, r *http.Request) error {
	return opsAct(s, w, r, func(_ *refserver.Request, id tenant.PracticeID, in *opsReasonIn) error {
		return s.engine.LiftReadOnly(r.Context(), id, in.Reason)
	})
}
