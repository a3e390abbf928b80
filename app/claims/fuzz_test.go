package claims_test

import (
	"strings"
	"testing"

	"ikra/app/claims"
)

// FuzzParseNumber: a receipt number read back is a positive ID whose own number reads
// back the same, however it is typed.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"C-000123", "c123", "123", " C-1 ", "C--1", "-1", "0", "1e400", "99999999999999999999999", "C-", "", "C-0x1f", "+5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := claims.ParseNumber(s)
		if !ok {
			return
		}
		if id <= 0 {
			t.Fatalf("%q → %d", s, id)
		}
		n := claims.Number(id)
		for _, typed := range []string{n, strings.ToLower(n), strings.TrimPrefix(n, "C-")} {
			if back, ok := claims.ParseNumber(typed); !ok || back != id {
				t.Fatalf("%q → %d → %q → %d, %v", s, id, typed, back, ok)
			}
		}
	})
}
