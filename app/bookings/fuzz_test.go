package bookings

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// FuzzParseTenge: an accepted amount is positive and below 10^14 tiyn, its digits
// are the input's digits, and it reads back the same from the way a person writes it
// (spaces between thousands, a comma, the ₸ sign).
func FuzzParseTenge(f *testing.F) {
	for _, s := range []string{"25 000", "25000,50", "25 000.5", "25 000 ₸", "0", "-1", "1e400", "0,01", "999999999999,99",
		"1\u00a0000", "1.2.3", ",5", "5,", "٣", "１２", "99999999999999999999999", "abc", "' OR 1=1--", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tiyn, ok := ParseTenge(s)
		if !ok {
			if tiyn > 0 {
				t.Fatalf("%q refused but gave %d", s, tiyn)
			}
			return
		}
		if tiyn <= 0 || tiyn >= 100_000_000_000_000 {
			t.Fatalf("%q: %d tiyn", s, tiyn)
		}
		digits := func(s string) string {
			return strings.TrimLeft(strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, s), "0")
		}
		whole, frac := tiyn/100, tiyn%100
		written := strconv.FormatInt(whole, 10)
		if frac != 0 {
			written += "," + strconv.FormatInt(100+frac, 10)[1:]
		}
		if want, got := strings.TrimRight(digits(written), "0"), strings.TrimRight(digits(s), "0"); want != got {
			t.Fatalf("%q read as %d tiyn", s, tiyn)
		}
		var grouped strings.Builder
		for i, r := range written {
			if i > 0 && i < len(strconv.FormatInt(whole, 10)) && (len(strconv.FormatInt(whole, 10))-i)%3 == 0 {
				grouped.WriteRune('\u00a0')
			}
			grouped.WriteRune(r)
		}
		for _, w := range []string{written, grouped.String() + " ₸", strings.Replace(written, ",", ".", 1)} {
			if back, ok := ParseTenge(w); !ok || back != tiyn {
				t.Fatalf("%q (from %q) reads back as %d, %v; want %d", w, s, back, ok, tiyn)
			}
		}
	})
}

// FuzzNormaliseCode: a normalised code is empty or 4 to 16 capital Latin letters and
// digits, normalising it again changes nothing, and a code the platform issues is
// found however it is typed or scanned.
func FuzzNormaliseCode(f *testing.F) {
	for _, s := range []string{"K7M2Q9A", "k7m2-q9a", " k7m2 q9a ", "https://ikra.kz/b/K7M2Q9A", "ABC", "../../etc/passwd", "' OR 1=1--",
		"<script>", "\x00ABCD", "ǅABCD", "ßABC", "ıabcd", strings.Repeat("A", 17), "/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormaliseCode(s)
		if n == "" {
			return
		}
		if len(n) < 4 || len(n) > 16 {
			t.Fatalf("%q → %q", s, n)
		}
		for _, r := range n {
			if r > unicode.MaxASCII || !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				t.Fatalf("%q → %q holds %q", s, n, r)
			}
		}
		if again := NormaliseCode(n); again != n {
			t.Fatalf("%q → %q → %q", s, n, again)
		}
		for _, typed := range []string{strings.ToLower(n), " " + n[:2] + "-" + n[2:] + " ", "https://example.com/b/" + n} {
			if got := NormaliseCode(typed); got != n {
				t.Fatalf("%q → %q, want %q", typed, got, n)
			}
		}
	})
}

// FuzzParseDate: an accepted wished date is a midnight in Almaty, from today to two
// years on, and reads back the same from its own text.
func FuzzParseDate(f *testing.F) {
	now := time.Date(2026, 11, 27, 20, 30, 0, 0, time.UTC) // already the 28th in Almaty
	for _, s := range []string{"", "2026-11-28", "2026-11-27", "2028-12-31", "2029-01-01", "2024-13-45", "0000-00-00", "abc", "2026-02-29", " 2026-12-01 ", "+2026-12-01", "2026-1-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDate(s, now)
		if !ok {
			if d != nil {
				t.Fatalf("%q refused with a date", s)
			}
			return
		}
		if d == nil {
			if strings.TrimSpace(s) != "" {
				t.Fatalf("%q accepted as no date", s)
			}
			return
		}
		y, m, dd := now.In(Almaty).Date()
		today := time.Date(y, m, dd, 0, 0, 0, 0, Almaty)
		if d.Before(today) || d.Year() > y+2 || d.Location() != Almaty || d.Hour() != 0 || d.Minute() != 0 {
			t.Fatalf("%q → %v", s, d)
		}
		back, ok := ParseDate(d.Format("2006-01-02"), now)
		if !ok || back == nil || !back.Equal(*d) {
			t.Fatalf("%q → %v → %v", s, d, back)
		}
	})
}
