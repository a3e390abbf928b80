package webhooks_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"ikra/app/webhooks"
)

// fakeResolver answers every name with the same addresses (a DNS record pointing at
// the internal network, or a public one).
type fakeResolver []string

func (f fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	if len(f) == 0 {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, s := range f {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

func TestCheckURLInProduction(t *testing.T) {
	public := webhooks.Guard{Resolver: fakeResolver{"93.184.216.34"}}
	cases := []struct {
		url   string
		guard webhooks.Guard
		want  error
	}{
		{"https://10.1.2.3/hook", public, webhooks.ErrURLBlocked},
		{"https://192.168.0.10/hook", public, webhooks.ErrURLBlocked},
		{"https://172.20.0.1/hook", public, webhooks.ErrURLBlocked},
		{"https://169.254.169.254/latest/meta-data", public, webhooks.ErrURLBlocked},
		{"https://[::1]:8443/hook", public, webhooks.ErrURLBlocked},
		{"https://127.0.0.1/hook", public, webhooks.ErrURLBlocked},
		{"https://localhost/hook", public, webhooks.ErrURLBlocked},
		{"https://100.64.1.1/hook", public, webhooks.ErrURLBlocked},
		{"https://0.0.0.0/hook", public, webhooks.ErrURLBlocked},
		{"https://224.0.0.1/hook", public, webhooks.ErrURLBlocked},
		{"https://[::ffff:10.0.0.1]/hook", public, webhooks.ErrURLBlocked},
		{"https://[fd00::1]/hook", public, webhooks.ErrURLBlocked},
		{"https://[fe80::1]/hook", public, webhooks.ErrURLBlocked},
		{"https://internal.example/hook", webhooks.Guard{Resolver: fakeResolver{"93.184.216.34", "10.0.0.7"}}, webhooks.ErrURLBlocked},
		{"https://nowhere.example/hook", webhooks.Guard{Resolver: fakeResolver{}}, webhooks.ErrURLUnresolved},
		{"http://shop.example/hook", public, webhooks.ErrURLScheme},
		{"http://127.0.0.1:8080/hook", public, webhooks.ErrURLScheme},
		{"ftp://shop.example/hook", public, webhooks.ErrURLInvalid},
		{"https://user:pw@shop.example/hook", public, webhooks.ErrURLInvalid},
		{"shop.example/hook", public, webhooks.ErrURLInvalid},
		{"https:///hook", public, webhooks.ErrURLInvalid},
		{"https://shop.example/" + strings.Repeat("a", webhooks.MaxURL), public, webhooks.ErrURLInvalid},
		{"https://shop.example/ikra/hook?x=1", public, nil},
		{"https://93.184.216.34:8443/hook", public, nil},
	}
	for _, c := range cases {
		_, err := c.guard.Check(context.Background(), c.url)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.url, err, c.want)
		}
	}
}

func TestCheckURLInDevelopment(t *testing.T) {
	g := webhooks.Guard{AllowPrivate: true}
	for url, want := range map[string]error{
		"http://127.0.0.1:8080/hook": nil,
		"http://localhost:8080/hook": nil,
		"http://[::1]:8080/hook":     nil,
		"https://10.0.0.5/hook":      nil,
		"http://10.0.0.5/hook":       webhooks.ErrURLScheme,
		"http://shop.example/hook":   webhooks.ErrURLScheme,
	} {
		if _, err := g.Check(context.Background(), url); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", url, err, want)
		}
	}
}

// The production client refuses, at dial time, every connection to an internal
// address, whatever the name resolved to: a name registered while it pointed
// elsewhere (DNS rebinding) cannot reach the platform's network.
func TestClientRefusesInternalAddressesWhenDialling(t *testing.T) {
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the internal server was reached: %s", r.URL)
	}))
	defer tls.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer plain.Close()
	port := tls.URL[strings.LastIndexByte(tls.URL, ':'):]

	prod := webhooks.Guard{}.Client(2 * time.Second)
	for _, u := range []string{
		"https://localhost" + port + "/hook", // a name that resolves to 127.0.0.1
		tls.URL + "/hook",
		"https://10.0.0.1:9/hook",
		"https://192.168.1.1:9/hook",
		"https://169.254.169.254:9/latest/meta-data",
		"https://[::1]" + port + "/hook",
	} {
		resp, err := prod.Post(u, "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: reached, status %d", u, resp.StatusCode)
			continue
		}
		if !errors.Is(err, webhooks.ErrURLBlocked) {
			t.Errorf("%s: %v, want the guard's refusal", u, err)
		}
	}
	// Plain HTTP: refused in production even to loopback; allowed to loopback only in
	// development.
	if _, err := prod.Post(plain.URL, "application/json", nil); !errors.Is(err, webhooks.ErrURLScheme) {
		t.Errorf("plain HTTP in production: %v", err)
	}
	dev := webhooks.Guard{AllowPrivate: true}.Client(2 * time.Second)
	resp, err := dev.Post(plain.URL, "application/json", nil)
	if err != nil {
		t.Fatalf("plain HTTP to loopback in development: %v", err)
	}
	resp.Body.Close()
}

// A redirect is an answer, not an instruction: it is not followed.
func TestClientDoesNotFollowRedirects(t *testing.T) {
	reached := false
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	resp, err := webhooks.Guard{AllowPrivate: true}.Client(2*time.Second).Post(redirect.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || reached {
		t.Fatalf("status %d, redirect followed: %v", resp.StatusCode, reached)
	}
}

func TestSignAndVerify(t *testing.T) {
	body := []byte(`{"id":"e1","type":"booking.completed"}`)
	now := time.Unix(1_790_000_000, 0)
	h := webhooks.Sign("whsec_abc", now, body)
	if !strings.HasPrefix(h, "t=1790000000,v1=") || len(h) != len("t=1790000000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := webhooks.Verify("whsec_abc", h, body, now.Add(time.Minute), webhooks.Tolerance); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"other secret": webhooks.Verify("whsec_abd", h, body, now, webhooks.Tolerance),
		"other body":   webhooks.Verify("whsec_abc", h, append(body, ' '), now, webhooks.Tolerance),
		"garbage":      webhooks.Verify("whsec_abc", "v1=00", body, now, webhooks.Tolerance),
	} {
		if !errors.Is(err, webhooks.ErrSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := webhooks.Verify("whsec_abc", h, body, now.Add(6*time.Minute), webhooks.Tolerance); !errors.Is(err, webhooks.ErrTimestamp) {
		t.Errorf("replayed after 6 minutes: %v", err)
	}
}

func TestEventIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, err := webhooks.NewEventID()
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 36 || id[14] != '4' || strings.Count(id, "-") != 4 || seen[id] {
			t.Fatalf("event ID %q", id)
		}
		seen[id] = true
	}
}
