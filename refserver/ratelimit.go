package refserver

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
)

// Rate limits of sign-in and password change, on top of identity's account
// lockout: the lockout stops guessing one account's password; these bound
// how many attempts (each an argon2id hash) one client address, or one
// account, may cost the server.

// RateLimit bounds sign-in and password-change attempts in fixed windows
// of time: at most PerIP attempts per Window from one client address, and at
// most PerAccount attempts per Window naming one account. Every attempt
// counts, good or bad. The zero value takes the defaults named; a negative
// limit turns that limit off.
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

// limiter counts attempts per key in fixed windows. It is safe for
// concurrent use and forgets windows once they are over.
type limiter struct {
	limit  int
	window time.Duration

	mu    sync.Mutex
	hits  map[string]*fixedWindow
	swept time.Time // when hits was last rid of ended windows
}

// fixedWindow is one key's count since start.
type fixedWindow struct {
	start time.Time
	n     int
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{limit: limit, window: window, hits: map[string]*fixedWindow{}}
}

// allow counts an attempt of key at now. Past the limit of its window it
// answers false and how long until the window ends. A limiter with a
// negative limit allows everything.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l.limit < 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) >= l.window {
		for k, w := range l.hits {
			if now.Sub(w.start) >= l.window {
				delete(l.hits, k)
			}
		}
		l.swept = now
	}
	w, ok := l.hits[key]
	if !ok || now.Sub(w.start) >= l.window || now.Before(w.start) {
		w = &fixedWindow{start: now}
		l.hits[key] = w
	}
	w.n++
	if w.n > l.limit {
		return false, w.start.Add(l.window).Sub(now)
	}
	return true, 0
}

// attemptLimits are the limiters of sign-in and password change.
type attemptLimits struct {
	clock      func() clock.Clock
	perIP      *limiter
	perAccount *limiter
}

func newAttemptLimits(l RateLimit, c func() clock.Clock) *attemptLimits {
	l = l.withDefaults()
	return &attemptLimits{clock: c, perIP: newLimiter(l.PerIP, l.Window), perAccount: newLimiter(l.PerAccount, l.Window)}
}

// check counts an attempt of r naming account (an identifier or an account
// ID, "" for none) and answers KindRateLimited, with the seconds to wait in
// Details["retry_after_seconds"], when its address or account is over its
// limit.
func (a *attemptLimits) check(r *http.Request, account string) error {
	const op = "refserver.rateLimit"
	now := a.clock().Now()
	ok, wait := a.perIP.allow(ClientIP(r), now)
	if ok && account != "" {
		ok, wait = a.perAccount.allow(strings.ToLower(strings.TrimSpace(account)), now)
	}
	if ok {
		return nil
	}
	secs := int64((wait + time.Second - 1) / time.Second)
	return &errs.Error{Kind: errs.KindRateLimited, Op: op,
		Msg:     "too many attempts; try again in " + strconv.FormatInt(secs, 10) + "s",
		Details: map[string]any{"retry_after_seconds": secs}}
}

// retryAfter sets the Retry-After header of a 429 answer from the seconds
// p's details name, when they do.
func retryAfter(w http.ResponseWriter, p Problem) {
	d, ok := p.Details.(map[string]any)
	if p.Status != http.StatusTooManyRequests || !ok {
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
