package webhooks_test

import (
	"errors"
	"testing"
	"time"

	"ikra/app/webhooks"
)

// FuzzVerify: whatever a receiver is handed as the X-Ikra-Signature header, Verify
// answers one of its two errors or nil without panicking; a header Sign made verifies
// for its own body and secret at its time, and never for another body or secret.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"type":"booking.completed","id":"6f1c1a3e"}`)
	good := webhooks.Sign("whsec_1", now, body)
	for _, h := range []string{good, good + ",v1=00", "v1=00," + good, "t=1700000000", "t=x,v1=y", "t=-1,v1=", ",,,", "", "t=99999999999999999999,v1=aa", "t=1700000000,v1=" + string(make([]byte, 64))} {
		f.Add("whsec_1", h, body, []byte("other"))
	}
	f.Fuzz(func(t *testing.T, secret, header string, body, other []byte) {
		err := webhooks.Verify(secret, header, body, now, webhooks.Tolerance)
		if err != nil && !errors.Is(err, webhooks.ErrSignature) && !errors.Is(err, webhooks.ErrTimestamp) {
			t.Fatalf("%q: %v", header, err)
		}
		signed := webhooks.Sign(secret, now.Add(-time.Minute), body)
		if err := webhooks.Verify(secret, signed, body, now, webhooks.Tolerance); err != nil {
			t.Fatalf("a fresh signature does not verify: %v", err)
		}
		if string(other) != string(body) {
			if err := webhooks.Verify(secret, signed, other, now, webhooks.Tolerance); !errors.Is(err, webhooks.ErrSignature) {
				t.Fatalf("the signature of %q verifies %q: %v", body, other, err)
			}
		}
		if err := webhooks.Verify(secret+"x", signed, body, now, webhooks.Tolerance); !errors.Is(err, webhooks.ErrSignature) {
			t.Fatalf("verifies with another secret: %v", err)
		}
		if err := webhooks.Verify(secret, webhooks.Sign(secret, now.Add(-2*webhooks.Tolerance), body), body, now, webhooks.Tolerance); !errors.Is(err, webhooks.ErrTimestamp) {
			t.Fatalf("an old signature: %v", err)
		}
	})
}
