package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/carebook/carebook/audit"
	"github.com/carebook/carebook/internal/demo"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
)

// auditFilter is the filter of the entries of action.
func auditFilter(action string) audit.Filter {
	return audit.Filter{Action: action, Limit: audit.MaxLimit}
}

// TestActivityLog: the log lists the practice's entries, filtered by
// action, outcome, actor and dates, refusing bad filters next to their
// field; it pages with after; the chain check says OK, and names the
// first broken entry once one is changed behind the log's back.
func TestActivityLog(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		a := newApp(t, st)
		for range 3 {
			a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
		}
		bad := a.client()
		bad.get("/signin")
		bad.post("/signin", map[string][]string{"email": {demo.FrontDeskEmail}, "password": {"wrong"}})
		c := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
		log := a.base() + "/activity"
		all := c.get(log).want(t, http.StatusOK, "<h1>Activity log</h1>", "login", "login.failed")
		logins := c.get(log+"?action=login").want(t, http.StatusOK)
		if strings.Contains(logins.body, "login.failed") || strings.Count(logins.body, "<td>login</td>") != 4 {
			t.Fatalf("action=login shows %d logins\n%s", strings.Count(logins.body, "<td>login</td>"), logins.body)
		}
		failed := c.get(log+"?outcome=failed").want(t, http.StatusOK, "login.failed")
		if strings.Contains(failed.body, "<td>login</td>") {
			t.Fatal("outcome=failed shows an allowed login")
		}
		actor := regexp.MustCompile(`<a href="/p/[^"]+/activity\?actor=([0-9a-f-]{36})">` + demo.FrontDeskEmail).FindStringSubmatch(all.body)
		if actor == nil {
			t.Fatal("no actor in the log")
		}
		mine := c.get(log+"?actor="+actor[1]).want(t, http.StatusOK, actor[1], "login.failed")
		if strings.Contains(mine.body, ">"+demo.AdminEmail+"</a>") {
			t.Fatal("the actor filter shows another actor's entries")
		}
		c.get(log+"?from=2030-03-04&to=2030-03-04").want(t, http.StatusOK, "<td>login</td>")
		if strings.Contains(c.get(log+"?from=2030-03-05").body, "<td>login</td>") {
			t.Fatal("from=tomorrow shows today's logins")
		}
		for q, field := range map[string]string{"outcome=maybe": "outcome", "from=yesterday": "from", "patient_id=x": "patient_id",
			"from=2030-03-05&to=2030-03-01": "to"} {
			c.get(log+"?"+q).want(t, http.StatusUnprocessableEntity, `id="`+field+`-error"`)
		}

		c.get(log+"?after=-1").want(t, http.StatusUnprocessableEntity, en("activity.after_format"))
		ctx := context.Background()
		n, err := a.engine.Audit.Query(ctx, a.demo.PracticeID, audit.Filter{Limit: audit.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for len(n) < activityPageSize+1 {
			a.signedIn(demo.FrontDeskEmail, a.demo.FrontDeskPassword)
			n = append(n, nil)
		}
		first := c.get(log).want(t, http.StatusOK, en("notify.next_page"))
		next := regexp.MustCompile(`href="(/p/[^"]+/activity\?after=\d+)"`).FindStringSubmatch(first.body)
		if next == nil {
			t.Fatalf("no link to the next page\n%s", first.body)
		}
		c.get(strings.ReplaceAll(next[1], "&amp;", "&")).want(t, http.StatusOK, "<td>")

		c.get(log+"/verify").want(t, http.StatusOK, en("activity.chain_ok_label"), en("activity.chain_ok"))
		lift := []string{`DROP TRIGGER audit_entries_no_update`}
		if st.Dialect() == sqlstore.Postgres {
			lift = []string{`ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only`}
		}
		for _, q := range lift {
			if _, err := st.DB().ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.DB().NewUpdate().Table("audit_entries").Set("action = ?", "tampered").
			Where("practice_id = ? AND seq = ?", a.demo.PracticeID, 3).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		c.get(log+"/verify").want(t, http.StatusOK, en("activity.chain_broken_label"), "The chain breaks at entry 3")
	})
}

// TestStaffCatalogKeys: every word the staff pages look up by a kind,
// channel, status, language, permission, role, outcome or chain break
// is in the catalog (TestCatalogsAreWhole sees only literal keys).
func TestStaffCatalogKeys(t *testing.T) {
	var keys []string
	for _, k := range notify.Kinds {
		keys = append(keys, kindKey(k))
	}
	for _, c := range []notify.Channel{notify.SMS, notify.Email, notify.InApp} {
		keys = append(keys, channelKey(c))
	}
	for _, s := range append(outboxStatuses, notify.StatusClaimed) {
		keys = append(keys, statusKey(s))
	}
	for _, l := range templateLanguages {
		keys = append(keys, langKey(l))
	}
	for _, p := range rbac.All() {
		keys = append(keys, permKey(p))
	}
	for _, r := range rbac.BuiltInRoles() {
		keys = append(keys, roleKey(r.Name))
	}
	for _, o := range activityOutcomes {
		keys = append(keys, outcomeKey(o))
	}
	for _, r := range []audit.Reason{audit.HashMismatch, audit.SeqGap, audit.PrevHashMismatch} {
		keys = append(keys, reasonKey(r))
	}
	for _, k := range keys {
		for lang, cat := range catalogs {
			if _, ok := cat[k]; !ok {
				t.Errorf("%s: no string %s", lang, k)
			}
		}
	}
}

// TestStaffPagesInSpanish: the staff pages speak Spanish to who chose it,
// with no key left untranslated.
func TestStaffPagesInSpanish(t *testing.T) {
	a := newSQLiteApp(t)
	c := a.signedIn(demo.AdminEmail, a.demo.AdminPassword)
	c.get("/lang/es?next=/account")
	for path, h1 := range map[string]string{
		a.base() + "/staff": "Personal", a.base() + "/notifications": "Notificaciones", a.base() + "/activity": "Registro de actividad",
		a.base() + "/activity/verify": "Comprobación del registro de actividad", a.base() + "/notifications/outbox": "Bandeja de salida",
		a.base() + "/notifications/template?kind=reminder&channel=email&language=es": "Recordatorio por correo, en español",
		"/account": "Su cuenta", "/account/mfa": "Verificación en dos pasos",
	} {
		res := c.get(path).want(t, http.StatusOK, `<html lang="es">`, "<h1>"+h1+"</h1>")
		if m := regexp.MustCompile(`\[(staff|notify|activity|account|mfa|invite)\.[a-z_.]+\]`).FindString(res.body); m != "" {
			t.Errorf("%s shows the key %s", path, m)
		}
	}
}
