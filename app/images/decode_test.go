package images

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"strings"
	"testing"

	"ikra/app/images/imagestest"
)

func TestCleanRefusesWithReason(t *testing.T) {
	photo := imagestest.JPEG(64, 48)
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"11 MB", append(append([]byte{}, photo...), make([]byte, 11<<20)...), ErrTooLarge},
		{"svg", []byte(imagestest.SVG), ErrUnsupported},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ErrUnsupported},
		{"html named .jpg", []byte(imagestest.HTML), ErrNotImage},
		{"bomb", imagestest.BombPNG(40000, 40000), ErrTooManyPixels},
		{"truncated jpeg", photo[:len(photo)*2/3], ErrDamaged},
		{"truncated png", truncate(imagestest.PNG(64, 48)), ErrDamaged},
		{"jpeg header only", photo[:3], ErrDamaged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := clean(c.data)
			if !errors.Is(err, c.want) {
				t.Fatalf("clean: %v, want %v", err, c.want)
			}
		})
	}
	if n := len(imagestest.BombPNG(40000, 40000)); n > 4096 {
		t.Errorf("the bomb is %d bytes: it should be tiny", n)
	}
}

func TestCleanStripsEXIFAndAppliesOrientation(t *testing.T) {
	in := imagestest.JPEGWithEXIF(40, 20, 6) // stored sideways: show turned 90° clockwise
	if !bytes.Contains(in, []byte("Exif")) || !bytes.Contains(in, []byte(imagestest.GPSMarker)) {
		t.Fatal("the fixture lacks its EXIF block")
	}
	c, err := clean(in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(c.data, []byte("Exif")) || bytes.Contains(c.data, []byte(imagestest.GPSMarker)) || bytes.Contains(c.data, []byte{0xff, 0xe1}) {
		t.Error("the cleaned file still holds EXIF data")
	}
	if c.contentType != "image/jpeg" || c.ext != ".jpg" || c.width != 20 || c.height != 40 {
		t.Errorf("cleaned: %s %s %dx%d, want image/jpeg .jpg 20x40", c.contentType, c.ext, c.width, c.height)
	}
	img, err := jpeg.Decode(bytes.NewReader(c.data))
	if err != nil || img.Bounds() != image.Rect(0, 0, 20, 40) {
		t.Fatalf("decode cleaned: %v %v", err, img.Bounds())
	}
	// The source's bottom-left corner (x=0, y=19: no red, much green) is now top-left.
	r, g, _, _ := img.At(0, 0).RGBA()
	if r>>8 > 40 || g>>8 < 200 {
		t.Errorf("top-left after turning: r=%d g=%d, want the source's bottom-left", r>>8, g>>8)
	}
}

func TestCleanKeepsPNGAsPNG(t *testing.T) {
	c, err := clean(imagestest.PNG(30, 10))
	if err != nil {
		t.Fatal(err)
	}
	if c.contentType != "image/png" || !strings.HasPrefix(string(c.data), "\x89PNG") || c.width != 30 || c.height != 10 {
		t.Errorf("png cleaned to %s %dx%d", c.contentType, c.width, c.height)
	}
	if _, err := clean(imagestest.PaddedPNG(MaxBytes)); err != nil {
		t.Errorf("a PNG of exactly %d bytes: %v", MaxBytes, err)
	}
	if _, err := clean(imagestest.PaddedPNG(MaxBytes + 1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a PNG one byte over the limit: %v", err)
	}
}

func TestThumbKeys(t *testing.T) {
	for _, k := range []string{"offers/12/ab3f.jpg", "offers/12/1.png"} {
		th := ThumbKey(k)
		if th == k || OriginalKey(th) != k || OriginalKey(k) != k {
			t.Errorf("%s: thumb %s, back %s", k, th, OriginalKey(th))
		}
	}
	if ThumbKey("offers/12/ab3f.jpg") != "offers/12/ab3f-thumb.jpg" {
		t.Error(ThumbKey("offers/12/ab3f.jpg"))
	}
}

func truncate(b []byte) []byte { return b[:len(b)/2] }
