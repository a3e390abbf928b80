package member

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"

	"ikra/app/loyalty"
)

// History explains ledger entries in a reader's language (loyalty.History).
type History = loyalty.History

// Line is a ledger entry with its explanation.
type Line = loyalty.Line

// NewHistory returns the explainer of ledger entries.
var NewHistory = loyalty.NewHistory

// Mirror reports whether an entry is the second half of a move between buckets.
var Mirror = loyalty.Mirror

// Multiplier shows a multiplier in basis points as a factor: 12500 → "×1,25".
func Multiplier(bp int) string {
	s := "×" + strconv.Itoa(bp/10000)
	if r := bp % 10000; r > 0 {
		frac := strconv.Itoa(10000 + r)[1:]
		for frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
		s += "," + frac
	}
	return s
}

// NewFormKey is a random idempotency key rendered into a form: submitting the same
// form twice then does its work once.
func NewFormKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ValidFormKey reports whether a submitted key looks like one NewFormKey made.
func ValidFormKey(k string) bool {
	if len(k) < 16 || len(k) > 64 {
		return false
	}
	for _, r := range k {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}
