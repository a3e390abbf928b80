package telegram

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// MaxInitDataLen bounds the length of a raw initData string accepted by
// VerifyInitData; longer input is refused as ErrMalformed before any parsing.
// Real payloads are a few hundred bytes to a few kilobytes.
const MaxInitDataLen = 64 << 10

// InitData is the verified content of a Mini App initData string.
type InitData struct {
	// User is the user who opened the Mini App.
	User User
	// AuthDate is the moment Telegram issued the initData (also copied to
	// User.AuthDate).
	AuthDate time.Time
	// StartParam is the start_param value passed via a direct link, if any.
	StartParam string
	// ChatType is the chat_type value (e.g. "private", "group"), if any.
	ChatType string
	// ChatInstance is the chat_instance value, if any.
	ChatInstance string
	// QueryID is the query_id value, present when the Mini App was opened
	// from a keyboard button or the attachment menu.
	QueryID string
}

// webAppUser mirrors the JSON object in the "user" field.
type webAppUser struct {
	ID              int64  `json:"id"`
	FirstName       string `json:"first_name"`
	LastName        string `json:"last_name"`
	Username        string `json:"username"`
	LanguageCode    string `json:"language_code"`
	PhotoURL        string `json:"photo_url"`
	IsPremium       bool   `json:"is_premium"`
	AllowsWriteToPM bool   `json:"allows_write_to_pm"`
}

// VerifyInitData checks a Mini App initData string (Telegram.WebApp.initData,
// passed to the server unmodified) and returns its content.
//
// raw is split on '&' and each pair on its first '='; keys and values are
// decoded with url.QueryUnescape, so '+' means a space exactly as in
// url.ParseQuery (Telegram itself encodes spaces as %20 and '+' as %2B). Empty
// pairs, pairs without '=', and unescaped ';' (which url.ParseQuery also
// rejects) are refused as ErrMalformed. Every pair except "hash" is signed,
// including "signature", "chat_instance", "chat_type" and fields unknown to
// this package, with the key HMAC-SHA-256(key="WebAppData", botToken).
//
// A "user" field holding a JSON object with a positive "id" is required,
// since the payload is used to sign a user in.
//
// The payload is refused with ErrStale when auth_date is more than maxAge in
// the past of now, or more than MaxClockSkew in its future. A maxAge of zero
// or less disables the age limit (not the future limit); callers signing
// users in should always pass a positive maxAge.
//
// The returned error, if any, wraps ErrNoToken, ErrDuplicateKey,
// ErrMalformed, ErrMissingHash, ErrBadHash or ErrStale. The signature is
// checked before any field is interpreted.
func VerifyInitData(raw string, botToken string, maxAge time.Duration, now time.Time) (InitData, error) {
	if botToken == "" {
		return InitData{}, ErrNoToken
	}
	fields, err := parseInitData(raw)
	if err != nil {
		return InitData{}, err
	}
	if _, ok := fields[hashKey]; !ok {
		return InitData{}, ErrMissingHash
	}
	if err := checkHash(fields, webAppSecret(botToken)); err != nil {
		return InitData{}, err
	}
	userJSON, ok := fields["user"]
	if !ok {
		return InitData{}, fmt.Errorf("%w: missing user", ErrMalformed)
	}
	var wu webAppUser
	if err := json.Unmarshal([]byte(userJSON), &wu); err != nil {
		return InitData{}, fmt.Errorf("%w: user: %v", ErrMalformed, err)
	}
	if wu.ID <= 0 {
		return InitData{}, fmt.Errorf("%w: invalid user id %d", ErrMalformed, wu.ID)
	}
	at, err := checkAuthDate(fields, maxAge, now)
	if err != nil {
		return InitData{}, err
	}
	return InitData{
		User: User{
			ID:              wu.ID,
			FirstName:       wu.FirstName,
			LastName:        wu.LastName,
			Username:        wu.Username,
			PhotoURL:        wu.PhotoURL,
			LanguageCode:    wu.LanguageCode,
			IsPremium:       wu.IsPremium,
			AllowsWriteToPM: wu.AllowsWriteToPM,
			AuthDate:        at,
		},
		AuthDate:     at,
		StartParam:   fields["start_param"],
		ChatType:     fields["chat_type"],
		ChatInstance: fields["chat_instance"],
		QueryID:      fields["query_id"],
	}, nil
}

// parseInitData splits a raw initData string into decoded fields. An empty
// string yields no fields. Errors wrap ErrMalformed or ErrDuplicateKey.
func parseInitData(raw string) (map[string]string, error) {
	if len(raw) > MaxInitDataLen {
		return nil, fmt.Errorf("%w: initData longer than %d bytes", ErrMalformed, MaxInitDataLen)
	}
	fields := make(map[string]string, strings.Count(raw, "&")+1)
	if raw == "" {
		return fields, nil
	}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			return nil, fmt.Errorf("%w: empty pair", ErrMalformed)
		}
		if strings.Contains(pair, ";") {
			return nil, fmt.Errorf("%w: unescaped ';'", ErrMalformed)
		}
		rk, rv, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("%w: pair without '='", ErrMalformed)
		}
		k, err := url.QueryUnescape(rk)
		if err != nil {
			return nil, fmt.Errorf("%w: key: %v", ErrMalformed, err)
		}
		v, err := url.QueryUnescape(rv)
		if err != nil {
			return nil, fmt.Errorf("%w: value of %q: %v", ErrMalformed, k, err)
		}
		if err := checkField(k, v); err != nil {
			return nil, err
		}
		if _, dup := fields[k]; dup {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateKey, k)
		}
		fields[k] = v
	}
	return fields, nil
}
