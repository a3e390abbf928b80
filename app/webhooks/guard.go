package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Errors of an endpoint URL; each is also a field error of the form.
var (
	// ErrURLInvalid means the URL is not an absolute http(s) URL with a host.
	ErrURLInvalid = errors.New("webhooks: not a valid URL")
	// ErrURLScheme means plain HTTP to anything but this machine (or HTTP at all in
	// production): HTTPS is required.
	ErrURLScheme = errors.New("webhooks: HTTPS is required")
	// ErrURLBlocked means the host is, or resolves to, an address webhooks may not reach
	// (private, loopback, link-local, shared, multicast, unspecified or reserved).
	ErrURLBlocked = errors.New("webhooks: the address is not allowed")
	// ErrURLUnresolved means the host name does not resolve.
	ErrURLUnresolved = errors.New("webhooks: the host name does not resolve")
)

// MaxURL is the longest endpoint URL accepted.
const MaxURL = 2000

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard decides which URLs webhooks may be sent to. In production (AllowPrivate off) an
// endpoint must be HTTPS on a public address: private, loopback, link-local, shared
// (CGNAT), multicast, unspecified and reserved addresses are refused when the URL is
// registered and again when each connection is made, on the address actually dialled,
// so a name that later resolves elsewhere (DNS rebinding) cannot reach the internal
// network. With AllowPrivate (development, tests) any address is allowed over HTTPS;
// plain HTTP is allowed only to this machine (loopback), and only then.
type Guard struct {
	AllowPrivate bool
	// Resolver looks up names at registration; nil means net.DefaultResolver.
	Resolver Resolver
}

// blocked are the networks a production webhook may never reach.
var blocked = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32",
		"2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Blocked reports whether a production webhook may not reach ip.
func Blocked(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsLoopback() || ip.IsPrivate() || ip.IsMulticast() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() {
		return true
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// loopbackHost reports whether host names this machine: "localhost" or a loopback IP.
func loopbackHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.Unmap().IsLoopback()
}

// Check parses an endpoint URL and tells whether webhooks may be sent to it; the
// error is one of the ErrURL… values.
func (g Guard) Check(ctx context.Context, raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > MaxURL {
		return nil, ErrURLInvalid
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" || u.User != nil || u.Opaque != "" || u.Fragment != "" {
		return nil, ErrURLInvalid
	}
	if p := u.Port(); p != "" {
		if n, err := netip.ParseAddrPort("127.0.0.1:" + p); err != nil || n.Port() == 0 {
			return nil, ErrURLInvalid
		}
	}
	host := u.Hostname()
	switch u.Scheme {
	case "https":
	case "http":
		if !g.AllowPrivate || !loopbackHost(host) {
			return nil, ErrURLScheme
		}
	default:
		return nil, ErrURLInvalid
	}
	if g.AllowPrivate {
		return u, nil
	}
	if loopbackHost(host) {
		return nil, ErrURLBlocked
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if Blocked(ip) {
			return nil, ErrURLBlocked
		}
		return u, nil
	}
	var r Resolver = net.DefaultResolver
	if g.Resolver != nil {
		r = g.Resolver
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := r.LookupNetIP(lctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return nil, ErrURLUnresolved
	}
	for _, ip := range ips {
		if Blocked(ip) {
			return nil, ErrURLBlocked
		}
	}
	return u, nil
}

// control refuses a connection to an address a webhook may not reach. It runs after
// the name has been resolved, on the address about to be connected to.
func (g Guard) control(loopbackOnly bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrURLBlocked, address)
		}
		ip := ap.Addr().Unmap()
		switch {
		case loopbackOnly && (!g.AllowPrivate || !ip.IsLoopback()):
			return fmt.Errorf("%w: plain HTTP to %s", ErrURLScheme, ip)
		case !g.AllowPrivate && Blocked(ip):
			return fmt.Errorf("%w: %s", ErrURLBlocked, ip)
		}
		return nil
	}
}

// Client returns the HTTP client deliveries use: no proxy, no redirects followed, a
// timeout per request, and every connection checked by the guard on the address
// actually dialled (HTTPS: not a blocked address in production; plain HTTP: loopback
// only, and only when private addresses are allowed).
func (g Guard) Client(timeout time.Duration) *http.Client {
	mk := func(loopbackOnly bool) *http.Transport {
		d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: g.control(loopbackOnly)}
		return &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          20,
			IdleConnTimeout:       60 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: timeout,
		}
	}
	return &http.Client{
		Timeout:       timeout,
		Transport:     schemeTransport{https: mk(false), http: mk(true)},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// schemeTransport sends HTTPS and plain HTTP through differently guarded transports.
type schemeTransport struct{ https, http *http.Transport }

func (t schemeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	switch r.URL.Scheme {
	case "https":
		return t.https.RoundTrip(r)
	case "http":
		return t.http.RoundTrip(r)
	}
	return nil, ErrURLInvalid
}
