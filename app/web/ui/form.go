package ui

import (
	"strconv"
	"strings"

	"ikra/app/zone"
)

// PercentToBP reads a percentage typed into a form, with at most two decimals ("10",
// "7,5", "0.25"), as basis points, exactly.
func PercentToBP(s string) (int, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", ".")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 4 || len(frac) > 2 {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.Atoi(whole + frac)
	if err != nil || n < 0 || strings.ContainsAny(whole+frac, "+-") {
		return 0, false
	}
	return n, true
}

// BPToPercent shows basis points as a form's percentage: 1000 → "10", 750 → "7.5".
func BPToPercent(bp int) string {
	s := strconv.Itoa(bp / 100)
	if r := bp % 100; r != 0 {
		s += "." + strings.TrimRight(strconv.Itoa(100 + r)[1:], "0")
	}
	return s
}

// Almaty is the time zone dates are shown and typed in (Asia/Almaty).
var Almaty = zone.Almaty
