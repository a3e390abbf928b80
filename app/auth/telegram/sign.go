package telegram

import (
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
)

// SignWidget signs fields the way Telegram signs a Login Widget callback and
// returns them as url.Values with the "hash" field added. A "hash" entry in
// fields is ignored and replaced. It is meant for tests and demos: the result
// is accepted by VerifyWidget for the same bot token (given a fresh
// auth_date, a positive id and fields free of '=' in keys and newlines).
func SignWidget(fields map[string]string, botToken string) url.Values {
	signed := make(map[string]string, len(fields))
	q := make(url.Values, len(fields)+1)
	for k, v := range fields {
		if k == hashKey {
			continue
		}
		signed[k] = v
		q.Set(k, v)
	}
	q.Set(hashKey, hex.EncodeToString(mac(widgetSecret(botToken), dataCheckString(signed))))
	return q
}

// SignInitData signs fields the way Telegram signs Mini App initData and
// returns the raw initData string: key=value pairs sorted by key, with "hash"
// appended last. Keys and values are percent-encoded as Telegram does (every
// byte outside A-Z a-z 0-9 - . _ ~ becomes %XX, so a space is %20 and '+' is
// %2B). A "hash" entry in fields is ignored and replaced.
//
// The user field must be supplied as its JSON text. SignInitData cannot
// produce Telegram's Ed25519 "signature" field; a caller that wants one in
// the payload supplies any value and it is covered by the hash like every
// other field. It is meant for tests and demos.
func SignInitData(fields map[string]string, botToken string) string {
	signed := make(map[string]string, len(fields))
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if k == hashKey {
			continue
		}
		signed[k] = v
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(escape(k))
		b.WriteByte('=')
		b.WriteString(escape(signed[k]))
		b.WriteByte('&')
	}
	b.WriteString(hashKey)
	b.WriteByte('=')
	b.WriteString(hex.EncodeToString(mac(webAppSecret(botToken), dataCheckString(signed))))
	return b.String()
}

// escape percent-encodes every byte of s outside the RFC 3986 unreserved set,
// with upper-case hex digits.
func escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0f])
	}
	return b.String()
}

// unreserved reports whether c may appear unescaped in a query component.
func unreserved(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	return c == '-' || c == '.' || c == '_' || c == '~'
}
