package web

import (
	"strconv"
	"strings"

	"ikra/app/web/ui"
)

// formatInt groups digits by thousands with a thin space: 1 234 567.
func formatInt(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(r)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

// formatTenge shows an amount in tiyn (1/100 tenge) as tenge with the ₸ sign.
func formatTenge(tiyn int64) string {
	t := formatInt(tiyn / 100)
	if r := tiyn % 100; r != 0 {
		if r < 0 {
			r = -r
		}
		t += "," + strconv.FormatInt(100+r, 10)[1:]
	}
	return t + " ₸"
}

// formatPercent shows basis points as a percentage (ui.Percent).
func formatPercent(bp int) string { return ui.Percent(bp) }

// deviceName turns a User-Agent into what a person recognises: "Chrome · Android".
func deviceName(ua string) string {
	if ua == "" {
		return "—"
	}
	browser := "Browser"
	for _, b := range []struct{ token, name string }{
		{"Telegram", "Telegram"}, {"YaBrowser", "Yandex Browser"}, {"Edg/", "Edge"}, {"OPR/", "Opera"},
		{"Firefox/", "Firefox"}, {"HeadlessChrome", "Headless Chrome"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	if system == "" {
		return browser
	}
	return browser + " · " + system
}
