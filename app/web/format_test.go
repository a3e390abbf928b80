package web

import "testing"

func TestFormatting(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1\u202f000", 1234567: "1\u202f234\u202f567", -5000: "−5\u202f000"} {
		if got := formatInt(in); got != want {
			t.Errorf("formatInt(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{1_500_000: "15\u202f000 ₸", 12345: "123,45 ₸", 5: "0,05 ₸"} {
		if got := formatTenge(in); got != want {
			t.Errorf("formatTenge(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int]string{500: "5%", 550: "5,5%", 1: "0,01%", 1250: "12,5%"} {
		if got := formatPercent(in); got != want {
			t.Errorf("formatPercent(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36":                       "Chrome · Android",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1": "Safari · iPhone",
		"Go-http-client/1.1": "Browser",
		"":                   "—",
	} {
		if got := deviceName(in); got != want {
			t.Errorf("deviceName(%q) = %q, want %q", in, got, want)
		}
	}
}
