package app_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"ikra/app"
	"ikra/app/apptest"
)

// The binary's default command boots on embedded defaults: SQLite in the data folder,
// the in-process Redis, media on disk, demo mode; it serves until cancelled.
func TestServeOnEmbeddedDefaults(t *testing.T) {
	if _, db, _ := apptest.Real(); db {
		t.Log("real services are configured, but this test is about the embedded defaults")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	apptest.Must(t, err)
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"IKRA_ADDR": addr, "IKRA_DATA_DIR": t.TempDir(), "IKRA_LOG_LEVEL": "error"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Main(ctx, nil, func(k string) string { return env[k] }) }()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := http.Get("http://" + addr + "/auth/demo")
	apptest.Must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("demo sign-in page: %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestUnknownCommandAndBadConfig(t *testing.T) {
	err := app.Main(context.Background(), []string{"frobnicate"}, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("unknown command: %v", err)
	}
	err = app.Main(context.Background(), []string{"migrate"}, func(k string) string {
		return map[string]string{"IKRA_ADDR": "0.0.0.0:3000"}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "IKRA_DEMO") {
		t.Fatalf("demo on a public address: %v", err)
	}
}
