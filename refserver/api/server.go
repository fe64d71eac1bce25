package api

import (
	"log/slog"
	"net/http"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/notify/twilio"
	"github.com/carebook/carebook/refserver"
)

// server holds the JSON API's handlers over one refserver.Server.
type server struct {
	srv    *refserver.Server
	engine *carebook.Engine
	opts   refserver.Options
	log    *slog.Logger
	// twilio checks Twilio's webhooks; nil without Options.TwilioAuthToken.
	twilio  *twilio.Validator
	openapi []byte
}

// Module adds the JSON API, its webhooks and its OpenAPI document to the
// Server being built.
func Module(rt *refserver.Router) {
	srv := rt.Server()
	s := &server{srv: srv, engine: srv.Engine(), opts: srv.Options(), log: srv.Logger(), openapi: openAPIDocument()}
	if s.opts.TwilioAuthToken != "" {
		v := twilio.NewValidator(s.opts.TwilioAuthToken)
		s.twilio = &v
	}
	rt.API(append(s.routes(), s.opsRoutes()...)...)
}

func (s *server) serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	w.Write(s.openapi)
	return nil
}
