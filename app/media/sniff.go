package media

import "bytes"

// SniffLen is the number of leading bytes of a file that SniffImage needs
// to recognise every format it accepts. Passing more is fine.
const SniffLen = 12

// Magic numbers of the accepted image formats.
var (
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
	pngMagic  = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
	riffMagic = []byte("RIFF")
	webpMagic = []byte("WEBP")
)

// SniffImage tells, from the first bytes of an upload (at least SniffLen of
// them for WebP), whether it is a JPEG, PNG or WebP image, by magic bytes
// alone. It returns the matching content type ("image/jpeg", "image/png" or
// "image/webp") and true, or "" and false for anything else. It does not
// check that the rest of the file is a well-formed image.
func SniffImage(head []byte) (contentType string, ok bool) {
	switch {
	case bytes.HasPrefix(head, jpegMagic):
		return "image/jpeg", true
	case bytes.HasPrefix(head, pngMagic):
		return "image/png", true
	case len(head) >= SniffLen && bytes.HasPrefix(head, riffMagic) && bytes.Equal(head[8:12], webpMagic):
		return "image/webp", true
	}
	return "", false
}
