package sanitize

import "testing"

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Айгерим", "Айгерим"},
		{"a\x00b", "ab"},
		{"\x00\x00", ""},
		{"a\xffb", "a\uFFFDb"},
		{"a\xff\xfeb", "a\uFFFDb"},
		{"\xd0", "\uFFFD"}, // a truncated Cyrillic letter
		{"x\x00\xc3\x28y", "x\uFFFD(y"},
	}
	for _, tt := range tests {
		got := Text(tt.in)
		if got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if Dirty(got) || DirtyBytes([]byte(got)) {
			t.Errorf("Text(%q) = %q is still dirty", tt.in, got)
		}
	}
	if !Dirty("a\x00") || !Dirty("\xff") || Dirty("ok ✓") {
		t.Error("Dirty misjudges")
	}
}
