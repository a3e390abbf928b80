package web_test

import (
	"context"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/app/loyalty"
	"ikra/ent/setting"
)

// A fresh installation without demo data has the four default status tiers and the
// default bonus rules: the public rules page and a new member's status page show them.
func TestFreshInstallHasDefaultTiers(t *testing.T) {
	env := apptest.New(t, apptest.WithEnv("IKRA_DEMO", "0"))
	ctx := context.Background()
	if n, err := env.App.DB.Partner.Query().Count(ctx); err != nil || n != 0 {
		t.Fatalf("a fresh install without demo mode holds %d partners (%v)", n, err)
	}
	names := []string{"Базовый", "Серебряный", "Золотой", "Black"}
	rules := env.Client().Get("/rules")
	if rules.Status != 200 {
		t.Fatalf("/rules: %d", rules.Status)
	}
	c, _ := env.Member(9501, "Первый")
	status := c.Get("/app/status")
	if status.Status != 200 {
		t.Fatalf("/app/status: %d", status.Status)
	}
	for _, page := range []*apptest.Response{rules, status} {
		for _, name := range names {
			if !strings.Contains(page.Body, name) {
				t.Errorf("a page lacks the default tier %q", name)
			}
		}
	}
	if !strings.Contains(status.Body, "<dd><strong>Базовый</strong>") {
		t.Errorf("a new member does not hold Base")
	}
	if strings.Contains(rules.Body, "Статусы пока не настроены") || strings.Contains(status.Body, "Статусы пока не настроены") {
		t.Errorf("a page says no tiers are configured")
	}
	// The bonus rules are stored settings, not only values in code.
	for key, want := range map[string]string{loyalty.KeyWelcome: "3000", loyalty.KeyReferralShare: "1000", loyalty.KeyReversalWindow: "14"} {
		row, err := env.App.DB.Setting.Query().Where(setting.Key(key)).Only(ctx)
		if err != nil || row.Value != want {
			t.Errorf("setting %s: %v %v, want %s", key, row, err, want)
		}
	}
}
