package zone_test

import (
	"testing"
	"time"

	"ikra/app/zone"
)

// Almaty keeps its history: UTC+6 before March 2024, UTC+5 after.
func TestAlmatyOffsets(t *testing.T) {
	for _, c := range []struct {
		at   time.Time
		want int
	}{
		{time.Date(2023, 12, 31, 12, 0, 0, 0, time.UTC), 6 * 3600},
		{time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), 5 * 3600},
	} {
		if _, off := c.at.In(zone.Almaty).Zone(); off != c.want {
			t.Errorf("%s: offset %d, want %d", c.at, off, c.want)
		}
	}
}
