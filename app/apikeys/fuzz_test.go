package apikeys_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"ikra/app/apikeys"
	"ikra/app/sanitize"
)

// FuzzCheckIdempotencyKey: an accepted Idempotency-Key is 1 to 200 bytes of valid
// UTF-8 with no control character, so PostgreSQL stores it as it is (sanitize leaves
// it alone); anything else is ErrBadIdempotencyKey.
func FuzzCheckIdempotencyKey(f *testing.F) {
	for _, s := range []string{"k1", "6f1c1a3e-0000-4000-8000-000000000001", "", " ", "a\x00b", "\xff\xfe", "\t", "ключ",
		strings.Repeat("x", 200), strings.Repeat("x", 201), strings.Repeat("Ж", 100), "' OR 1=1--", "<script>", "\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, k string) {
		err := apikeys.CheckIdempotencyKey(k)
		if err != nil {
			if !errors.Is(err, apikeys.ErrBadIdempotencyKey) {
				t.Fatalf("%q: %v", k, err)
			}
			return
		}
		if k == "" || len(k) > apikeys.MaxIdempotencyKey || !utf8.ValidString(k) || sanitize.Text(k) != k {
			t.Fatalf("accepted %q", k)
		}
		for _, r := range k {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("accepted %q with %U", k, r)
			}
		}
	})
}
