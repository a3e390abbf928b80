package web_test

import (
	"strings"
	"time"
)

func timeNow() time.Time { return time.Now() }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
