package telegram

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"
)

func widgetFields() map[string]string {
	return map[string]string{
		"id":         "424242",
		"first_name": "Anna",
		"last_name":  "Ivanova",
		"username":   "anna_i",
		"photo_url":  "https://t.me/i/userpic/320/abc.jpg",
		"auth_date":  unix(testNow.Add(-10 * time.Minute)),
	}
}

func TestVerifyWidget(t *testing.T) {
	base := widgetFields()
	wantBase := User{
		ID:        424242,
		FirstName: "Anna",
		LastName:  "Ivanova",
		Username:  "anna_i",
		PhotoURL:  "https://t.me/i/userpic/320/abc.jpg",
		AuthDate:  testNow.Add(-10 * time.Minute),
	}
	signed := func(kv ...string) func() url.Values {
		return func() url.Values { return SignWidget(copyMap(base, kv...), testToken) }
	}
	after := func(q func() url.Values, edit func(url.Values)) func() url.Values {
		return func() url.Values { v := q(); edit(v); return v }
	}

	tests := []struct {
		name    string
		q       func() url.Values
		token   string
		maxAge  time.Duration
		want    User
		wantErr error
	}{
		{name: "valid", q: signed(), want: wantBase},
		{name: "minimal fields", q: signed("last_name", "\x00delete", "username", "\x00delete", "photo_url", "\x00delete"),
			want: User{ID: 424242, FirstName: "Anna", AuthDate: wantBase.AuthDate}},
		{name: "special characters in names", q: func() url.Values {
			// As a browser would deliver it in a redirect query string.
			q := SignWidget(copyMap(base, "first_name", "Anna Maria+1 & Co/Ω", "last_name", "a=b;c%20"), testToken)
			parsed, err := url.ParseQuery(q.Encode())
			if err != nil {
				panic(err)
			}
			return parsed
		}, want: func() User { u := wantBase; u.FirstName = "Anna Maria+1 & Co/Ω"; u.LastName = "a=b;c%20"; return u }()},
		{name: "unknown field signed", q: signed("future_field", "x"), want: wantBase},
		{name: "unknown field added after signing", q: after(signed(), func(v url.Values) { v.Set("admin", "1") }), wantErr: ErrBadHash},
		{name: "field removed after signing", q: after(signed(), func(v url.Values) { v.Del("photo_url") }), wantErr: ErrBadHash},
		{name: "tampered first_name", q: after(signed(), func(v url.Values) { v.Set("first_name", "Eve") }), wantErr: ErrBadHash},
		{name: "tampered id", q: after(signed(), func(v url.Values) { v.Set("id", "1") }), wantErr: ErrBadHash},
		{name: "tampered auth_date", q: after(signed(), func(v url.Values) { v.Set("auth_date", unix(testNow)) }), wantErr: ErrBadHash},
		{name: "wrong token", q: signed(), token: otherToken, wantErr: ErrBadHash},
		{name: "initData secret is not accepted", q: func() url.Values {
			v := url.Values{}
			for k, s := range base {
				v.Set(k, s)
			}
			v.Set("hash", hex.EncodeToString(mac(webAppSecret(testToken), dataCheckString(base))))
			return v
		}, wantErr: ErrBadHash},
		{name: "upper-case hex hash", q: after(signed(), func(v url.Values) { v.Set("hash", strings.ToUpper(v.Get("hash"))) }), want: wantBase},
		{name: "hash not hex", q: after(signed(), func(v url.Values) { v.Set("hash", strings.Repeat("zz", 32)) }), wantErr: ErrBadHash},
		{name: "hash truncated", q: after(signed(), func(v url.Values) { v.Set("hash", v.Get("hash")[:62]) }), wantErr: ErrBadHash},
		{name: "hash empty", q: after(signed(), func(v url.Values) { v.Set("hash", "") }), wantErr: ErrBadHash},
		{name: "missing hash", q: after(signed(), func(v url.Values) { v.Del("hash") }), wantErr: ErrMissingHash},
		{name: "empty values", q: func() url.Values { return url.Values{} }, wantErr: ErrMissingHash},
		{name: "duplicate id", q: after(signed(), func(v url.Values) { v.Add("id", "1") }), wantErr: ErrDuplicateKey},
		{name: "duplicate hash", q: after(signed(), func(v url.Values) { v.Add("hash", v.Get("hash")) }), wantErr: ErrDuplicateKey},
		{name: "key without values", q: after(signed(), func(v url.Values) { v["x"] = nil }), wantErr: ErrMalformed},
		{name: "stale", q: signed("auth_date", unix(testNow.Add(-25*time.Hour))), wantErr: ErrStale},
		{name: "exactly max age", q: signed("auth_date", unix(testNow.Add(-24*time.Hour))),
			want: func() User { u := wantBase; u.AuthDate = testNow.Add(-24 * time.Hour); return u }()},
		{name: "no age limit", q: signed("auth_date", unix(testNow.Add(-1000*time.Hour))), maxAge: -1,
			want: func() User { u := wantBase; u.AuthDate = testNow.Add(-1000 * time.Hour); return u }()},
		{name: "future beyond skew", q: signed("auth_date", unix(testNow.Add(61*time.Second))), wantErr: ErrStale},
		{name: "future beyond skew without age limit", q: signed("auth_date", unix(testNow.Add(time.Hour))), maxAge: -1, wantErr: ErrStale},
		{name: "future within skew", q: signed("auth_date", unix(testNow.Add(30*time.Second))),
			want: func() User { u := wantBase; u.AuthDate = testNow.Add(30 * time.Second); return u }()},
		{name: "missing auth_date", q: signed("auth_date", "\x00delete"), wantErr: ErrMalformed},
		{name: "non-numeric auth_date", q: signed("auth_date", "yesterday"), wantErr: ErrMalformed},
		{name: "signed auth_date", q: signed("auth_date", "+"+unix(testNow)), wantErr: ErrMalformed},
		{name: "missing id", q: signed("id", "\x00delete"), wantErr: ErrMalformed},
		{name: "zero id", q: signed("id", "0"), wantErr: ErrMalformed},
		{name: "negative id", q: signed("id", "-5"), wantErr: ErrMalformed},
		{name: "overflowing id", q: signed("id", "99999999999999999999"), wantErr: ErrMalformed},
		{name: "key containing '='", q: signed("a=b", "c"), wantErr: ErrMalformed},
		{name: "value containing newline", q: signed("first_name", "Anna\nid=1"), wantErr: ErrMalformed},
		{name: "empty token", q: signed(), token: "-", wantErr: ErrNoToken},
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
			got, err := VerifyWidget(tc.q(), token, maxAge, testNow)
			checkErr(t, err, tc.wantErr)
			if tc.wantErr != nil {
				if got != (User{}) {
					t.Errorf("user = %+v on error, want zero", got)
				}
				return
			}
			if !got.AuthDate.Equal(tc.want.AuthDate) {
				t.Errorf("AuthDate = %v, want %v", got.AuthDate, tc.want.AuthDate)
			}
			got.AuthDate, tc.want.AuthDate = time.Time{}, time.Time{}
			if got != tc.want {
				t.Errorf("user = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestWidgetKnownVector computes the signature by hand, independently of the
// package's helpers, so that a bug shared by SignWidget and VerifyWidget
// cannot go unnoticed.
func TestWidgetKnownVector(t *testing.T) {
	const token = "5555555555:AAH-known-vector-token"
	// Fields sorted by key, as the data-check-string requires.
	const check = "auth_date=1700000000\n" +
		"first_name=Anna Maria+1 & Co/Ω\n" +
		"id=777\n" +
		"username=anna"
	key := sha256.Sum256([]byte(token))
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(check))
	hash := hex.EncodeToString(m.Sum(nil))

	// A redirect URL as the browser delivers it; '+' is a space in query
	// strings, so the literal '+' must arrive as %2B.
	q, err := url.ParseQuery("id=777&first_name=Anna+Maria%2B1+%26+Co%2F%CE%A9&username=anna&auth_date=1700000000&hash=" + hash)
	if err != nil {
		t.Fatal(err)
	}
	u, err := VerifyWidget(q, token, time.Hour, time.Unix(1_700_000_100, 0))
	if err != nil {
		t.Fatalf("VerifyWidget: %v", err)
	}
	if u.ID != 777 || u.FirstName != "Anna Maria+1 & Co/Ω" || u.Username != "anna" || u.AuthDate.Unix() != 1_700_000_000 {
		t.Fatalf("user = %+v", u)
	}

	signed := SignWidget(map[string]string{
		"id": "777", "first_name": "Anna Maria+1 & Co/Ω", "username": "anna", "auth_date": "1700000000",
	}, token)
	if got := signed.Get("hash"); got != hash {
		t.Fatalf("SignWidget hash = %s, want %s", got, hash)
	}

	// A '+' that was not escaped decodes to a space and breaks the signature.
	q2, _ := url.ParseQuery("id=777&first_name=Anna+Maria+1+%26+Co%2F%CE%A9&username=anna&auth_date=1700000000&hash=" + hash)
	if _, err := VerifyWidget(q2, token, time.Hour, time.Unix(1_700_000_100, 0)); err == nil {
		t.Fatal("unescaped '+' accepted")
	}
}

func TestSignWidgetReplacesHash(t *testing.T) {
	f := widgetFields()
	want := SignWidget(f, testToken)
	got := SignWidget(copyMap(f, "hash", "deadbeef"), testToken)
	if got.Encode() != want.Encode() {
		t.Fatalf("SignWidget with stale hash = %s, want %s", got.Encode(), want.Encode())
	}
	if len(f) != 6 {
		t.Fatal("SignWidget modified its input")
	}
}
