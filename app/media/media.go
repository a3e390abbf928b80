// Package media stores offer media (photos and the like) behind a small
// Store interface with two implementations: Disk, which keeps files in a
// local folder, and S3, which talks to an S3-compatible service such as
// MinIO.
//
// Keys are slash-separated lowercase names such as "offers/12/3f9a.jpg";
// ValidKey tells which keys are accepted. Every Store method checks the key
// first and reports a bad one with an error matching ErrInvalidKey.
package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"
)

// Object describes a stored object.
type Object struct {
	// Key is the object's key, as given to Put.
	Key string
	// ContentType is the media type given to Put, such as "image/jpeg".
	ContentType string
	// Size is the object's length in bytes.
	Size int64
	// ModTime is when the object was last written.
	ModTime time.Time
}

// Store keeps objects under keys. Implementations are safe for concurrent
// use by multiple goroutines.
type Store interface {
	// Put stores the content of r under key, replacing any object already
	// there. size is the exact number of bytes r yields, or -1 when unknown;
	// a reader that yields a different number of bytes than a non-negative
	// size makes Put fail. An empty contentType is stored as
	// "application/octet-stream". Readers never see a partly written object.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens the object stored under key. The caller must close the
	// returned reader. A missing object yields an error matching
	// ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, Object, error)
	// Delete removes the object stored under key. Deleting a missing key
	// is not an error.
	Delete(ctx context.Context, key string) error
	// Ping reports whether the store answers; it is meant for readiness
	// checks such as /readyz.
	Ping(ctx context.Context) error
}

// ErrNotFound is matched (with errors.Is) by the error Get returns for a
// key that holds no object.
var ErrNotFound = errors.New("media: not found")

// ErrInvalidKey is matched (with errors.Is) by the errors of ValidKey and of
// every Store method given a key that ValidKey rejects.
var ErrInvalidKey = errors.New("media: invalid key")

// MaxKeyLen is the longest key, in bytes, that ValidKey accepts.
const MaxKeyLen = 200

// defaultContentType is stored when Put is given an empty content type.
const defaultContentType = "application/octet-stream"

// ValidKey returns nil when key may name an object, and otherwise an error
// matching ErrInvalidKey that says why not.
//
// A valid key is 1 to MaxKeyLen bytes of lowercase letters, digits and the
// characters '/', '.', '_' and '-'. It must not start or end with '/',
// contain "..", contain an empty segment ("//") or contain a segment that
// is just ".". For example "offers/12/3f9a.jpg" is valid.
func ValidKey(key string) error {
	switch {
	case key == "":
		return invalidKey(key, "empty")
	case len(key) > MaxKeyLen:
		return invalidKey(key, fmt.Sprintf("longer than %d bytes", MaxKeyLen))
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '/' || c == '.' || c == '_' || c == '-'
		if !ok {
			return invalidKey(key, fmt.Sprintf("byte %q at offset %d is not one of [a-z0-9/._-]", c, i))
		}
	}
	switch {
	case strings.HasPrefix(key, "/"):
		return invalidKey(key, "starts with '/'")
	case strings.HasSuffix(key, "/"):
		return invalidKey(key, "ends with '/'")
	case strings.Contains(key, ".."):
		return invalidKey(key, `contains ".."`)
	case strings.Contains(key, "//"):
		return invalidKey(key, `contains an empty segment ("//")`)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "." {
			return invalidKey(key, `contains a "." segment`)
		}
	}
	return nil
}

// invalidKey builds a ValidKey error; very long keys are shortened in the
// message so that logs stay readable.
func invalidKey(key, reason string) error {
	const show = 64
	if len(key) > show {
		key = key[:show] + "..."
	}
	return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, reason)
}

// checkContentType returns the content type to store for the one given to
// Put: the default for an empty one, the given one unchanged when it parses
// as a media type, and an error otherwise.
func checkContentType(ct string) (string, error) {
	if ct == "" {
		return defaultContentType, nil
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		return "", fmt.Errorf("media: invalid content type %q: %w", ct, err)
	}
	return ct, nil
}
