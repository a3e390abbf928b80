// Package imagestest builds the pictures the upload tests send: real photos with an
// EXIF block holding GPS data, decompression bombs, truncated and disguised files.
package imagestest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// GPSMarker is written into the GPS block of JPEGWithEXIF; a cleaned file must not
// contain it.
const GPSMarker = "IKRA-GPS-43.238949N-76.889709E"

// Picture is a w×h picture with a gradient, so encoders have something to keep.
func Picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), 128, 255})
		}
	}
	return img
}

// JPEG encodes a w×h picture.
func JPEG(w, h int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, Picture(w, h), &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// PNG encodes a w×h picture.
func PNG(w, h int) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, Picture(w, h)); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// JPEGWithEXIF is a w×h JPEG photo carrying an EXIF block (APP1) as a handset camera
// writes it: the orientation tag (1 to 8) and a GPS block with coordinates and
// GPSMarker.
func JPEGWithEXIF(w, h, orientation int) []byte {
	le := binary.LittleEndian
	var t bytes.Buffer
	t.WriteString("II*\x00")
	_ = binary.Write(&t, le, uint32(8)) // IFD0 right after the header
	entry := func(tag, typ uint16, count, value uint32) {
		_ = binary.Write(&t, le, tag)
		_ = binary.Write(&t, le, typ)
		_ = binary.Write(&t, le, count)
		_ = binary.Write(&t, le, value)
	}
	// IFD0: 2 entries, then the next-IFD offset.
	ifd0End := uint32(8 + 2 + 2*12 + 4)
	_ = binary.Write(&t, le, uint16(2))
	entry(0x0112, 3, 1, uint32(orientation)) // Orientation, SHORT
	entry(0x8825, 4, 1, ifd0End)             // GPS IFD pointer, LONG
	_ = binary.Write(&t, le, uint32(0))
	// GPS IFD: latitude ref, latitude (3 rationals), map datum (the marker).
	gpsEnd := ifd0End + 2 + 3*12 + 4
	_ = binary.Write(&t, le, uint16(3))
	entry(0x0001, 2, 2, uint32('N'))                       // GPSLatitudeRef "N\0"
	entry(0x0002, 5, 3, gpsEnd)                            // GPSLatitude
	entry(0x0012, 2, uint32(len(GPSMarker)+1), gpsEnd+3*8) // GPSMapDatum
	_ = binary.Write(&t, le, uint32(0))
	for _, r := range [][2]uint32{{43, 1}, {14, 1}, {2041, 100}} {
		_ = binary.Write(&t, le, r)
	}
	t.WriteString(GPSMarker + "\x00")

	seg := append([]byte("Exif\x00\x00"), t.Bytes()...)
	app1 := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(len(seg)+2))
	app1 = append(app1, seg...)
	plain := JPEG(w, h)
	out := append([]byte{}, plain[:2]...) // SOI
	out = append(out, app1...)
	return append(out, plain[2:]...)
}

// BombPNG is a PNG of a few hundred bytes whose header claims w×h pixels, with a
// valid compressed stream of the first rows (what a decompression bomb looks like).
func BombPNG(w, h int) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&out, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		out.WriteString(typ)
		out.Write(data)
		_ = binary.Write(&out, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale; compression, filter, interlace 0
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	_, _ = zw.Write(make([]byte, 64*(w+1))) // 64 rows of zeros, filter byte included
	_ = zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// PaddedPNG is a valid small PNG grown to exactly size bytes with an ancillary text
// chunk that decoders skip.
func PaddedPNG(size int) []byte {
	img := PNG(64, 48)
	iend := img[len(img)-12:]
	head := img[:len(img)-12]
	pad := size - len(img) - 12
	if pad < 0 {
		panic("imagestest: size too small")
	}
	var out bytes.Buffer
	out.Write(head)
	_ = binary.Write(&out, binary.BigEndian, uint32(pad))
	data := bytes.Repeat([]byte("x"), pad)
	crc := crc32.NewIEEE()
	crc.Write([]byte("zzZz"))
	crc.Write(data)
	out.WriteString("zzZz")
	out.Write(data)
	_ = binary.Write(&out, binary.BigEndian, crc.Sum32())
	out.Write(iend)
	return out.Bytes()
}

// SVG is a small SVG picture.
const SVG = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><script>alert(1)</script><circle cx="50" cy="50" r="40" fill="red"/></svg>
`

// HTML is a web page, the kind sent renamed as "photo.jpg".
const HTML = `<!doctype html><html><head><title>x</title></head><body><script>alert(document.cookie)</script></body></html>`
