package partners

import "errors"

// What is wrong with a BIN, as CheckBIN tells it.
var (
	ErrBINLength     = errors.New("partners: a BIN has 12 digits")
	ErrBINDigits     = errors.New("partners: a BIN holds digits only")
	ErrBINCheckDigit = errors.New("partners: the BIN's last digit does not match its check digit")
	ErrBINNoCheck    = errors.New("partners: no BIN can start with these 11 digits")
)

// CheckBIN says what is wrong with s as a BIN, or nil when ValidBIN accepts it.
func CheckBIN(s string) error {
	switch {
	case !allDigits(s):
		return ErrBINDigits
	case len(s) != binLen:
		return ErrBINLength
	}
	d, ok := binCheckDigit(s[:binLen-1])
	if !ok {
		return ErrBINNoCheck
	}
	if int(s[binLen-1]-'0') != d {
		return ErrBINCheckDigit
	}
	return nil
}

// binLen is the length of a Kazakhstan BIN or IIN.
const binLen = 12

// BIN and IIN weights: the first pass multiplies digit i by i; when that pass
// leaves remainder 10, the second pass uses the weights shifted by two.
var (
	binWeights1 = [binLen - 1]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	binWeights2 = [binLen - 1]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2}
)

// ValidBIN reports whether s is a well-formed Kazakhstan BIN (or IIN): exactly
// twelve ASCII digits whose last digit is the check digit of the first eleven.
// Numbers for which no check digit exists (both passes leave remainder 10) are
// never valid.
func ValidBIN(s string) bool {
	if len(s) != binLen || !allDigits(s) {
		return false
	}
	d, ok := binCheckDigit(s[:binLen-1])
	return ok && int(s[binLen-1]-'0') == d
}

// MakeBIN returns prefix11 followed by its check digit, a valid BIN. It returns
// "" when prefix11 is not eleven ASCII digits or when no check digit exists for
// it; such a prefix cannot start a BIN.
func MakeBIN(prefix11 string) string {
	if len(prefix11) != binLen-1 || !allDigits(prefix11) {
		return ""
	}
	d, ok := binCheckDigit(prefix11)
	if !ok {
		return ""
	}
	return prefix11 + string(rune('0'+d))
}

// binCheckDigit computes the check digit of eleven digits; ok is false when
// both weightings leave remainder 10.
func binCheckDigit(digits string) (d int, ok bool) {
	for _, w := range [][binLen - 1]int{binWeights1, binWeights2} {
		sum := 0
		for i := range binLen - 1 {
			sum += int(digits[i]-'0') * w[i]
		}
		if r := sum % 11; r != 10 {
			return r, true
		}
	}
	return 0, false
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
