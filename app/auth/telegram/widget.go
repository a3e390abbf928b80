package telegram

import (
	"fmt"
	"net/url"
	"time"
)

// VerifyWidget checks a Telegram Login Widget callback and returns the
// signed-in user.
//
// q holds the callback fields exactly as received (for a redirect callback,
// r.URL.Query()). Every field except "hash" is signed, including fields this
// package does not know about, so nothing may be added or removed after
// Telegram signed the payload. The key is SHA-256(botToken).
//
// The payload is refused with ErrStale when auth_date is more than maxAge in
// the past of now, or more than MaxClockSkew in its future. A maxAge of zero
// or less disables the age limit (not the future limit); callers signing
// users in should always pass a positive maxAge.
//
// The returned error, if any, wraps ErrNoToken, ErrDuplicateKey,
// ErrMalformed, ErrMissingHash, ErrBadHash or ErrStale. The signature is
// checked before any field is interpreted.
func VerifyWidget(q url.Values, botToken string, maxAge time.Duration, now time.Time) (User, error) {
	if botToken == "" {
		return User{}, ErrNoToken
	}
	fields := make(map[string]string, len(q))
	for k, vs := range q {
		switch len(vs) {
		case 0:
			return User{}, fmt.Errorf("%w: field %q has no value", ErrMalformed, k)
		case 1:
		default:
			return User{}, fmt.Errorf("%w: %q", ErrDuplicateKey, k)
		}
		if err := checkField(k, vs[0]); err != nil {
			return User{}, err
		}
		fields[k] = vs[0]
	}
	if _, ok := fields[hashKey]; !ok {
		return User{}, ErrMissingHash
	}
	if err := checkHash(fields, widgetSecret(botToken)); err != nil {
		return User{}, err
	}
	id, ok := parsePositive(fields["id"])
	if !ok {
		return User{}, fmt.Errorf("%w: invalid id %q", ErrMalformed, fields["id"])
	}
	at, err := checkAuthDate(fields, maxAge, now)
	if err != nil {
		return User{}, err
	}
	return User{
		ID:        id,
		FirstName: fields["first_name"],
		LastName:  fields["last_name"],
		Username:  fields["username"],
		PhotoURL:  fields["photo_url"],
		AuthDate:  at,
	}, nil
}
