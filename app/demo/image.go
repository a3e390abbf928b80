package demo

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"sync"
)

// Size of the generated offer pictures (16:9).
const (
	pictureWidth  = 960
	pictureHeight = 540
)

// picture draws an abstract cover in the colour c: a diagonal gradient with
// translucent circles, a ring and a band of stripes. The same seed always gives
// the same picture.
func picture(c color.NRGBA, seed uint64) *image.NRGBA {
	w, h := pictureWidth, pictureHeight
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	light, dark := mix(c, white, 0.35), mix(c, black, 0.35)

	// Background: light in the top-left corner, dark in the bottom-right.
	for y := range h {
		row := img.Pix[y*img.Stride:]
		for x := range w {
			t := (float64(x)/float64(w-1) + float64(y)/float64(h-1)) / 2
			p := mix(light, dark, t)
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = p.R, p.G, p.B, 0xFF
		}
	}

	rng := rand.New(rand.NewPCG(seed, 0x1c_4a_2026))
	// Soft discs, some lighter and some darker than the background.
	for i := range 6 {
		cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
		r := 50 + rng.Float64()*190
		tone := white
		if i%3 == 2 {
			tone = black
		}
		alpha := 0.08 + rng.Float64()*0.14
		fill(img, tone, alpha, cx-r, cy-r, cx+r, cy+r, func(x, y float64) bool {
			return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
		})
	}
	// A ring.
	{
		cx, cy := float64(w)*(0.6+rng.Float64()*0.3), float64(h)*(0.2+rng.Float64()*0.5)
		outer := 90 + rng.Float64()*70
		inner := outer - 14
		fill(img, white, 0.45, cx-outer, cy-outer, cx+outer, cy+outer, func(x, y float64) bool {
			d := (x-cx)*(x-cx) + (y-cy)*(y-cy)
			return d <= outer*outer && d >= inner*inner
		})
	}
	// Diagonal stripes across a band near the top.
	{
		top := float64(h) * (0.06 + rng.Float64()*0.1)
		bottom := top + 56
		period := 28.0
		fill(img, white, 0.18, 0, top, float64(w), bottom, func(x, y float64) bool {
			return math.Mod(x+y, period) < period/2
		})
	}
	// A rounded card in the lower-left corner, where a caption would go.
	{
		x0, y0, x1, y1, rad := 48.0, float64(h)-170, 48.0+360, float64(h)-48, 22.0
		fill(img, white, 0.22, x0, y0, x1, y1, func(x, y float64) bool {
			dx := math.Max(math.Max(x0+rad-x, x-(x1-rad)), 0)
			dy := math.Max(math.Max(y0+rad-y, y-(y1-rad)), 0)
			return dx*dx+dy*dy <= rad*rad
		})
	}
	return img
}

var (
	white = color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
	black = color.NRGBA{0x10, 0x12, 0x18, 0xFF}
)

// fill blends tone with opacity alpha over the pixels inside the box
// [x0,x1)×[y0,y1) for which inside (called with the pixel centre) is true.
func fill(img *image.NRGBA, tone color.NRGBA, alpha, x0, y0, x1, y1 float64, inside func(x, y float64) bool) {
	b := img.Bounds()
	ix0, iy0 := max(int(math.Floor(x0)), b.Min.X), max(int(math.Floor(y0)), b.Min.Y)
	ix1, iy1 := min(int(math.Ceil(x1)), b.Max.X), min(int(math.Ceil(y1)), b.Max.Y)
	for y := iy0; y < iy1; y++ {
		for x := ix0; x < ix1; x++ {
			if !inside(float64(x)+0.5, float64(y)+0.5) {
				continue
			}
			i := img.PixOffset(x, y)
			p := color.NRGBA{img.Pix[i], img.Pix[i+1], img.Pix[i+2], 0xFF}
			q := mix(p, tone, alpha)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = q.R, q.G, q.B
		}
	}
}

// mix returns a + (b−a)·t per channel, opaque.
func mix(a, b color.NRGBA, t float64) color.NRGBA {
	ch := func(x, y uint8) uint8 {
		return uint8(math.Round(float64(x) + (float64(y)-float64(x))*t))
	}
	return color.NRGBA{ch(a.R, b.R), ch(a.G, b.G), ch(a.B, b.B), 0xFF}
}

type pictureKey struct {
	c    color.NRGBA
	seed uint64
}

// pictures caches encoded pictures: they are deterministic, and a process that seeds
// more than once (the tests) should draw each only once.
var pictures sync.Map

// picturePNG is picture(c, seed) encoded as PNG, drawn once per process.
func picturePNG(c color.NRGBA, seed uint64) ([]byte, error) {
	k := pictureKey{c, seed}
	if b, ok := pictures.Load(k); ok {
		return b.([]byte), nil
	}
	b, err := encodePNG(picture(c, seed))
	if err != nil {
		return nil, err
	}
	pictures.Store(k, b)
	return b, nil
}

// encodePNG encodes img as PNG.
func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
