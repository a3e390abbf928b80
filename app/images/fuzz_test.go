package images

import (
	"bytes"
	"errors"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"testing"

	"ikra/app/images/imagestest"
)

// FuzzClean: an upload either is refused with a Refusal, or comes back as a JPEG or PNG
// of sane, bounded size that decodes to the dimensions reported, holds no byte of the
// original's trailer, and is accepted again as it is.
func FuzzClean(f *testing.F) {
	f.Add(imagestest.JPEG(8, 6))
	f.Add(imagestest.PNG(5, 9))
	f.Add(imagestest.JPEGWithEXIF(6, 4, 6))
	f.Add(imagestest.BombPNG(100_000, 100_000))
	f.Add(append(imagestest.PNG(2, 2), []byte("<script>alert(1)</script>")...))
	f.Add([]byte("GIF89a"))
	f.Add([]byte(`<svg onload="alert(1)">`))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte("\xff\xd8\xff"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if f, ok := sniff(b); ok {
			// Pictures up to MaxPixels are accepted by design; the fuzzer explores the
			// decoders on small ones rather than spending its time allocating big ones.
			if cfg, err := f.decodeConfig(bytes.NewReader(b)); err == nil && int64(cfg.Width)*int64(cfg.Height) > 1<<20 && int64(cfg.Width)*int64(cfg.Height) <= MaxPixels {
				return
			}
		}
		c, err := clean(b)
		if err != nil {
			var r *Refusal
			if !errors.As(err, &r) {
				t.Fatalf("not a refusal: %v", err)
			}
			return
		}
		if c.width <= 0 || c.height <= 0 || int64(c.width)*int64(c.height) > MaxPixels || len(c.data) == 0 {
			t.Fatalf("accepted %dx%d, %d bytes", c.width, c.height, len(c.data))
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(c.data))
		if err != nil || cfg.Width != c.width || cfg.Height != c.height {
			t.Fatalf("re-encoded picture: %v %s %+v, want %dx%d", err, format, cfg, c.width, c.height)
		}
		if want := map[string]string{"jpeg": "image/jpeg", "png": "image/png"}[format]; want != c.contentType {
			t.Fatalf("%s saved as %s", format, c.contentType)
		}
		if bytes.Contains(c.data, []byte("<script>")) {
			t.Fatal("the re-encoded file carries the original's trailer")
		}
		again, err := clean(c.data)
		if err != nil || again.width != c.width || again.height != c.height {
			t.Fatalf("the cleaned picture is refused or changes size: %v", err)
		}
	})
}
