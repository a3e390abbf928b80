package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/terms"
)

// The current user agreement and privacy policy are public pages, linked from the
// sign-in page and from every layout's footer.
func TestTermsArePublic(t *testing.T) {
	env := apptest.New(t)
	anon := env.Client()
	for path, title := range map[string]string{"/terms": "Пользовательское соглашение ИКРА", "/privacy": "Политика обработки персональных данных ИКРА"} {
		r := anon.Get(path)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "<h1>"+title+"</h1>") || !strings.Contains(r.Body, "<p>Это временная редакция") {
			t.Errorf("%s for a visitor: %d\n%s", path, r.Status, r.Body)
		}
	}
	login := anon.Get("/login").Body
	if !strings.Contains(login, "Входя, вы принимаете") || !strings.Contains(login, `href="/terms"`) || !strings.Contains(login, `href="/privacy"`) {
		t.Errorf("the sign-in page does not link the documents it says are accepted")
	}
	c, _ := env.Member(9601, "Читатель")
	for _, path := range []string{"/", "/rules", "/app", "/app/settings"} {
		var body string
		if strings.HasPrefix(path, "/app") {
			body = c.Get(path).Body
		} else {
			body = anon.Get(path).Body
		}
		if !strings.Contains(body, `<footer`) || !strings.Contains(body, `href="/terms"`) || !strings.Contains(body, `href="/privacy"`) {
			t.Errorf("%s: no footer links to the documents", path)
		}
	}
}

// A published document is shown as text: markup in it is escaped, never run.
func TestTermsPageEscapesHTML(t *testing.T) {
	env := apptest.New(t)
	_, err := terms.Publish(context.Background(), env.App.DB.Client, terms.Privacy,
		"# Политика <b>v2</b>\n\nПервый абзац <script>alert(1)</script> и **важное**.\n\n- пункт один\n- пункт <i>два</i>\n", time.Now())
	apptest.Must(t, err)
	r := env.Client().Get("/privacy")
	if r.Status != http.StatusOK {
		t.Fatalf("/privacy: %d", r.Status)
	}
	for _, want := range []string{"<h1>Политика &lt;b&gt;v2&lt;/b&gt;</h1>", "&lt;script&gt;alert(1)&lt;/script&gt;", "<strong>важное</strong>", "<li>пункт &lt;i&gt;два&lt;/i&gt;</li>"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("/privacy lacks %q", want)
		}
	}
	if strings.Contains(r.Body, "<script>alert") || strings.Contains(r.Body, "<i>два") {
		t.Errorf("markup from the document reached the page")
	}
}
