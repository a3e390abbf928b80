package apptest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where browser tests look for Chromium unless IKRA_CHROMIUM
// names another binary.
const ChromiumPath = "/usr/bin/chromium"

// ViewportWidth and ViewportHeight are the browser window of browser tests, in CSS
// pixels: a handset held upright.
const (
	ViewportWidth  = 390
	ViewportHeight = 844
)

// Chromium returns the Chromium binary browser tests drive: IKRA_CHROMIUM, or
// ChromiumPath. Without it the test is skipped, or fails when CI is set: CI
// must never skip silently. Call it before costly setup, so a skip is quick.
func Chromium(t testing.TB) string {
	t.Helper()
	path := os.Getenv("IKRA_CHROMIUM")
	if path == "" {
		path = ChromiumPath
	}
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but there is no Chromium at %s: %v", path, err)
		}
		t.Skipf("no Chromium at %s (IKRA_CHROMIUM names another): %v", path, err)
	}
	return path
}

// Browser starts a headless Chromium with a fresh profile and returns a
// chromedp context for its tab, sized like a handset. Each call is a different
// person's handset: no cookies are shared between two browsers. The browser
// closes when ctx ends or the test finishes. Without Chromium, see [Chromium].
func Browser(ctx context.Context, t testing.TB) context.Context {
	t.Helper()
	path := Chromium(t)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		// On a closed network Chromium stalls on its background fetches
		// (components, sync, QUIC probes) without these flags.
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		// The club's members mostly read Russian: pages that follow
		// Accept-Language show it, as on their handsets.
		chromedp.Flag("lang", "ru-RU"),
		chromedp.Flag("accept-lang", "ru-RU,ru"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(ViewportWidth, ViewportHeight),
	)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the process, before t.TempDir removes its profile
	})
	// Chromium keeps a window at least 500 pixels wide, so the handset's
	// viewport is emulated on top of the window size.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(ViewportWidth, ViewportHeight, chromedp.EmulateMobile)); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	return tab
}

// Artifacts is the folder a test saves screenshots into: IKRA_ARTIFACTS when
// set (CI uploads it), else a temporary folder removed after the test.
func Artifacts(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("IKRA_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
