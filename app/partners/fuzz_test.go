package partners

import (
	"errors"
	"testing"
)

// FuzzBIN: CheckBIN and ValidBIN agree, an error names one reason, a valid BIN is its
// first eleven digits with the check digit MakeBIN gives, and changing any one digit
// of a valid BIN makes it invalid (the weights are all non-zero modulo 11).
func FuzzBIN(f *testing.F) {
	for _, s := range []string{"000000000000", "000000000001", MakeBIN("10000000007"), MakeBIN("99012345678"), "12345678901",
		"1234567890123", "12345678901a", "１２３４５６７８９０１２", "-12345678901", "1e400", "' OR 1=1--", "", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckBIN(s)
		if (err == nil) != ValidBIN(s) {
			t.Fatalf("%q: CheckBIN %v, ValidBIN %v", s, err, ValidBIN(s))
		}
		if err != nil {
			n := 0
			for _, e := range []error{ErrBINLength, ErrBINDigits, ErrBINCheckDigit, ErrBINNoCheck} {
				if errors.Is(err, e) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%q: %v", s, err)
			}
			if len(s) == 11 && allDigits(s) {
				if b := MakeBIN(s); b != "" && (!ValidBIN(b) || b[:11] != s) {
					t.Fatalf("MakeBIN(%q) = %q", s, b)
				}
			}
			return
		}
		if MakeBIN(s[:11]) != s {
			t.Fatalf("%q valid, but MakeBIN gives %q", s, MakeBIN(s[:11]))
		}
		for i := range len(s) {
			for d := byte('0'); d <= '9'; d++ {
				if d == s[i] {
					continue
				}
				other := s[:i] + string(d) + s[i+1:]
				if ValidBIN(other) && other[:11] == s[:11] {
					t.Fatalf("%q and %q are both valid", s, other)
				}
			}
		}
	})
}
