// Package zone is the platform's time zone: the club lives in Kazakhstan, and every
// day, deadline, period and date a person types or reads is Asia/Almaty's.
package zone

import (
	"time"
	_ "time/tzdata" // the zone is known even on a machine without a zone database
)

// Almaty is Asia/Almaty, with its history (UTC+6 until March 2024, UTC+5 since).
var Almaty = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		panic("zone: Asia/Almaty missing from the embedded zone database: " + err.Error())
	}
	return loc
}()
