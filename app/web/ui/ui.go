// Package ui is what every workspace's handlers share: the signed-in viewer and the
// current partner read from the request context, page rendering with a request's
// common data built in one place, flash messages, and typed HTTP errors.
package ui

import (
	"errors"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/apikeys"
	"ikra/app/i18n"
	"ikra/app/members"
	"ikra/ent"
)

// Locals keys set by the middleware.
const (
	keyViewer  = "ikra.viewer"
	keyPartner = "ikra.partner"
	keyLang    = "ikra.lang"
	keyCSRF    = "ikra.csrf"
	keyIP      = "ikra.ip"
	keyReqID   = "ikra.reqid"
	keyAPIKey  = "ikra.apikey"
)

// Viewer is the signed-in person making the request.
type Viewer struct {
	Member    *ent.Member
	SessionID string
	Channel   string   // web, tg or bot: where the session was started
	Platform  []string // platform roles (superadmin, moderator, support, concierge)
	Partners  []PartnerRole
	// Can reports whether the viewer holds perm in domain (the authorization enforcer);
	// screens use it to show only what the viewer may use.
	Can func(domain, perm string) bool
}

// CanPlatform reports whether the viewer holds perm in the platform domain.
func (v *Viewer) CanPlatform(perm string) bool {
	return v != nil && v.Can != nil && v.Can("platform", perm)
}

// Rank is the viewer's highest platform rank (members.Rank); 0 without a platform role.
func (v *Viewer) Rank() int {
	best := 0
	for _, r := range v.Platform {
		best = max(best, members.Rank[r])
	}
	return best
}

// PartnerRole is one partner the viewer works for, and the role there.
type PartnerRole struct {
	PartnerID int
	Name      string
	Role      string
	// Suspended is set while the platform has suspended the partner; its staff see
	// SuspendedReason on every portal page.
	Suspended       bool
	SuspendedReason string
}

// ID is the viewer's member ID.
func (v *Viewer) ID() int { return v.Member.ID }

// IsStaff reports whether the viewer holds any platform role.
func (v *Viewer) IsStaff() bool { return len(v.Platform) > 0 }

// IsPartnerStaff reports whether the viewer works for any partner.
func (v *Viewer) IsPartnerStaff() bool { return len(v.Partners) > 0 }

// SetViewer stores the viewer for the rest of the request.
func SetViewer(c *fiber.Ctx, v *Viewer) { c.Locals(keyViewer, v) }

// ViewerOf returns the signed-in viewer, or nil.
func ViewerOf(c *fiber.Ctx) *Viewer {
	v, _ := c.Locals(keyViewer).(*Viewer)
	return v
}

// SetPartner stores the partner the request acts for (partner portal).
func SetPartner(c *fiber.Ctx, p PartnerRole) { c.Locals(keyPartner, p) }

// PartnerOf returns the partner the request acts for; ok is false outside the portal.
func PartnerOf(c *fiber.Ctx) (PartnerRole, bool) {
	p, ok := c.Locals(keyPartner).(PartnerRole)
	return p, ok
}

// SetAPIKey stores the API key that authenticated the request (POS/CRM API).
func SetAPIKey(c *fiber.Ctx, k *apikeys.Key) { c.Locals(keyAPIKey, k) }

// APIKeyOf returns the API key of the request, or nil outside the POS/CRM API.
func APIKeyOf(c *fiber.Ctx) *apikeys.Key {
	k, _ := c.Locals(keyAPIKey).(*apikeys.Key)
	return k
}

// SetLang stores the request's interface language.
func SetLang(c *fiber.Ctx, lang string) { c.Locals(keyLang, lang) }

// Lang returns the request's interface language.
func Lang(c *fiber.Ctx) string {
	if l, ok := c.Locals(keyLang).(string); ok && l != "" {
		return l
	}
	return i18n.Default
}

// SetCSRF stores the request's CSRF token for forms.
func SetCSRF(c *fiber.Ctx, token string) { c.Locals(keyCSRF, token) }

// CSRF returns the token forms must carry.
func CSRF(c *fiber.Ctx) string { s, _ := c.Locals(keyCSRF).(string); return s }

// SetIP stores the client address as decided by the trusted-proxy rules.
func SetIP(c *fiber.Ctx, ip string) { c.Locals(keyIP, ip) }

// IP returns the client address (never taken from headers of an untrusted peer).
func IP(c *fiber.Ctx) string {
	if s, ok := c.Locals(keyIP).(string); ok {
		return s
	}
	return c.Context().RemoteIP().String()
}

// SetRequestID stores the request ID.
func SetRequestID(c *fiber.Ctx, id string) { c.Locals(keyReqID, id) }

// RequestID returns the request ID.
func RequestID(c *fiber.Ctx) string { s, _ := c.Locals(keyReqID).(string); return s }

// IsAPI reports whether the request wants JSON rather than a page: /api, or a client
// that accepts JSON (a script posting a form).
func IsAPI(c *fiber.Ctx) bool {
	p := c.Path()
	if strings.HasPrefix(p, "/api/") || p == "/api" || strings.Contains(c.Get(fiber.HeaderAccept), "application/json") {
		return true
	}
	return p == "/tg/auth" && (strings.Contains(c.Get(fiber.HeaderAccept), "json") || strings.Contains(c.Get(fiber.HeaderContentType), "json"))
}

// Error is an HTTP error with a message key for the page or JSON body.
type Error struct {
	Status int
	Key    string // message key, translated on the page
	Err    error  // the cause, logged, never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Key + ": " + e.Err.Error()
	}
	return e.Key
}

func (e *Error) Unwrap() error { return e.Err }

// Errors the handlers return.
var (
	ErrNotFound     = &Error{Status: fiber.StatusNotFound, Key: "error.not_found"}
	ErrForbidden    = &Error{Status: fiber.StatusForbidden, Key: "error.forbidden"}
	ErrUnauthorized = &Error{Status: fiber.StatusUnauthorized, Key: "error.unauthorized"}
	ErrBadRequest   = &Error{Status: fiber.StatusBadRequest, Key: "error.bad_request"}
	ErrCSRF         = &Error{Status: fiber.StatusForbidden, Key: "error.csrf"}
	ErrTooMany      = &Error{Status: fiber.StatusTooManyRequests, Key: "error.too_many"}
	// ErrPartnerSuspended refuses a change in the portal of a suspended partner.
	ErrPartnerSuspended = &Error{Status: fiber.StatusForbidden, Key: "error.partner_suspended"}
)

// Conflict answers a request that reuses an idempotency key with other parameters:
// 409 for a JSON client, otherwise back to the page with a flash message.
func Conflict(c *fiber.Ctx, back string, cause error) error {
	if IsAPI(c) {
		return Fail(fiber.StatusConflict, "error.conflict", cause)
	}
	return Redirect(c, back, "error", "flash.form_stale")
}

// Fail is an error with a status, message key and cause.
func Fail(status int, key string, cause error) error {
	return &Error{Status: status, Key: key, Err: cause}
}

// AsError finds an *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// FieldErrors maps form field names to message keys.
type FieldErrors map[string]string

// Add records an error for a field (the first one wins).
func (f FieldErrors) Add(field, key string) {
	if _, ok := f[field]; !ok {
		f[field] = key
	}
}

// Flash is a one-shot message shown on the next page.
type Flash struct {
	Kind string // ok or error
	Key  string
}

const flashCookie = "ikra_flash"

// Redirect answers with 303 See Other to path, leaving a flash message for the next page.
func Redirect(c *fiber.Ctx, path, kind, key string) error {
	if key != "" {
		c.Cookie(&fiber.Cookie{Name: flashCookie, Value: url.QueryEscape(kind + "|" + key), Path: "/", HTTPOnly: true, SameSite: "Lax", MaxAge: 60})
	}
	return c.Redirect(path, fiber.StatusSeeOther)
}

// takeFlash reads and clears the flash cookie.
func takeFlash(c *fiber.Ctx) *Flash {
	raw := c.Cookies(flashCookie)
	if raw == "" {
		return nil
	}
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: "", Path: "/", HTTPOnly: true, MaxAge: -1})
	v, err := url.QueryUnescape(raw)
	if err != nil {
		return nil
	}
	kind, key, ok := strings.Cut(v, "|")
	if !ok || (kind != "ok" && kind != "error") || !strings.HasPrefix(key, "flash.") {
		return nil
	}
	return &Flash{Kind: kind, Key: key}
}
