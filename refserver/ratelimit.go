package refserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/ratelimit"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/tenant"
)

// Rate limits of sign-in and password change, on top of identity's account
// lockout: the lockout stops guessing one account's password; these bound
// how many attempts (each an argon2id hash) one client address, or one
// account, may cost the server. They are counted by the engine's limiter
// (carebook.Engine.RateLimits), in the database, so that they hold across
// replicas.

// RateLimit bounds sign-in and password-change attempts: at most PerIP
// attempts per Window from one client address, and at most PerAccount
// attempts per Window naming one account, in bursts of up to that many,
// after which one attempt comes back every Window/limit (GCRA, package
// ratelimit). Every attempt allowed counts, good or bad; a refused one
// does not. The zero value takes the defaults named; a negative limit
// turns that limit off.
type RateLimit struct {
	PerIP      int           // 0: 60
	PerAccount int           // 0: 20
	Window     time.Duration // 0: one minute
}

func (l RateLimit) withDefaults() RateLimit {
	if l.PerIP == 0 {
		l.PerIP = 60
	}
	if l.PerAccount == 0 {
		l.PerAccount = 20
	}
	if l.Window <= 0 {
		l.Window = time.Minute
	}
	return l
}

// limit is n attempts per window as a ratelimit.Limit: Off for a negative
// n.
func limit(n int, window time.Duration) ratelimit.Limit {
	if n < 0 {
		return ratelimit.Limit{}
	}
	return ratelimit.Limit{Rate: n, Period: window, Burst: n}
}

// attemptLimits are the limits of sign-in and password change.
type attemptLimits struct {
	limiter           *ratelimit.Limiter
	perIP, perAccount ratelimit.Limit
}

func newAttemptLimits(l RateLimit, lm *ratelimit.Limiter) *attemptLimits {
	l = l.withDefaults()
	return &attemptLimits{limiter: lm, perIP: limit(l.PerIP, l.Window), perAccount: limit(l.PerAccount, l.Window)}
}

// The limiter's keys of sign-in attempts (see package ratelimit): the
// client address, or the account (see accountKey), follows.
const (
	signInIPKey      = "signin:ip:"
	signInAccountKey = "signin:account:"
)

// accountKey is the limiter's key of the account named by account: a
// hash of the identifier, case and surrounding space aside, so that the
// table of counts holds no email address and any input makes a valid key.
func accountKey(account string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(account))))
	return signInAccountKey + hex.EncodeToString(sum[:16])
}

// check counts an attempt of r naming account (an identifier or an account
// ID, "" for none) and answers KindRateLimited, with the seconds to wait in
// Details["retry_after_seconds"], when its address or account is over its
// limit. The account is counted only once the address is allowed.
func (a *attemptLimits) check(r *http.Request, account string) error {
	const op = "refserver.rateLimit"
	ctx := r.Context()
	d, err := a.limiter.Allow(ctx, signInIPKey+ClientIP(r), a.perIP, 1)
	if err == nil && d.Allowed && account != "" {
		d, err = a.limiter.Allow(ctx, accountKey(account), a.perAccount, 1)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if d.Allowed {
		return nil
	}
	return ratelimit.Refusal(op, "too many attempts", d)
}

// The header fields of the API's rate limit, as the IETF draft "RateLimit
// header fields for HTTP" (draft-ietf-httpapi-ratelimit-headers, up to
// -06) names them.
const (
	// RateLimitLimitHeader is the most requests allowed at once (the
	// limit's burst).
	RateLimitLimitHeader = "RateLimit-Limit"
	// RateLimitRemainingHeader is how many of them are left now.
	RateLimitRemainingHeader = "RateLimit-Remaining"
	// RateLimitResetHeader is the seconds until all of them are back.
	RateLimitResetHeader = "RateLimit-Reset"
)

// practiceRateLimited counts each request of an API route of a practice
// against the practice's API limit (carebook.Engine.AllowAPIRequest), and
// answers 429 with Retry-After past it. Allowed or not, the answer carries
// the RateLimit-* header fields of the practice's limit (none when it has
// none). It runs after authentication and before authorization and any
// transaction of the route, and counts only what may be the practice's
// own traffic (see countsAgainst), so that nobody outside a practice can
// spend its allowance.
func (s *Server) practiceRateLimited(next func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		const op = "refserver.practiceRateLimit"
		id, err := practiceID(r)
		if err != nil || !s.countsAgainst(r, id) {
			return next(w, r)
		}
		d, err := s.engine.AllowAPIRequest(r.Context(), id)
		if err != nil {
			return err
		}
		if !d.Limit.Off() {
			h := w.Header()
			h.Set(RateLimitLimitHeader, strconv.Itoa(d.Limit.Max()))
			h.Set(RateLimitRemainingHeader, strconv.Itoa(d.Remaining))
			h.Set(RateLimitResetHeader, strconv.FormatInt(ratelimit.ResetSeconds(d), 10))
		}
		if !d.Allowed {
			return ratelimit.Refusal(op, "this practice has made too many API requests", d)
		}
		return next(w, r)
	}
}

// countsAgainst reports whether r is to be counted against practice's API
// limit: when its caller may belong to the practice, an API key of the
// practice or an account whose home it is or which holds a grant that may
// reach into it (rbac.MayReach, on the principal authorization reads
// next anyway). Unauthenticated requests are not counted (they get 401),
// except when authorization is skipped (development), where all are.
func (s *Server) countsAgainst(r *http.Request, practice tenant.PracticeID) bool {
	c := CredentialsFrom(r.Context())
	switch {
	case c == nil:
		return s.opts.SkipAuthorization
	case c.Key != nil:
		return c.Key.PracticeID == practice
	case c.Session != nil && c.Session.PracticeID == practice:
		return true
	}
	pr, err := s.Principal(r, c)
	return err == nil && rbac.MayReach(pr, practice)
}

// retryAfter sets the Retry-After header of a 429 answer from the seconds
// p's details name, when they do.
func retryAfter(w http.ResponseWriter, p Problem) {
	if p.Status == http.StatusTooManyRequests {
		setRetryAfter(w, p.Details)
	}
}

// SetRetryAfter sets the Retry-After header of an answer refusing err
// when err is a rate limit's refusal (errs.KindRateLimited) naming the
// seconds to wait: a page says what a problem document does.
func SetRetryAfter(w http.ResponseWriter, err error) {
	if e, ok := errs.As(err); ok && e.Kind == errs.KindRateLimited {
		setRetryAfter(w, e.Details)
	}
}

// setRetryAfter sets Retry-After from the retry_after_seconds of details,
// when they name it.
func setRetryAfter(w http.ResponseWriter, details any) {
	d, ok := details.(map[string]any)
	if !ok {
		return
	}
	if secs, ok := d["retry_after_seconds"].(int64); ok {
		w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	}
}

// clientIPKey keys the client address of a request in its context.
type clientIPKey struct{}

// withClientIP puts the client address of each request in its context (see
// clientAddr), for ClientIP, and the request as the engine logs it
// (carebook.WithRequest: address, user agent, request ID). It runs inside
// withRequestID.
func (s *Server) withClientIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.opts.TrustedProxies)
		ctx := context.WithValue(r.Context(), clientIPKey{}, ip)
		ctx = carebook.WithRequest(ctx, carebook.Request{IP: ip, UserAgent: r.UserAgent(), ID: RequestID(ctx)})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ClientIP is the address r came from, as withClientIP found it, or the
// host of r.RemoteAddr when r did not pass through it.
func ClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(string); ok {
		return ip
	}
	return clientAddr(r.RemoteAddr, nil, nil)
}

// clientAddr is the client address of a request from remote (its
// RemoteAddr) with the X-Forwarded-For header values xff. Unless remote is
// in a trusted proxy network, it is remote's host, and the header is
// ignored. Otherwise it is the right-most address of X-Forwarded-For that
// is not in a trusted network: the one the last trusted proxy saw. If every
// listed address is trusted it is the left-most; an entry that is not an
// address ends the walk at the trusted address to its right, since no
// trusted proxy wrote it.
func clientAddr(remote string, xff []string, trusted []netip.Prefix) string {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !trustedAddr(addr, trusted) {
		return host
	}
	var hops []string
	for _, v := range xff {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := parseHop(hops[i])
		if err != nil {
			break
		}
		addr = hop
		if !trustedAddr(hop, trusted) {
			break
		}
	}
	return addr.String()
}

// parseHop parses one entry of X-Forwarded-For: an address, with or
// without a port.
func parseHop(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), nil
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return a.Unmap(), err
}

func trustedAddr(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies parses a comma-separated list of networks (CIDR, such
// as "10.0.0.0/8") or single addresses, for Options.TrustedProxies. An
// entry that is neither is KindInvalid naming field.
func ParseTrustedProxies(field, list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, errs.Invalid("refserver.ParseTrustedProxies", field, strconv.Quote(s)+" is neither a network (CIDR) nor an address")
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// CheckAttempt counts a sign-in or password-change attempt of r naming
// account (an identifier or an account ID, "" for none) against
// Options.RateLimit, and answers KindRateLimited, with the seconds to wait
// in Details["retry_after_seconds"] (and the answer's Retry-After), when
// r's address or the account is over its limit.
func (s *Server) CheckAttempt(r *http.Request, account string) error {
	return s.limits.check(r, account)
}
