package ui

import "testing"

// Percentages typed into forms become basis points exactly, and back.
func TestPercentToBP(t *testing.T) {
	for in, want := range map[string]int{"10": 1000, "7,5": 750, "0.25": 25, " 100 ": 10000, "0": 0, "5.": 500} {
		if got, ok := PercentToBP(in); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "+1", "1.234", "12345", ",5"} {
		if _, ok := PercentToBP(in); ok {
			t.Errorf("%q accepted", in)
		}
	}
	for bp, want := range map[int]string{1000: "10", 750: "7.5", 25: "0.25", 0: "0"} {
		if got := BPToPercent(bp); got != want {
			t.Errorf("%d: %q, want %q", bp, got, want)
		}
	}
}
