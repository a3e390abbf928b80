package telegram

import (
	"errors"
	"maps"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

const fuzzMaxAge = 24 * time.Hour

// fuzzSeeds returns valid and invalid initData strings.
func fuzzSeeds() []string {
	f := initFields()
	valid := SignInitData(f, testToken)
	return []string{
		valid,
		SignInitData(copyMap(f, "user", `{"id":7,"first_name":"Anna Maria+1 & Co/Ω"}`), testToken),
		SignInitData(copyMap(f, "query_id", "\x00delete", "x_extra", "a b+c&d=e"), testToken),
		SignInitData(copyMap(f, "user", `{"id":0}`), testToken),
		SignInitData(copyMap(f, "user", `{"id":`), testToken),
		SignInitData(copyMap(f, "auth_date", "1"), testToken),
		SignInitData(copyMap(f, "auth_date", "99999999999999999999"), testToken),
		SignInitData(copyMap(f, "a=b", "c"), testToken),
		SignInitData(f, otherToken),
		strings.ReplaceAll(valid, "%20", "+"),
		valid + "&x=1",
		valid + "&hash=00",
		"auth_date=1&" + valid,
		strings.Replace(valid, "&", ";", 1),
		"user=%7B%22id%22%3A1%7D&auth_date=1700000000&hash=zz",
		"%zz=1&hash=",
		"hash",
		"&",
		"=",
		"",
	}
}

// FuzzVerifyInitData checks that VerifyInitData never panics, that its errors
// always wrap exactly one sentinel, and that accepted input is sensible. When
// resign is set, the parsed fields are re-signed with the test token first,
// so the fuzzer also explores the post-signature code paths and the
// SignInitData/parse round trip.
func FuzzVerifyInitData(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, resign bool) {
		if resign {
			fields, err := parseInitData(raw)
			if err != nil {
				return
			}
			raw = SignInitData(fields, testToken)
			if len(raw) > MaxInitDataLen {
				return // escaping may outgrow the length limit
			}
			back, err := parseInitData(raw)
			if err != nil {
				t.Fatalf("re-signed string does not parse: %v\n%q", err, raw)
			}
			delete(back, hashKey)
			delete(fields, hashKey)
			if !maps.Equal(back, fields) {
				t.Fatalf("round trip changed fields:\n got %q\nwant %q", back, fields)
			}
		}
		d, err := VerifyInitData(raw, testToken, fuzzMaxAge, testNow)
		if err != nil {
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %v wraps %d sentinels", err, n)
			}
			if d != (InitData{}) {
				t.Fatalf("non-zero data with error: %+v", d)
			}
			if resign && (errors.Is(err, ErrBadHash) || errors.Is(err, ErrMissingHash) || errors.Is(err, ErrDuplicateKey)) {
				t.Fatalf("freshly signed payload refused: %v\n%q", err, raw)
			}
			return
		}
		if d.User.ID <= 0 {
			t.Fatalf("accepted payload with user id %d", d.User.ID)
		}
		if !d.AuthDate.Equal(d.User.AuthDate) {
			t.Fatalf("AuthDate mismatch: %v vs %v", d.AuthDate, d.User.AuthDate)
		}
		if d.AuthDate.Before(testNow.Add(-fuzzMaxAge)) || d.AuthDate.After(testNow.Add(MaxClockSkew)) {
			t.Fatalf("accepted auth_date %v outside window", d.AuthDate)
		}
		if _, err := VerifyInitData(raw, otherToken, fuzzMaxAge, testNow); !errors.Is(err, ErrBadHash) {
			t.Fatalf("accepted payload also verifies with another token: %v", err)
		}
		// Re-signing the accepted fields must give back the same result.
		fields, err := parseInitData(raw)
		if err != nil {
			t.Fatalf("accepted payload does not parse: %v", err)
		}
		again := SignInitData(fields, testToken)
		if len(again) > MaxInitDataLen {
			return // escaping may outgrow the length limit
		}
		d2, err := VerifyInitData(again, testToken, fuzzMaxAge, testNow)
		if err != nil || d2 != d {
			t.Fatalf("re-signed payload: %+v, %v; want %+v", d2, err, d)
		}
	})
}

// FuzzParseInitData checks that parsing never panics, that accepted fields
// can never make the data-check-string ambiguous, and that re-encoding the
// fields parses back to the same map.
func FuzzParseInitData(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		fields, err := parseInitData(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrDuplicateKey) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		keys := make([]string, 0, len(fields))
		for k, v := range fields {
			if checkField(k, v) != nil {
				t.Fatalf("accepted ambiguous field %q=%q", k, v)
			}
			keys = append(keys, k)
		}
		// The data-check-string must determine the fields uniquely.
		delete(fields, hashKey)
		if len(fields) > 0 {
			rebuilt := make(map[string]string, len(fields))
			for _, l := range strings.Split(dataCheckString(fields), "\n") {
				k, v, ok := strings.Cut(l, "=")
				if !ok {
					t.Fatalf("line %q without '='", l)
				}
				if _, dup := rebuilt[k]; dup {
					t.Fatalf("key %q twice in data-check-string", k)
				}
				rebuilt[k] = v
			}
			if !maps.Equal(rebuilt, fields) {
				t.Fatalf("data-check-string is ambiguous: %q -> %q", fields, rebuilt)
			}
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			if k != hashKey {
				parts = append(parts, escape(k)+"="+escape(fields[k]))
			}
		}
		enc := strings.Join(parts, "&")
		if len(enc) > MaxInitDataLen {
			return // escaping may outgrow the length limit
		}
		back, err := parseInitData(enc)
		if err != nil || !maps.Equal(back, fields) {
			t.Fatalf("re-encoded fields: %q, %v; want %q", back, err, fields)
		}
	})
}

// FuzzInitDataTamper signs fields, then changes one byte of the signed string: the
// result must never verify, unless the change only re-encoded the same fields (for
// example "%2F" for "%2f"), in which case it must verify to the same data.
func FuzzInitDataTamper(f *testing.F) {
	f.Add(testUserJSON, "AAHdF6IQAAAAAN0XohDhrOrc", "", uint16(0), byte('x'))
	f.Add(`{"id":7,"first_name":"Anna Maria+1 & Co/Ω"}`, "q", "ref_ABC", uint16(10), byte('%'))
	f.Add(`{"id":42,"first_name":"Ж"}`, "", "x", uint16(300), byte('+'))
	f.Add(`{"id":1}`, "a b", "", uint16(65535), byte(0))
	f.Fuzz(func(t *testing.T, user, queryID, start string, pos uint16, b byte) {
		fields := map[string]string{"user": user, "auth_date": unix(testNow.Add(-time.Minute))}
		if queryID != "" {
			fields["query_id"] = queryID
		}
		if start != "" {
			fields["start_param"] = start
		}
		raw := SignInitData(fields, testToken)
		orig, err := VerifyInitData(raw, testToken, fuzzMaxAge, testNow)
		if err != nil {
			return // fields the parser refuses (a bad user, a key that breaks the format)
		}
		i := int(pos) % len(raw)
		if raw[i] == b {
			return
		}
		tampered := raw[:i] + string([]byte{b}) + raw[i+1:]
		got, err := VerifyInitData(tampered, testToken, fuzzMaxAge, testNow)
		if err != nil {
			return
		}
		before, _ := parseInitData(raw)
		after, _ := parseInitData(tampered)
		if !maps.Equal(before, after) || got != orig {
			t.Fatalf("a changed payload verifies:\n%q\n%q\n%+v", raw, tampered, got)
		}
	})
}

// FuzzVerifyWidget checks the Login Widget's query the same way: no panic, exactly
// one sentinel per error, an accepted query has a positive ID and a fresh date and
// fails with another bot's token, and a query re-signed from its own fields verifies
// to the same user while any changed field value does not.
func FuzzVerifyWidget(f *testing.F) {
	good := SignWidget(map[string]string{"id": "42", "first_name": "Нур", "username": "nur", "auth_date": unix(testNow)}, testToken)
	f.Add(good.Encode(), false)
	f.Add(good.Encode(), true)
	f.Add("id=1&auth_date=1&hash=00", true)
	f.Add("id=-1&first_name=%00&auth_date=99999999999999999999&hash=", true)
	f.Add("id=1&id=2&hash=x", false)
	f.Add("", true)
	f.Add("%zz", true)
	f.Fuzz(func(t *testing.T, query string, resign bool) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		if resign {
			fields := map[string]string{}
			for k, vs := range q {
				if k != hashKey && len(vs) > 0 {
					fields[k] = vs[0]
				}
			}
			q = SignWidget(fields, testToken)
		}
		u, err := VerifyWidget(q, testToken, fuzzMaxAge, testNow)
		if err != nil {
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %v wraps %d sentinels", err, n)
			}
			return
		}
		if u.ID <= 0 || u.AuthDate.Before(testNow.Add(-fuzzMaxAge)) || u.AuthDate.After(testNow.Add(MaxClockSkew)) {
			t.Fatalf("accepted %+v", u)
		}
		if _, err := VerifyWidget(q, otherToken, fuzzMaxAge, testNow); !errors.Is(err, ErrBadHash) {
			t.Fatalf("accepted query also verifies with another token: %v", err)
		}
		for k := range q {
			if k == hashKey {
				continue
			}
			changed := url.Values{}
			for k2, vs := range q {
				changed[k2] = append([]string(nil), vs...)
			}
			changed.Set(k, q.Get(k)+"1")
			if _, err := VerifyWidget(changed, testToken, fuzzMaxAge, testNow); err == nil {
				t.Fatalf("changing %q still verifies", k)
			}
		}
	})
}
