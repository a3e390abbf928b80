// Package sanitize makes untrusted text safe to store: PostgreSQL refuses a NUL byte
// and invalid UTF-8 in a text column, where SQLite accepted them, so every text from
// outside goes through Text before it can reach the database.
package sanitize

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Dirty reports whether s holds a NUL byte or is not valid UTF-8.
func Dirty(s string) bool {
	return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s)
}

// DirtyBytes is Dirty for a byte slice.
func DirtyBytes(b []byte) bool {
	return bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b)
}

// Text drops NUL bytes and replaces each run of invalid UTF-8 with U+FFFD. Clean text
// comes back unchanged (and unallocated).
func Text(s string) string {
	if !Dirty(s) {
		return s
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}
