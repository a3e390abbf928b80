package telegram

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

const testUserJSON = `{"id":279058397,"first_name":"Vlad","last_name":"K","username":"vdk","language_code":"ru","is_premium":true,"allows_write_to_pm":true,"photo_url":"https:\/\/t.me\/i\/userpic\/320\/x.svg"}`

func initFields() map[string]string {
	return map[string]string{
		"query_id":      "AAHdF6IQAAAAAN0XohDhrOrc",
		"user":          testUserJSON,
		"auth_date":     unix(testNow.Add(-5 * time.Minute)),
		"signature":     "TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg",
		"chat_instance": "8134722200314281151",
		"chat_type":     "private",
		"start_param":   "ref_42",
	}
}

// replacePair replaces the whole key=value pair for key in raw.
func replacePair(raw, key, pair string) string {
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		if strings.HasPrefix(p, key+"=") {
			parts[i] = pair
		}
	}
	return strings.Join(parts, "&")
}

// dropPair removes the pair for key from raw.
func dropPair(raw, key string) string {
	parts := strings.Split(raw, "&")
	out := parts[:0]
	for _, p := range parts {
		if !strings.HasPrefix(p, key+"=") {
			out = append(out, p)
		}
	}
	return strings.Join(out, "&")
}

func TestVerifyInitData(t *testing.T) {
	base := initFields()
	at := testNow.Add(-5 * time.Minute)
	wantBase := InitData{
		User: User{
			ID: 279058397, FirstName: "Vlad", LastName: "K", Username: "vdk", LanguageCode: "ru",
			PhotoURL: "https://t.me/i/userpic/320/x.svg", IsPremium: true, AllowsWriteToPM: true, AuthDate: at,
		},
		AuthDate:     at,
		StartParam:   "ref_42",
		ChatType:     "private",
		ChatInstance: "8134722200314281151",
		QueryID:      "AAHdF6IQAAAAAN0XohDhrOrc",
	}
	signed := SignInitData(base, testToken)
	sign := func(kv ...string) string { return SignInitData(copyMap(base, kv...), testToken) }
	withAt := func(d InitData, t time.Time) InitData { d.AuthDate, d.User.AuthDate = t, t; return d }

	tests := []struct {
		name    string
		raw     string
		token   string
		maxAge  time.Duration
		want    InitData
		wantErr error
	}{
		{name: "valid", raw: signed, want: wantBase},
		{name: "pairs in another order", raw: func() string {
			p := strings.Split(signed, "&")
			for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
				p[i], p[j] = p[j], p[i]
			}
			return strings.Join(p, "&")
		}(), want: wantBase},
		{name: "minimal fields", raw: sign("query_id", "\x00delete", "signature", "\x00delete", "chat_instance", "\x00delete",
			"chat_type", "\x00delete", "start_param", "\x00delete", "user", `{"id":5}`),
			want: InitData{User: User{ID: 5, AuthDate: at}, AuthDate: at}},
		{name: "special characters in name", raw: sign("user", `{"id":7,"first_name":"Anna Maria+1 & Co/Ω","last_name":"a=b;c%20\u0026"}`),
			want: func() InitData {
				d := wantBase
				d.User = User{ID: 7, FirstName: "Anna Maria+1 & Co/Ω", LastName: "a=b;c%20&", AuthDate: at}
				return d
			}()},
		{name: "space written as '+'", raw: strings.ReplaceAll(sign("start_param", "a b c"), "%20", "+"),
			want: func() InitData { d := wantBase; d.StartParam = "a b c"; return d }()},
		{name: "lower-case percent escapes", raw: strings.ReplaceAll(signed, "%7B", "%7b"), want: wantBase},
		{name: "unescaped '+' decodes to space", raw: strings.ReplaceAll(sign("start_param", "a+b"), "%2B", "+"), wantErr: ErrBadHash},
		{name: "unknown field signed", raw: sign("receiver", `{"id":1}`, "x_future", "v"), want: wantBase},
		{name: "unknown field added after signing", raw: signed + "&admin=1", wantErr: ErrBadHash},
		{name: "unknown field added before hash", raw: "admin=1&" + signed, wantErr: ErrBadHash},
		{name: "tampered user", raw: replacePair(signed, "user", "user="+escape(strings.Replace(testUserJSON, "279058397", "1", 1))), wantErr: ErrBadHash},
		{name: "tampered signature", raw: replacePair(signed, "signature", "signature=AAAA"), wantErr: ErrBadHash},
		{name: "signature removed", raw: dropPair(signed, "signature"), wantErr: ErrBadHash},
		{name: "tampered chat_instance", raw: replacePair(signed, "chat_instance", "chat_instance=1"), wantErr: ErrBadHash},
		{name: "chat_instance removed", raw: dropPair(signed, "chat_instance"), wantErr: ErrBadHash},
		{name: "tampered chat_type", raw: replacePair(signed, "chat_type", "chat_type=group"), wantErr: ErrBadHash},
		{name: "chat_type removed", raw: dropPair(signed, "chat_type"), wantErr: ErrBadHash},
		{name: "tampered start_param", raw: replacePair(signed, "start_param", "start_param=ref_43"), wantErr: ErrBadHash},
		{name: "tampered auth_date", raw: replacePair(signed, "auth_date", "auth_date="+unix(testNow)), wantErr: ErrBadHash},
		{name: "wrong token", raw: signed, token: otherToken, wantErr: ErrBadHash},
		{name: "widget secret is not accepted", raw: dropPair(signed, "hash") + "&hash=" +
			hex.EncodeToString(mac(widgetSecret(testToken), dataCheckString(base))), wantErr: ErrBadHash},
		{name: "hash not hex", raw: replacePair(signed, "hash", "hash="+strings.Repeat("g", 64)), wantErr: ErrBadHash},
		{name: "hash truncated", raw: signed[:len(signed)-2], wantErr: ErrBadHash},
		{name: "hash empty", raw: replacePair(signed, "hash", "hash="), wantErr: ErrBadHash},
		{name: "missing hash", raw: dropPair(signed, "hash"), wantErr: ErrMissingHash},
		{name: "empty string", raw: "", wantErr: ErrMissingHash},
		{name: "duplicate auth_date", raw: "auth_date=" + unix(testNow) + "&" + signed, wantErr: ErrDuplicateKey},
		{name: "duplicate hash", raw: signed + "&hash=" + signed[len(signed)-64:], wantErr: ErrDuplicateKey},
		{name: "duplicate key via escaping", raw: "us%65r=x&" + signed, wantErr: ErrDuplicateKey},
		{name: "stale", raw: sign("auth_date", unix(testNow.Add(-25*time.Hour))), wantErr: ErrStale},
		{name: "no age limit", raw: sign("auth_date", unix(testNow.Add(-1000*time.Hour))), maxAge: -1,
			want: withAt(wantBase, testNow.Add(-1000*time.Hour))},
		{name: "future beyond skew", raw: sign("auth_date", unix(testNow.Add(2*time.Minute))), wantErr: ErrStale},
		{name: "future within skew", raw: sign("auth_date", unix(testNow.Add(time.Minute))),
			want: withAt(wantBase, testNow.Add(time.Minute))},
		{name: "missing auth_date", raw: sign("auth_date", "\x00delete"), wantErr: ErrMalformed},
		{name: "invalid auth_date", raw: sign("auth_date", "1e9"), wantErr: ErrMalformed},
		{name: "zero auth_date", raw: sign("auth_date", "0"), maxAge: -1, wantErr: ErrMalformed},
		{name: "missing user", raw: sign("user", "\x00delete"), wantErr: ErrMalformed},
		{name: "user not JSON", raw: sign("user", "{id:1}"), wantErr: ErrMalformed},
		{name: "user JSON with trailing data", raw: sign("user", `{"id":1}x`), wantErr: ErrMalformed},
		{name: "user id is a string", raw: sign("user", `{"id":"1"}`), wantErr: ErrMalformed},
		{name: "user id is fractional", raw: sign("user", `{"id":1.5}`), wantErr: ErrMalformed},
		{name: "user id zero", raw: sign("user", `{"id":0}`), wantErr: ErrMalformed},
		{name: "user id negative", raw: sign("user", `{"id":-1}`), wantErr: ErrMalformed},
		{name: "user is null", raw: sign("user", `null`), wantErr: ErrMalformed},
		{name: "bad escaping in value", raw: "start_param=%zz&" + signed, wantErr: ErrMalformed},
		{name: "bad escaping in key", raw: "%G0=1&" + signed, wantErr: ErrMalformed},
		{name: "truncated escape", raw: signed + "&x=%4", wantErr: ErrMalformed},
		{name: "empty pair", raw: strings.Replace(signed, "&", "&&", 1), wantErr: ErrMalformed},
		{name: "trailing '&'", raw: signed + "&", wantErr: ErrMalformed},
		{name: "pair without '='", raw: "flag&" + signed, wantErr: ErrMalformed},
		{name: "empty key", raw: "=x&" + signed, wantErr: ErrMalformed},
		{name: "semicolon separator", raw: strings.Replace(signed, "&", ";", 1), wantErr: ErrMalformed},
		{name: "encoded '=' in key", raw: sign("a=b", "c"), wantErr: ErrMalformed},
		{name: "encoded newline in value", raw: sign("start_param", "x\nuser=y"), wantErr: ErrMalformed},
		{name: "too long", raw: sign("pad", strings.Repeat("a", MaxInitDataLen)), wantErr: ErrMalformed},
		{name: "empty token", raw: signed, token: "-", wantErr: ErrNoToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.token
			switch token {
			case "":
				token = testToken
			case "-":
				token = ""
			}
			maxAge := tc.maxAge
			if maxAge == 0 {
				maxAge = 24 * time.Hour
			}
			got, err := VerifyInitData(tc.raw, token, maxAge, testNow)
			checkErr(t, err, tc.wantErr)
			if tc.wantErr != nil {
				if got != (InitData{}) {
					t.Errorf("data = %+v on error, want zero", got)
				}
				return
			}
			if !got.AuthDate.Equal(tc.want.AuthDate) || !got.User.AuthDate.Equal(tc.want.AuthDate) {
				t.Errorf("AuthDate = %v / %v, want %v", got.AuthDate, got.User.AuthDate, tc.want.AuthDate)
			}
			got.AuthDate, got.User.AuthDate = time.Time{}, time.Time{}
			tc.want.AuthDate, tc.want.User.AuthDate = time.Time{}, time.Time{}
			if got != tc.want {
				t.Errorf("data = %+v\nwant   %+v", got, tc.want)
			}
		})
	}
}

// TestInitDataKnownVector builds the raw string, the data-check-string and the
// HMAC by hand, independently of the package's helpers, so that a bug shared
// by SignInitData and VerifyInitData cannot go unnoticed.
func TestInitDataKnownVector(t *testing.T) {
	const token = "5555555555:AAH-known-vector-token"
	// Decoded fields, sorted by key; "hash" excluded, signature/chat_* included.
	const check = "auth_date=1700000000\n" +
		"chat_instance=-4242\n" +
		"chat_type=sender\n" +
		"signature=sig-_value\n" +
		`user={"id":99,"first_name":"Anna Maria+1 & Co\/\u03a9","username":"am"}`
	k := hmac.New(sha256.New, []byte("WebAppData"))
	k.Write([]byte(token))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(check))
	hash := hex.EncodeToString(m.Sum(nil))

	// The same fields percent-encoded by hand the way Telegram does it
	// (space as %20, '+' as %2B), in sorted order.
	const body = "auth_date=1700000000" +
		"&chat_instance=-4242" +
		"&chat_type=sender" +
		"&signature=sig-_value" +
		"&user=%7B%22id%22%3A99%2C%22first_name%22%3A%22Anna%20Maria%2B1%20%26%20Co%5C%2F%5Cu03a9%22%2C%22username%22%3A%22am%22%7D"
	raw := body + "&hash=" + hash

	now := time.Unix(1_700_000_100, 0)
	d, err := VerifyInitData(raw, token, time.Hour, now)
	if err != nil {
		t.Fatalf("VerifyInitData: %v", err)
	}
	if d.User.ID != 99 || d.User.FirstName != "Anna Maria+1 & Co/Ω" || d.User.Username != "am" ||
		d.ChatType != "sender" || d.ChatInstance != "-4242" || d.AuthDate.Unix() != 1_700_000_000 {
		t.Fatalf("data = %+v", d)
	}

	// Form-style encoding of the same data (space as '+') is equivalent.
	if _, err := VerifyInitData(strings.ReplaceAll(raw, "%20", "+"), token, time.Hour, now); err != nil {
		t.Fatalf("'+' for space: %v", err)
	}

	// SignInitData must reproduce the hand-made string byte for byte.
	got := SignInitData(map[string]string{
		"auth_date":     "1700000000",
		"chat_instance": "-4242",
		"chat_type":     "sender",
		"signature":     "sig-_value",
		"user":          `{"id":99,"first_name":"Anna Maria+1 & Co\/\u03a9","username":"am"}`,
	}, token)
	if got != raw {
		t.Fatalf("SignInitData =\n%s\nwant\n%s", got, raw)
	}
}

func TestSignInitDataReplacesHash(t *testing.T) {
	f := initFields()
	want := SignInitData(f, testToken)
	if got := SignInitData(copyMap(f, "hash", "deadbeef"), testToken); got != want {
		t.Fatalf("SignInitData with stale hash = %s, want %s", got, want)
	}
	if !strings.HasSuffix(want, "&hash="+want[len(want)-64:]) || strings.Count(want, "hash=") != 1 {
		t.Fatalf("hash not appended exactly once: %s", want)
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"AZaz09-._~", "AZaz09-._~"},
		{"a b+c", "a%20b%2Bc"},
		{"&=;%/?#\n", "%26%3D%3B%25%2F%3F%23%0A"},
		{"Ω", "%CE%A9"},
		{"\x00\xff", "%00%FF"},
	}
	for _, tc := range tests {
		if got := escape(tc.in); got != tc.want {
			t.Errorf("escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
