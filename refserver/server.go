package refserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/notify/sendgrid"
	"github.com/carebook/carebook/tenant"
)

// Options tune a Server. The zero value is ready to use.
type Options struct {
	// Logger receives access logs and internal errors; nil means the
	// engine's logger.
	Logger *slog.Logger
	// Authenticate is the one middleware in front of every route that puts
	// the acting actor.Actor in the request's context; nil means
	// ActorFromHeader. SessionAuth is the real authentication.
	Authenticate func(http.Handler) http.Handler
	// SkipAuthorization turns per-route authorization off: every route is
	// served to any request its Authenticate lets through, whatever the
	// actor's grants. It is for development and tests ONLY, and is on
	// exactly when Authenticate is nil (ActorFromHeader, which authenticates
	// nobody). With any other Authenticate, authorization is enforced for
	// requests SessionAuth authenticated, and other requests to non-public
	// routes get 401; a custom Authenticate must set SkipAuthorization.
	SkipAuthorization bool
	// DeliverToken sends an email verification or invitation token to its
	// owner; nil logs it instead, which is for development only.
	DeliverToken func(ctx context.Context, m TokenMessage) error
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64
	// ShutdownTimeout bounds the graceful shutdown of Serve; 0 means 10 s.
	ShutdownTimeout time.Duration
	// PublicURL is the server's address as the outside world calls it,
	// scheme and host (such as "https://clinic.example"): Twilio signs the
	// URL it called, so its webhooks are checked against this address and
	// the request's path. "" refuses Twilio's webhooks.
	PublicURL string
	// TwilioAuthToken checks the X-Twilio-Signature of Twilio's webhooks
	// (inbound SMS, status callbacks); "" refuses them.
	TwilioAuthToken string
	// SendGridEvents verifies SendGrid's signed event webhook; nil refuses it.
	SendGridEvents *sendgrid.EventVerifier
	// RateLimit bounds sign-in and password-change attempts per client
	// address and per account; the zero value takes its defaults.
	RateLimit RateLimit
	// TrustedProxies are the networks of the reverse proxies in front of
	// the server. A request from one of them is taken to come from the
	// right-most address of its X-Forwarded-For outside them; with none,
	// X-Forwarded-For is ignored and the client is the connection's peer.
	TrustedProxies []netip.Prefix
}

// Server is the reference HTTP server over an Engine. It implements
// http.Handler and is safe for concurrent use.
type Server struct {
	engine  *carebook.Engine
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics
	handler http.Handler
	// table is every route, in the order added; routes is each one's
	// kind and access by its method and pattern (the mux's pattern).
	table  []Route
	routes map[string]routeInfo
	limits *attemptLimits
}

// routeInfo is what the server knows of a route, by its pattern.
type routeInfo struct {
	kind   routeKind
	access Access
}

// New returns a Server over engine, answering its own operational routes
// (/healthz, /readyz, /metrics) and those each module adds: the reference
// server is New(engine, opts, api.Module, web.Module). The engine stays the
// caller's to close.
func New(engine *carebook.Engine, opts Options, modules ...Module) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.Authenticate == nil {
		opts.Authenticate = ActorFromHeader
		opts.SkipAuthorization = true
	}
	s := &Server{engine: engine, opts: opts, log: opts.Logger, mux: http.NewServeMux(), metrics: newMetrics(), routes: map[string]routeInfo{},
		limits: newAttemptLimits(opts.RateLimit, engine.RateLimits)}
	if s.log == nil {
		s.log = engine.Logger
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	rt := &Router{s: s}
	rt.API(s.coreRoutes()...)
	rt.Pages(s.assetRoutes()...)
	for _, m := range modules {
		m(rt)
	}
	// The chain, outermost first. Authenticate is the one swappable link.
	var h http.Handler = http.HandlerFunc(s.dispatch)
	h = opts.Authenticate(h)
	h = s.recoverPanics(h)
	h = securityHeaders(h)
	h = s.accessLog(h)
	h = s.withClientIP(h)
	h = s.withRequestID(h)
	s.handler = h
	return s
}

// handle registers rt, a route of kind k, behind its authorization, the
// renderer and its metrics.
func (s *Server) handle(rt Route, k routeKind) {
	key := rt.Method + " " + rt.Pattern
	s.routes[key] = routeInfo{kind: k, access: rt.Access}
	s.table = append(s.table, rt)
	h := s.authorized(rt)
	if k == apiRoute && (rt.Pattern == PracticePrefix || strings.HasPrefix(rt.Pattern, PracticePrefix+"/")) {
		h = s.practiceRateLimited(h)
	}
	s.mux.Handle(key, s.instrument(rt, s.api(h)))
}

// Engine returns the engine the Server serves.
func (s *Server) Engine() *carebook.Engine { return s.engine }

// Options returns the Server's options, defaults filled in.
func (s *Server) Options() Options { return s.opts }

// Logger returns the Server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// route returns what the server knows of the route r matches, if any.
func (s *Server) route(r *http.Request) (routeInfo, bool) {
	_, pattern := s.mux.Handler(r)
	ri, ok := s.routes[pattern]
	return ri, ok
}

// ServeHTTP serves one request through the middleware chain.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// dispatch routes a request, answering unknown paths (404) and methods (405)
// with problem documents too.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	// Let the mux decide between 404 and 405 (and set Allow), then answer
	// with a problem instead of its plain text.
	var probe headerProbe
	probe.header = http.Header{}
	s.mux.ServeHTTP(&probe, r)
	status := probe.status
	if status == 0 {
		status = http.StatusNotFound
	}
	if allow := probe.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	s.metrics.observe("unmatched", r.Method, status, 0)
	p := Problem{Type: ProblemTypePrefix + "not_found", Title: http.StatusText(status), Status: status,
		Kind: "not_found", Detail: "no such route"}
	if status == http.StatusMethodNotAllowed {
		p.Type, p.Kind, p.Detail = ProblemTypePrefix+"method_not_allowed", "method_not_allowed", "the route does not allow "+r.Method
	}
	answerProblem(w, r, bothRoute, p, nil)
}

// headerProbe records what the mux would answer without sending it.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *headerProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// ListenAndServe listens on addr (such as "127.0.0.1:8080" or ":0") and
// serves until ctx is done, then shuts down gracefully.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then stops taking connections and
// waits (at most Options.ShutdownTimeout) for requests in flight. It returns
// nil after a graceful shutdown. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// Token kinds of a TokenMessage.
const (
	TokenEmailVerification = "email_verification"
	TokenInvitation        = "invitation"
)

// DeliverToken hands m to Options.DeliverToken, or logs it when there is
// none (development only: the log then holds a secret). The API and the
// pages deliver their tokens (verifications, invitations) through it.
func (s *Server) DeliverToken(ctx context.Context, m TokenMessage) error {
	if s.opts.DeliverToken != nil {
		return s.opts.DeliverToken(ctx, m)
	}
	s.log.InfoContext(ctx, "token to deliver (set Options.DeliverToken to send it)",
		slog.String("kind", m.Kind), slog.String("to", m.To), slog.String("token", m.Token))
	return nil
}

// TokenMessage is a one-time token for Options.DeliverToken to send to the
// person it belongs to: an email verification or a staff invitation.
type TokenMessage struct {
	Kind       string // TokenEmailVerification or TokenInvitation
	PracticeID tenant.PracticeID
	To         string // the email (or, for a phone-only patient, the phone)
	Token      string
}
