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
