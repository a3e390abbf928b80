package app_test

import (
	"context"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ikra/app"
	"ikra/app/apptest"
	"ikra/app/terms"
)

// `ikra terms publish` makes a file the current agreement: visitors and members who
// signed up before see it at /terms at once; the other document stays as it was.
func TestTermsPublishCommand(t *testing.T) {
	env := apptest.New(t)
	member, _ := env.Member(9701, "Давний")
	fixture := seedAgreement(t)
	title := terms.Title(string(fixture))
	marker := ""
	for _, line := range strings.Split(string(fixture), "\n") {
		if f := strings.Fields(line); len(f) > 8 && strings.TrimSpace(line) != title && !strings.ContainsAny(line, "*#") {
			marker = strings.Join(f[:6], " ")
			break
		}
	}
	if title == "" || marker == "" {
		t.Fatal("the fixture has no title or paragraph")
	}
	if strings.Contains(member.Get("/terms").Body, html.EscapeString(marker)) {
		t.Fatal("the fixture's text is there before it was published")
	}

	file := filepath.Join(t.TempDir(), "agreement.md")
	apptest.Must(t, os.WriteFile(file, fixture, 0o600))
	getenv := func(k string) string {
		return map[string]string{"DATABASE_URL": env.Config.DatabaseURL, "IKRA_DATA_DIR": env.Config.DataDir, "IKRA_LOG_LEVEL": "error"}[k]
	}
	ctx := context.Background()
	if err := app.Main(ctx, []string{"terms", "publish", "--kind", "offer"}, getenv); err == nil {
		t.Error("publish without a file succeeded")
	}
	if err := app.Main(ctx, []string{"terms", "publish", "--kind", "rules", file}, getenv); err == nil {
		t.Error("publish of an unknown kind succeeded")
	}
	apptest.Must(t, app.Main(ctx, []string{"terms", "publish", "--kind", "offer", file}, getenv))

	for _, c := range []*apptest.Client{env.Client(), member} {
		r := c.Get("/terms")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "<h1>"+html.EscapeString(title)+"</h1>") || !strings.Contains(r.Body, html.EscapeString(marker)) {
			t.Errorf("/terms after publishing: %d, title %q or %q missing", r.Status, title, marker)
		}
	}
	if r := env.Client().Get("/privacy"); !strings.Contains(r.Body, "Политика обработки персональных данных ИКРА") {
		t.Errorf("publishing the agreement changed the privacy policy")
	}
	// A member who signs up now accepts the new version.
	_, m := env.Member(9702, "Новый")
	accepted, err := m.QueryTermsAcceptances().QueryTermsVersion().All(ctx)
	apptest.Must(t, err)
	found := false
	for _, v := range accepted {
		found = found || (v.Kind == terms.Offer && v.Title == title)
	}
	if !found {
		t.Errorf("a new member did not accept the published version")
	}
}

// seedAgreement is the agreement from ../shared/seed next to the repository, used only
// as a test fixture; without it, a stand-in document.
func seedAgreement(t *testing.T) []byte {
	dir, err := os.Getwd()
	apptest.Must(t, err)
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		files, _ := filepath.Glob(filepath.Join(dir, "shared", "seed", "*"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
				return b
			}
		}
	}
	t.Log("no ../shared/seed agreement found; publishing a stand-in")
	return []byte("# Соглашение для проверки\n\nЭтот текст публикуется тестом вместо настоящего соглашения клуба, когда рядом с репозиторием его нет.\n")
}
