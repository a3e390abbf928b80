// Package logtag turns a client address into what a log line may carry: a short keyed
// hash. The same address gives the same tag under the same key, so one client can be
// followed across log lines and, by whoever holds the key, an address checked against
// a tag; the address itself cannot be read back from the log.
package logtag

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Addr is the tag of a client address: the first 12 hex characters of
// HMAC-SHA256(key, "ikra log address|" + addr).
func Addr(key []byte, addr string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("ikra log address|"))
	m.Write([]byte(addr))
	return hex.EncodeToString(m.Sum(nil))[:12]
}
