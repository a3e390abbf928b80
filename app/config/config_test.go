package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "embedded defaults", env: map[string]string{}, check: func(t *testing.T, c Config) {
			if c.Addr != "127.0.0.1:3000" || !c.Demo || c.DatabaseURL != "" || c.AuthMaxAge != 24*time.Hour || !c.Worker {
				t.Fatalf("defaults: %+v", c)
			}
			if c.BaseURL != "http://127.0.0.1:3000" {
				t.Fatalf("base url %q", c.BaseURL)
			}
		}},
		{name: "token turns demo off", env: map[string]string{"TELEGRAM_BOT_TOKEN": "1:abc"}, check: func(t *testing.T, c Config) {
			if c.Demo {
				t.Fatal("demo on with a token")
			}
		}},
		{name: "demo asked for with token", env: map[string]string{"TELEGRAM_BOT_TOKEN": "1:abc", "IKRA_DEMO": "1"}, check: func(t *testing.T, c Config) {
			if !c.Demo {
				t.Fatal("demo off")
			}
		}},
		{name: "https takes a webhook with a derived secret", env: map[string]string{"TELEGRAM_BOT_TOKEN": "1:abc", "IKRA_BASE_URL": "https://ikra.example"}, check: func(t *testing.T, c Config) {
			if !c.BotWebhook() || c.WebhookSecret != DeriveWebhookSecret("1:abc") || !webhookSecret.MatchString(c.WebhookSecret) {
				t.Fatalf("webhook %v with secret %q", c.BotWebhook(), c.WebhookSecret)
			}
			if DeriveWebhookSecret("1:abd") == c.WebhookSecret {
				t.Fatal("another token derives the same secret")
			}
		}},
		{name: "http long-polls", env: map[string]string{"TELEGRAM_BOT_TOKEN": "1:abc", "IKRA_BASE_URL": "http://ikra.example"}, check: func(t *testing.T, c Config) {
			if c.BotWebhook() || c.WebhookSecret != "" {
				t.Fatalf("webhook %v with secret %q on http", c.BotWebhook(), c.WebhookSecret)
			}
		}},
		{name: "webhook secret Telegram refuses", env: map[string]string{"TELEGRAM_WEBHOOK_SECRET": "has space"}, wantErr: "TELEGRAM_WEBHOOK_SECRET"},
		{name: "demo refused on public address", env: map[string]string{"IKRA_ADDR": "0.0.0.0:3000"}, wantErr: "loopback"},
		{name: "no token and no demo", env: map[string]string{"IKRA_DEMO": "0"}, wantErr: "TELEGRAM_BOT_TOKEN"},
		{name: "bad database url", env: map[string]string{"DATABASE_URL": "mysql://x"}, wantErr: "DATABASE_URL"},
		{name: "s3 without keys", env: map[string]string{"S3_ENDPOINT": "127.0.0.1:9000"}, wantErr: "S3_ACCESS_KEY"},
		{name: "bad superadmin", env: map[string]string{"IKRA_SUPERADMINS": "12,abc"}, wantErr: "IKRA_SUPERADMINS"},
		{name: "superadmins parsed", env: map[string]string{"IKRA_SUPERADMINS": "12, 34"}, check: func(t *testing.T, c Config) {
			if len(c.Superadmins) != 2 || c.Superadmins[1] != 34 {
				t.Fatalf("superadmins %v", c.Superadmins)
			}
		}},
		{name: "bad write rate", env: map[string]string{"IKRA_RATE_WRITE": "0"}, wantErr: "IKRA_RATE_WRITE"},
		{name: "rates", env: map[string]string{"IKRA_RATE_WRITE": "7"}, check: func(t *testing.T, c Config) {
			if c.RateWrite != 7 || c.RateAuth != 30 || c.RateMember != 300 {
				t.Fatalf("rates: auth %d member %d write %d", c.RateAuth, c.RateMember, c.RateWrite)
			}
		}},
		{name: "bad API rate", env: map[string]string{"IKRA_RATE_API": "-1"}, wantErr: "IKRA_RATE_API"},
		{name: "API rate", env: map[string]string{}, check: func(t *testing.T, c Config) {
			if c.RateAPI != 120 {
				t.Fatalf("API rate %d, want 120", c.RateAPI)
			}
		}},
		{name: "public profiler refused", env: map[string]string{"IKRA_PPROF_ADDR": "0.0.0.0:6060"}, wantErr: "IKRA_PPROF_ADDR"},
		{name: "profiler on loopback", env: map[string]string{"IKRA_PPROF_ADDR": "127.0.0.1:6060"}, check: func(t *testing.T, c Config) {
			if c.PprofAddr != "127.0.0.1:6060" {
				t.Fatalf("pprof %q", c.PprofAddr)
			}
		}},
		{name: "metrics off by default", env: map[string]string{}, check: func(t *testing.T, c Config) {
			if c.MetricsAddr != "" {
				t.Fatalf("metrics on %q by default", c.MetricsAddr)
			}
		}},
		{name: "metrics on loopback", env: map[string]string{"IKRA_METRICS_ADDR": "127.0.0.1:9100"}, check: func(t *testing.T, c Config) {
			if c.MetricsAddr != "127.0.0.1:9100" {
				t.Fatalf("metrics %q", c.MetricsAddr)
			}
		}},
		{name: "metrics on a private address", env: map[string]string{"IKRA_METRICS_ADDR": "10.1.2.3:9100"}, check: func(t *testing.T, c Config) {
			if c.MetricsAddr != "10.1.2.3:9100" {
				t.Fatalf("metrics %q", c.MetricsAddr)
			}
		}},
		{name: "metrics on IPv6 loopback", env: map[string]string{"IKRA_METRICS_ADDR": "[::1]:9100"}, check: func(t *testing.T, c Config) {
			if c.MetricsAddr != "[::1]:9100" {
				t.Fatalf("metrics %q", c.MetricsAddr)
			}
		}},
		{name: "metrics on every address refused", env: map[string]string{"IKRA_METRICS_ADDR": "0.0.0.0:9100"}, wantErr: "IKRA_METRICS_ADDR"},
		{name: "metrics on a public address refused", env: map[string]string{"IKRA_METRICS_ADDR": "203.0.113.7:9100"}, wantErr: "IKRA_METRICS_ADDR"},
		{name: "metrics without a port refused", env: map[string]string{"IKRA_METRICS_ADDR": "127.0.0.1"}, wantErr: "IKRA_METRICS_ADDR"},
		{name: "metrics on a host name refused", env: map[string]string{"IKRA_METRICS_ADDR": "metrics.example:9100"}, wantErr: "IKRA_METRICS_ADDR"},
		{name: "metrics on the site's own address refused", env: map[string]string{"IKRA_METRICS_ADDR": "127.0.0.1:3000"}, wantErr: "IKRA_METRICS_ADDR"},
		{name: "bad proxy", env: map[string]string{"IKRA_TRUSTED_PROXIES": "nope"}, wantErr: "IKRA_TRUSTED_PROXIES"},
		{name: "short secret", env: map[string]string{"IKRA_SESSION_SECRET": "short"}, wantErr: "IKRA_SESSION_SECRET"},
		{name: "production", env: map[string]string{"IKRA_ADDR": "0.0.0.0:8080", "TELEGRAM_BOT_TOKEN": "1:abc", "IKRA_BASE_URL": "https://ikra.example/", "IKRA_TRUSTED_PROXIES": "10.0.0.0/8"}, check: func(t *testing.T, c Config) {
			if c.Demo || !c.Secure() || c.BaseURL != "https://ikra.example" || len(c.TrustedProxies) != 1 {
				t.Fatalf("production: %+v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
