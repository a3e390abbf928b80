package web

import "testing"

// TestSafeNext: local paths pass unchanged; anything a browser could read as another
// origin, plainly or percent-encoded, becomes "/".
func TestSafeNext(t *testing.T) {
	local := []string{
		"/", "/app", "/app/bonuses", "/app/bonuses?before=12", "/admin/members?q=%D0%90%D0%B9",
		"/app?q=a%20b", "/app/offers/3#top", "/app/x?next=%2Fapp", "/a:b",
	}
	for _, p := range local {
		if got := safeNext(p); got != p {
			t.Errorf("safeNext(%q) = %q, want it kept", p, got)
		}
	}
	hostile := []string{
		"", "app", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
		"/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\x00/evil.example", "/ /evil.example",
		"https://evil.example", "javascript:alert(1)", "http:/evil.example",
		"/%2Fevil.example", "/%2fevil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/%5cevil.example",
		"/%09/evil.example", "/%0A/evil.example", "/%0d/evil.example", "/%00/evil.example",
		"/%252Fevil.example", "/%25252F%25252Fevil.example", "/%2525252Fevil.example",
		"/app\\..\\..\\evil", "/app/%5C", "/app?x=%5C", "/app%", "/app/%zz",
		"/\u00a0/evil.example", "/\u2028/evil.example", "/app\x7f",
	}
	for _, p := range hostile {
		if got := safeNext(p); got != "/" {
			t.Errorf("safeNext(%q) = %q, want /", p, got)
		}
	}
}

// An invite link's token and the webhook's secret are credentials: the access log
// never shows them.
func TestLoggedPathHidesInviteTokens(t *testing.T) {
	for in, want := range map[string]string{
		"/partner/invite/abcDEF123_-":        "/partner/invite/…",
		"/partner/invite/abcDEF123_-/accept": "/partner/invite/…/accept",
		"/partner/invite/":                   "/partner/invite/",
		"/partner/staff":                     "/partner/staff",
		"/telegram/webhook/s3cr3t-value":     "/telegram/webhook/…",
	} {
		if got := loggedPath(in); got != want {
			t.Errorf("loggedPath(%q) = %q, want %q", in, got, want)
		}
	}
}
