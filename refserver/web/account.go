package web

import (
	"net/http"

	"github.com/carebook/carebook/refserver"
)

// The signed-in account's own pages: who it is, its sessions and devices,
// its password and its second factor.

// accountRoutes are the account's pages; they need a session and no
// permission.
func (s *pages) accountRoutes() []refserver.Route {
	return []refserver.Route{
		route("GET", "/account", s.showAccount, "The signed-in account: sessions, password, two-factor authentication", refserver.SignedInOnly()),
	}
}

// accountPage is the account's page.
type accountPage struct {
	*view
	Home string
}

func (s *pages) showAccount(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "account.title")
	p := &accountPage{view: v}
	if c := refserver.CredentialsFrom(r.Context()); c != nil && c.Session != nil {
		p.Home = s.home(r, c)
	}
	return s.render(w, http.StatusOK, "account.html", p)
}
