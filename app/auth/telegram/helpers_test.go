package telegram

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

const (
	testToken  = "123456789:AAE_test-token-for-unit-tests_0123456"
	otherToken = "987654321:AAE_a-different-bot-token_abcdefghij"
)

// testNow is the fixed "current time" used by all tests.
var testNow = time.Unix(1_700_000_000, 0)

// unix formats t as a Telegram auth_date.
func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

var sentinels = []error{ErrNoToken, ErrMissingHash, ErrBadHash, ErrStale, ErrMalformed, ErrDuplicateKey}

// checkErr fails the test unless err matches want (nil meaning success) and
// wraps exactly one sentinel.
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %v wraps %d sentinels, want exactly 1", err, n)
	}
}

// copyMap returns a shallow copy of m with the given overrides applied; an
// override value of "\x00delete" removes the key.
func copyMap(m map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "\x00delete" {
			delete(out, kv[i])
			continue
		}
		out[kv[i]] = kv[i+1]
	}
	return out
}
