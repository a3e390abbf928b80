package baseline_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/app/baseline"
	"ikra/app/loadgen"
	"ikra/app/loyalty"
	"ikra/ent"
	"ikra/ent/offer"
)

func get(t *testing.T, s *baseline.Server, path string) (int, string, string) {
	t.Helper()
	res, err := s.App.Test(httptest.NewRequest("GET", path, nil), -1)
	apptest.Must(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	apptest.Must(t, err)
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

// The baselines of a load run: /minimal and /minimal.json list the 20 newest published
// offers, newest first, and nothing unpublished; /bare is an HTML page of the asked size.
func TestBaselinePages(t *testing.T) {
	for _, d := range apptest.Databases(t) {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			apptest.Must(t, loyalty.EnsureDefaults(ctx, d.DB.Client))
			_, err := loadgen.Generate(ctx, d.DB.Client, loadgen.Options{Offers: 60, Members: 5})
			apptest.Must(t, err)
			// The newest offer is taken off the catalog: no baseline may list it.
			gone := d.DB.Offer.Query().Order(ent.Desc(offer.FieldPublishedAt), ent.Desc(offer.FieldID)).FirstX(ctx)
			d.DB.Offer.UpdateOne(gone).SetStatus(offer.StatusArchived).ExecX(ctx)
			want := d.DB.Offer.Query().Where(offer.StatusEQ(offer.StatusPublished)).
				Order(ent.Desc(offer.FieldPublishedAt), ent.Desc(offer.FieldID)).Limit(baseline.Limit).AllX(ctx)

			s, err := baseline.New(ctx, d.DB.SQL, 30000)
			apptest.Must(t, err)
			defer s.Close()

			code, ct, body := get(t, s, "/minimal.json")
			var got struct{ Offers []baseline.Offer }
			if code != 200 || !strings.HasPrefix(ct, "application/json") || json.Unmarshal([]byte(body), &got) != nil {
				t.Fatalf("/minimal.json: %d %s %.200s", code, ct, body)
			}
			if len(got.Offers) != len(want) || len(want) != baseline.Limit {
				t.Fatalf("/minimal.json lists %d offers, want %d", len(got.Offers), len(want))
			}
			for i, o := range want {
				g := got.Offers[i]
				if g.ID != o.ID || g.Title != o.Title || g.Summary != o.Summary || g.PartnerID != o.PartnerID || g.CashbackBP != o.CashbackBp {
					t.Errorf("offer %d: got %+v, want %d %q", i, g, o.ID, o.Title)
				}
			}

			code, ct, body = get(t, s, "/minimal")
			if code != 200 || !strings.HasPrefix(ct, "text/html") {
				t.Fatalf("/minimal: %d %s", code, ct)
			}
			at := 0
			for _, o := range want {
				i := strings.Index(body[at:], html.EscapeString(o.Title))
				if i < 0 {
					t.Fatalf("/minimal does not list %q after position %d", o.Title, at)
				}
				at += i
			}
			if strings.Contains(body, html.EscapeString(gone.Title)) {
				t.Errorf("/minimal lists the archived offer %q", gone.Title)
			}

			for _, n := range []int{30000, 123457} {
				b := baseline.BarePage(n)
				if len(b) != n || !strings.HasSuffix(string(b), "</html>\n") {
					t.Errorf("BarePage(%d) has %d bytes", n, len(b))
				}
			}
			code, ct, body = get(t, s, "/bare")
			if code != 200 || !strings.HasPrefix(ct, "text/html") || len(body) != 30000 {
				t.Errorf("/bare: %d %s, %d bytes", code, ct, len(body))
			}
		})
	}
}
