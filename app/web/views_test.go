package web

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gofiber/template/html/v2"

	"ikra/app/web/ui"
)

// A page whose template fails is an error, not a layout around the error's text; a
// page that renders sits in its layout as {{.Body}}.
func TestPageViewsFailOnABrokenPage(t *testing.T) {
	fs := fstest.MapFS{
		"layouts/l.html": {Data: []byte(`<main>{{.Body}}</main><p>{{.Title}}</p>`)},
		"good.html":      {Data: []byte(`<h1>{{.Data}}</h1>`)},
		"broken.html":    {Data: []byte(`<h1>{{index .Data 5}}</h1>`)},
	}
	engine := html.NewFileSystem(http.FS(fs), ".html")
	if err := engine.Load(); err != nil {
		t.Fatal(err)
	}
	v := pageViews{engine}
	var out bytes.Buffer
	if err := v.Render(&out, "good", &ui.Page{Title: "T", Data: "<b>"}, "layouts/l"); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "<main><h1>&lt;b&gt;</h1></main><p>T</p>" {
		t.Errorf("good page: %q", got)
	}
	out.Reset()
	err := v.Render(&out, "broken", &ui.Page{Data: []int{1}}, "layouts/l")
	if err == nil || strings.Contains(out.String(), "<main>") {
		t.Errorf("broken page: err %v, wrote %q", err, out.String())
	}
	if err := v.Render(&out, "good", map[string]any{}, "layouts/l"); err == nil {
		t.Error("a layout around a binding that is not a page rendered")
	}
}
