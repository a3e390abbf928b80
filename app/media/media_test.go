package media

import (
	"errors"
	"strings"
	"testing"
)

// TestValidKey checks which keys ValidKey accepts.
func TestValidKey(t *testing.T) {
	tests := []struct {
		key    string
		wantOK bool
	}{
		{"offers/12/3f9a0c.jpg", true},
		{"offers/12/3f9a0c.webp", true},
		{"a", true},
		{"top.png", true},
		{"a_b-c.d/e_f-g.h", true},
		{"offers/.hidden", true},
		{"offers/v1.2.3/x", true},
		{strings.Repeat("a", MaxKeyLen), true},
		{strings.Repeat("a/", MaxKeyLen/2-1) + "ab", true},

		{"", false},
		{strings.Repeat("a", MaxKeyLen+1), false},
		{"/offers/1.jpg", false},
		{"/", false},
		{"offers/1.jpg/", false},
		{"offers//1.jpg", false},
		{"..", false},
		{"../x", false},
		{"offers/../x", false},
		{"offers/..", false},
		{"offers/a..b.jpg", false},
		{".", false},
		{"./x", false},
		{"offers/./x", false},
		{"offers/.", false},
		{"Offers/1.jpg", false},
		{"offers/1.JPG", false},
		{"offers/1 2.jpg", false},
		{"offers\\1.jpg", false},
		{"offers/1.jpg?x", false},
		{"offers/1.jpg#x", false},
		{"offers/1%2f.jpg", false},
		{"offers/ü.jpg", false},
		{"offers/1.jpg\n", false},
		{"offers/1.jpg\x00", false},
		{"offers:1", false},
		{"~/x", false},
	}
	for _, tc := range tests {
		err := ValidKey(tc.key)
		if tc.wantOK && err != nil {
			t.Errorf("ValidKey(%q) = %v, want nil", tc.key, err)
		}
		if !tc.wantOK && !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidKey(%q) = %v, want an ErrInvalidKey error", tc.key, err)
		}
	}
}

// TestValidKeyMessageIsShort checks that a huge key does not end up whole in the error.
func TestValidKeyMessageIsShort(t *testing.T) {
	err := ValidKey(strings.Repeat("x", 10000))
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("error for a 10000-byte key = %d bytes: %.300v", len(err.Error()), err)
	}
}

// TestSniffImage checks the recognised and the refused file heads.
func TestSniffImage(t *testing.T) {
	tests := []struct {
		name     string
		head     []byte
		wantType string
		wantOK   bool
	}{
		{"jpeg jfif", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "image/jpeg", true},
		{"jpeg exif", []byte("\xff\xd8\xff\xe1\x00\x10Exif\x00"), "image/jpeg", true},
		{"jpeg 3 bytes", []byte("\xff\xd8\xff"), "image/jpeg", true},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), "image/png", true},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), "image/webp", true},
		{"webp exactly SniffLen", []byte("RIFF\x00\x00\x00\x00WEBP"), "image/webp", true},

		{"empty", nil, "", false},
		{"jpeg truncated", []byte("\xff\xd8"), "", false},
		{"png truncated", []byte("\x89PNG\r\n\x1a"), "", false},
		{"png mangled line ending", []byte("\x89PNG\n\x1a\n\x00\x00\x00\x00"), "", false},
		{"webp truncated", []byte("RIFF\x00\x00\x00\x00WEB"), "", false},
		{"riff wave", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), "", false},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "", false},
		{"bmp", []byte("BM\x36\x00\x00\x00\x00\x00"), "", false},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg">`), "", false},
		{"html", []byte("<!DOCTYPE html><html>"), "", false},
		{"pdf", []byte("%PDF-1.7\n"), "", false},
		{"avif", []byte("\x00\x00\x00\x1cftypavif"), "", false},
		{"text", []byte("hello, world"), "", false},
		{"magic not at start", []byte("x\xff\xd8\xff\xe0"), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gotType, gotOK := SniffImage(tc.head)
			if gotType != tc.wantType || gotOK != tc.wantOK {
				t.Errorf("SniffImage(%q) = %q, %v; want %q, %v", tc.head, gotType, gotOK, tc.wantType, tc.wantOK)
			}
		})
	}
}

// TestCheckContentType checks the content types Put accepts.
func TestCheckContentType(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"", "application/octet-stream", false},
		{"image/jpeg", "image/jpeg", false},
		{"text/plain; charset=utf-8", "text/plain; charset=utf-8", false},
		{"Image/JPEG", "Image/JPEG", false},
		{"not a type", "", true},
		{"image/jpeg\r\nX-Evil: 1", "", true},
	}
	for _, tc := range tests {
		got, err := checkContentType(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("checkContentType(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
