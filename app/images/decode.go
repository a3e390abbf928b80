package images

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"
)

// Limits of an upload.
const (
	// MaxBytes is the largest file accepted: 10 MB.
	MaxBytes = 10 << 20
	// MaxPixels is the largest picture accepted, width × height: 40 megapixels.
	MaxPixels = 40_000_000
	// jpegQuality is the quality re-encoded photos and thumbnails are saved at.
	jpegQuality = 88
)

// Refusal says why an upload was refused; Key is the message key shown in the form.
type Refusal struct{ Key string }

func (r *Refusal) Error() string { return "images: upload refused: " + r.Key }

// Reasons an upload is refused; match them with errors.Is.
var (
	ErrEmpty         = &Refusal{Key: "images.refused.empty"}
	ErrTooLarge      = &Refusal{Key: "images.refused.too_large"}
	ErrNotImage      = &Refusal{Key: "images.refused.not_image"}
	ErrUnsupported   = &Refusal{Key: "images.refused.unsupported"}
	ErrTooManyPixels = &Refusal{Key: "images.refused.too_many_pixels"}
	ErrDamaged       = &Refusal{Key: "images.refused.damaged"}
	ErrTooMany       = &Refusal{Key: "images.refused.too_many"}
)

// format is a picture format IKRA accepts.
type format struct {
	name         string
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

var (
	formatJPEG = format{"jpeg", jpeg.DecodeConfig, jpeg.Decode}
	formatPNG  = format{"png", png.DecodeConfig, png.Decode}
	formatWebP = format{"webp", webp.DecodeConfig, webp.Decode}
)

// sniff names the accepted format b starts with, by its signature; ok is false for
// anything else. The header is then decoded by that format's own decoder, so the
// file's name and declared type never matter.
func sniff(b []byte) (format, bool) {
	switch {
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return formatJPEG, true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG, true
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return formatWebP, true
	}
	return format{}, false
}

// otherImage reports whether b looks like a picture in a format IKRA does not take
// (GIF, BMP, TIFF, ICO, HEIC/AVIF, SVG), so the refusal can say "unsupported type"
// rather than "not an image".
func otherImage(b []byte) bool {
	head := b[:min(len(b), 1024)]
	switch {
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")),
		bytes.HasPrefix(head, []byte("BM")),
		bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")),
		bytes.HasPrefix(head, []byte("\x00\x00\x01\x00")):
		return true
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		switch string(head[8:12]) {
		case "heic", "heix", "hevc", "mif1", "msf1", "avif", "avis":
			return true
		}
	}
	return bytes.Contains(bytes.ToLower(head), []byte("<svg"))
}

// cleaned is an accepted upload, decoded and encoded again.
type cleaned struct {
	data          []byte
	contentType   string
	ext           string
	width, height int
}

// clean checks an upload and re-encodes it: the signature and header first (size and
// pixel count are known before a single pixel is decoded, so a small file claiming a
// huge picture is refused cheaply), then the whole picture, then a fresh file that
// holds nothing but the pixels — no EXIF (GPS included), no comments, nothing
// appended. JPEG and opaque WebP become JPEG; PNG and WebP with transparency, PNG.
// A JPEG's EXIF orientation is applied to the pixels before it is dropped.
func clean(b []byte) (*cleaned, error) {
	switch {
	case len(b) == 0:
		return nil, ErrEmpty
	case len(b) > MaxBytes:
		return nil, ErrTooLarge
	}
	f, ok := sniff(b)
	if !ok {
		if otherImage(b) {
			return nil, ErrUnsupported
		}
		return nil, ErrNotImage
	}
	cfg, err := f.decodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, ErrDamaged
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, ErrDamaged
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, ErrTooManyPixels
	}
	img, err := f.decode(bytes.NewReader(b))
	if err != nil {
		return nil, ErrDamaged
	}
	if f.name == "jpeg" {
		img = orient(img, exifOrientation(b))
	}
	out := &cleaned{width: img.Bounds().Dx(), height: img.Bounds().Dy()}
	var buf bytes.Buffer
	if f.name == "png" || f.name == "webp" && !opaque(img) {
		err = (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, img)
		out.contentType, out.ext = "image/png", ".png"
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: jpegQuality})
		out.contentType, out.ext = "image/jpeg", ".jpg"
	}
	if err != nil {
		return nil, errors.Join(ErrDamaged, err)
	}
	out.data = buf.Bytes()
	return out, nil
}

// opaque reports whether every pixel of img is fully opaque.
func opaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				return false
			}
		}
	}
	return true
}
