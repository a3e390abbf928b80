package partners

import "testing"

// The expected check digits below were worked out by hand:
//
//	10000000000: 1·1 = 1, 1 mod 11 = 1                      → 100000000001
//	00000000010: 1·10 = 10 → second pass 1·1 = 1            → 000000000101
//	12345678901: 1+4+9+16+25+36+49+64+81+0+11 = 296, 296 mod 11 = 10
//	             → 3+8+15+24+35+48+63+80+99+0+2 = 377, 377 mod 11 = 3 → 123456789013
//	15034001274: 1+10+0+12+20+0+0+8+18+70+44 = 183, 183 mod 11 = 7 → 150340012747
//	60500000000: 6+15 = 21, 21 mod 11 = 10 → 18+25 = 43, 43 mod 11 = 10 → no check digit
func TestValidBIN(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"100000000001", true},
		{"000000000101", true},
		{"123456789013", true},
		{"150340012747", true},
		{"000000000000", true},

		{"100000000002", false}, // wrong check digit
		{"123456789012", false}, // first-pass remainder used instead of the second pass
		{"123456789010", false},
		{"150340012749", false},
		{"605000000000", false}, // no check digit exists for this prefix
		{"605000000001", false},
		{"605000000009", false},
		{"12345678901", false},   // too short
		{"1234567890130", false}, // too long
		{"", false},
		{"12345678901a", false},
		{" 23456789013", false},
		{"12345-789013", false},
		{"１23456789013", false}, // a full-width digit is not an ASCII digit
	}
	for _, c := range cases {
		if got := ValidBIN(c.in); got != c.want {
			t.Errorf("ValidBIN(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestMakeBIN(t *testing.T) {
	cases := map[string]string{
		"10000000000":  "100000000001",
		"00000000010":  "000000000101",
		"12345678901":  "123456789013",
		"15034001274":  "150340012747",
		"60500000000":  "", // both passes leave remainder 10
		"1234567890":   "", // too short
		"123456789012": "",
		"1234567890x":  "",
	}
	for in, want := range cases {
		if got := MakeBIN(in); got != want {
			t.Errorf("MakeBIN(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every BIN MakeBIN returns is valid, and changing its check digit makes it invalid.
func TestMakeBINRoundTrip(t *testing.T) {
	made := 0
	for n := range 20000 {
		prefix := pad11(n * 4999)
		bin := MakeBIN(prefix)
		if bin == "" {
			for d := byte('0'); d <= '9'; d++ {
				if ValidBIN(prefix + string(d)) {
					t.Fatalf("MakeBIN(%q) refused a prefix with a valid BIN", prefix)
				}
			}
			continue
		}
		made++
		if !ValidBIN(bin) {
			t.Fatalf("ValidBIN(MakeBIN(%q) = %q) = false", prefix, bin)
		}
		for d := byte('0'); d <= '9'; d++ {
			if d != bin[11] && ValidBIN(bin[:11]+string(d)) {
				t.Fatalf("%q and %q both valid", bin, bin[:11]+string(d))
			}
		}
	}
	if made == 0 {
		t.Fatal("no BIN made")
	}
}

func pad11(n int) string {
	b := []byte("00000000000")
	for i := 10; i >= 0 && n > 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b)
}

// The platform operator's own BIN (the user agreement, §10) is valid; its last digit
// changed, it is not, and CheckBIN names each problem.
func TestCheckBIN(t *testing.T) {
	const operator = "251050011210"
	cases := []struct {
		in   string
		want error
	}{
		{operator, nil},
		{"251050011211", ErrBINCheckDigit},
		{"251050011219", ErrBINCheckDigit},
		{"25105001121", ErrBINLength},
		{"2510500112100", ErrBINLength},
		{"", ErrBINLength},
		{"25105001121O", ErrBINDigits},
		{"2510 5001121", ErrBINDigits},
		{"605000000000", ErrBINNoCheck},
	}
	for _, c := range cases {
		if got := CheckBIN(c.in); got != c.want {
			t.Errorf("CheckBIN(%q) = %v, want %v", c.in, got, c.want)
		}
		if ValidBIN(c.in) != (c.want == nil) {
			t.Errorf("ValidBIN(%q) disagrees with CheckBIN", c.in)
		}
	}
}
