// Package telegram verifies Telegram sign-in payloads cryptographically.
//
// Two payload kinds are supported:
//
//   - Login Widget callbacks (https://core.telegram.org/widgets/login),
//     verified by [VerifyWidget];
//   - Mini App initData strings (https://core.telegram.org/bots/webapps),
//     verified by [VerifyInitData].
//
// Both use a "data-check-string": every received field except "hash",
// formatted as key=value, sorted by key and joined with '\n'. The payload is
// authentic when the hex-encoded HMAC-SHA-256 of that string, keyed with a
// secret derived from the bot token, equals the received hash. The two kinds
// differ only in how the secret is derived.
//
// Because fields are joined with '\n' and split on '=', a key containing '='
// or '\n', or a value containing '\n', would make the data-check-string
// ambiguous (two different payloads could share one signature). Telegram
// never produces such fields, so they are refused as [ErrMalformed]. Repeated
// keys are refused as [ErrDuplicateKey] for the same reason.
//
// Every error returned by this package wraps exactly one of the sentinel
// errors below, so callers can branch with [errors.Is].
package telegram

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. Errors returned by VerifyWidget and VerifyInitData wrap one
// of these and may be tested with errors.Is.
var (
	// ErrNoToken reports that the bot token passed to a verifier is empty.
	ErrNoToken = errors.New("telegram: empty bot token")
	// ErrMissingHash reports that the payload carries no "hash" field.
	ErrMissingHash = errors.New("telegram: missing hash")
	// ErrBadHash reports that the "hash" field is not valid hex of the
	// right length, or does not match the payload and bot token.
	ErrBadHash = errors.New("telegram: hash mismatch")
	// ErrStale reports that auth_date is older than the allowed maximum age,
	// or more than one minute in the future.
	ErrStale = errors.New("telegram: stale auth_date")
	// ErrMalformed reports a structurally invalid payload: missing or
	// invalid auth_date, invalid user id, undecodable user JSON, bad
	// percent-encoding, or a field that would make the data-check-string
	// ambiguous.
	ErrMalformed = errors.New("telegram: malformed payload")
	// ErrDuplicateKey reports that a field appears more than once.
	ErrDuplicateKey = errors.New("telegram: duplicate key")
)

// MaxClockSkew is how far in the future an auth_date may lie before the
// payload is refused as ErrStale.
const MaxClockSkew = time.Minute

// User is a Telegram account as described by a verified payload.
type User struct {
	// ID is the Telegram user identifier; always positive once verified.
	ID int64
	// FirstName is the user's first name.
	FirstName string
	// LastName is the user's last name, if any.
	LastName string
	// Username is the user's @username without the '@', if any.
	Username string
	// PhotoURL is the URL of the user's profile photo, if shared.
	PhotoURL string
	// LanguageCode is the IETF language tag of the user's client
	// (Mini App payloads only).
	LanguageCode string
	// IsPremium reports whether the user has Telegram Premium
	// (Mini App payloads only).
	IsPremium bool
	// AllowsWriteToPM reports whether the user allowed the bot to message
	// them (Mini App payloads only).
	AllowsWriteToPM bool
	// AuthDate is the moment Telegram issued the signed payload.
	AuthDate time.Time
}

// hashKey is the field carrying the signature; it is never part of the
// data-check-string.
const hashKey = "hash"

// dataCheckString builds the string Telegram signs: every field except
// "hash", as key=value, sorted by key, joined with '\n'.
func dataCheckString(fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	n := 0
	for k, v := range fields {
		if k == hashKey {
			continue
		}
		keys = append(keys, k)
		n += len(k) + len(v) + 2
	}
	sort.Strings(keys)
	var b strings.Builder
	b.Grow(n)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(fields[k])
	}
	return b.String()
}

// widgetSecret derives the Login Widget key: SHA-256(bot_token).
func widgetSecret(botToken string) []byte {
	sum := sha256.Sum256([]byte(botToken))
	return sum[:]
}

// webAppSecret derives the Mini App key: HMAC-SHA-256(key="WebAppData",
// message=bot_token).
func webAppSecret(botToken string) []byte {
	m := hmac.New(sha256.New, []byte("WebAppData"))
	m.Write([]byte(botToken))
	return m.Sum(nil)
}

// mac returns HMAC-SHA-256(secret, data).
func mac(secret []byte, data string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// checkHash verifies the "hash" field of fields against secret in constant
// time. The caller must have ensured that the field is present.
func checkHash(fields map[string]string, secret []byte) error {
	got, err := hex.DecodeString(fields[hashKey])
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: hash is not %d hex-encoded bytes", ErrBadHash, sha256.Size)
	}
	if !hmac.Equal(got, mac(secret, dataCheckString(fields))) {
		return ErrBadHash
	}
	return nil
}

// checkField refuses keys and values that would make the data-check-string
// ambiguous.
func checkField(key, value string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrMalformed)
	}
	if strings.ContainsAny(key, "=\n") {
		return fmt.Errorf("%w: key %q contains '=' or newline", ErrMalformed, key)
	}
	if strings.Contains(value, "\n") {
		return fmt.Errorf("%w: value of %q contains a newline", ErrMalformed, key)
	}
	return nil
}

// parsePositive parses a strictly positive base-10 integer made only of
// ASCII digits (no sign, no spaces).
func parsePositive(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// checkAuthDate parses auth_date and enforces freshness. maxAge <= 0 disables
// the age limit; the future-skew limit always applies.
func checkAuthDate(fields map[string]string, maxAge time.Duration, now time.Time) (time.Time, error) {
	raw, ok := fields["auth_date"]
	if !ok {
		return time.Time{}, fmt.Errorf("%w: missing auth_date", ErrMalformed)
	}
	sec, ok := parsePositive(raw)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: invalid auth_date %q", ErrMalformed, raw)
	}
	at := time.Unix(sec, 0)
	if at.Sub(now) > MaxClockSkew {
		return time.Time{}, fmt.Errorf("%w: auth_date is in the future", ErrStale)
	}
	if maxAge > 0 && now.Sub(at) > maxAge {
		return time.Time{}, fmt.Errorf("%w: auth_date is older than %v", ErrStale, maxAge)
	}
	return at, nil
}
