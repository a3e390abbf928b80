package bookings

import (
	"testing"
	"time"
)

func TestParseTenge(t *testing.T) {
	for in, want := range map[string]int64{
		"25 000": 2_500_000, "25000,50": 2_500_050, "25 000.5": 2_500_050, "25\u202f000 ₸": 2_500_000, "1": 100, "0,01": 1,
	} {
		if got, ok := ParseTenge(in); !ok || got != want {
			t.Errorf("ParseTenge(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "0", "0,00", "-5", "25,000.00", "1,234", "abc", "12e3", "1.", "9999999999999"} {
		if got, ok := ParseTenge(in); ok {
			t.Errorf("ParseTenge(%q) = %d, want refused", in, got)
		}
	}
}

func TestParseDate(t *testing.T) {
	// 20:00 UTC on 1 May is already 2 May in Almaty.
	now := time.Date(2030, 5, 1, 20, 0, 0, 0, time.UTC)
	if d, ok := ParseDate("2030-05-02", now); !ok || d == nil || d.In(Almaty).Day() != 2 {
		t.Fatalf("today in Almaty refused: %v %v", d, ok)
	}
	if _, ok := ParseDate("2030-05-01", now); ok {
		t.Fatal("yesterday in Almaty accepted")
	}
	if d, ok := ParseDate("", now); !ok || d != nil {
		t.Fatal("empty date")
	}
	for _, in := range []string{"02.05.2030", "2030-13-01", "tomorrow"} {
		if _, ok := ParseDate(in, now); ok {
			t.Errorf("%q accepted", in)
		}
	}
}
