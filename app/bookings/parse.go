package bookings

import (
	"strconv"
	"strings"
	"time"

	"ikra/app/zone"
)

// Almaty is the zone dates are read and shown in.
var Almaty = zone.Almaty

// ParseTenge reads a deal amount as a cashier types it — "25 000", "25000,50",
// "25 000.5", "25 000 ₸" — into tiyn. ok is false for anything else, for a zero or
// negative amount, and for more than two decimals.
func ParseTenge(s string) (tiyn int64, ok bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "₸"))
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "\u2009", "").Replace(s)
	whole, frac, dot := strings.Cut(strings.ReplaceAll(s, ",", "."), ".")
	if whole == "" || len(whole) > 12 || dot && (frac == "" || len(frac) > 2) {
		return 0, false
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	t, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	tiyn = t * 100
	if frac != "" {
		if len(frac) == 1 {
			frac += "0"
		}
		f, _ := strconv.ParseInt(frac, 10, 64)
		tiyn += f
	}
	return tiyn, tiyn > 0
}

// ParseDate reads a wished date "YYYY-MM-DD" as that day in Almaty; empty is nil. A
// day before today (in Almaty, at now) is not ok.
func ParseDate(s string, now time.Time) (d *time.Time, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	t, err := time.ParseInLocation("2006-01-02", s, Almaty)
	if err != nil {
		return nil, false
	}
	y, m, dd := now.In(Almaty).Date()
	if t.Before(time.Date(y, m, dd, 0, 0, 0, 0, Almaty)) || t.Year() > y+2 {
		return nil, false
	}
	return &t, true
}
