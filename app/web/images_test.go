package web_test

import (
	"bytes"
	"context"
	"errors"
	"html"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/app/audit"
	"ikra/app/images"
	"ikra/app/images/imagestest"
	"ikra/app/media"
	"ikra/ent"
	"ikra/ent/offer"
	"ikra/ent/offermedia"
	"ikra/jobs"
)

// imagesWorld is partner A with an offer, partner B, and their staff.
type imagesWorld struct {
	env                                *apptest.Env
	offer                              *ent.Offer
	ownerA, managerA, cashierA, ownerB *apptest.Client
	member                             *apptest.Client
	partnerA                           int
}

func newImagesWorld(t *testing.T) *imagesWorld {
	env := apptest.New(t)
	ctx := context.Background()
	place := env.Place()
	pa, pb := env.Partner(place, "Partner A"), env.Partner(place, "Partner B")
	w := &imagesWorld{env: env, partnerA: pa.ID, offer: env.Offer(place, pa.ID, "Ужин на двоих")}
	staff := func(tg int64, role string, partnerID int) *apptest.Client {
		_, m := env.Member(tg, role)
		_, err := env.App.Staff.Grant(ctx, audit.Entry{ActorRole: "test"}, m.ID, role, &partnerID)
		apptest.Must(t, err)
		c := env.Client()
		c.SignIn(tg, role)
		return c
	}
	w.ownerA = staff(7101, "owner", pa.ID)
	w.managerA = staff(7102, "manager", pa.ID)
	w.cashierA = staff(7103, "cashier", pa.ID)
	w.ownerB = staff(7104, "owner", pb.ID)
	w.member, _ = env.Member(7105, "Member")
	return w
}

// upload posts a file to an offer's images page as a browser form does.
func upload(t *testing.T, c *apptest.Client, offerID int, filename, contentType string, data []byte) *apptest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	apptest.Must(t, mw.WriteField("_csrf", c.CSRF()))
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="image"; filename="`+filename+`"`)
	h.Set("Content-Type", contentType)
	part, err := mw.CreatePart(h)
	apptest.Must(t, err)
	_, _ = part.Write(data)
	apptest.Must(t, mw.Close())
	return c.Send(http.MethodPost, "/partner/offers/"+apptest.Itoa(offerID)+"/media", mw.FormDataContentType(), &body)
}

func (w *imagesWorld) rows(t *testing.T) []*ent.OfferMedia {
	t.Helper()
	rows, err := w.env.App.DB.OfferMedia.Query().Where(offermedia.OfferID(w.offer.ID)).
		Order(ent.Asc(offermedia.FieldSort), ent.Asc(offermedia.FieldID)).All(context.Background())
	apptest.Must(t, err)
	return rows
}

// approveImages makes the offer's images live as a moderator's approval does (that
// path is TestImagesOnPublishedOfferWaitForReview): images added to a published offer
// wait for review.
func (w *imagesWorld) approveImages(t *testing.T) {
	t.Helper()
	apptest.Must(t, w.env.App.DB.OfferMedia.Update().Where(offermedia.OfferID(w.offer.ID)).
		SetStatus(offermedia.StatusLive).Exec(context.Background()))
}

func decodeSize(t *testing.T, body string) image.Point {
	t.Helper()
	cfg, _, err := image.DecodeConfig(strings.NewReader(body))
	if err != nil {
		t.Fatalf("not a picture: %v", err)
	}
	return image.Pt(cfg.Width, cfg.Height)
}

// TestOfferImageRefusals: every refused upload comes back to the form with 422 and
// the reason, and stores nothing.
func TestOfferImageRefusals(t *testing.T) {
	w := newImagesWorld(t)
	photo := imagestest.JPEG(320, 200)
	cases := []struct {
		name, filename, ctype string
		data                  []byte
		reason                string
	}{
		{"11 MB", "big.jpg", "image/jpeg", append(append([]byte{}, photo...), make([]byte, 11<<20-len(photo))...), "images.refused.too_large"},
		{"svg", "logo.svg", "image/svg+xml", []byte(imagestest.SVG), "images.refused.unsupported"},
		{"html renamed .jpg", "photo.jpg", "image/jpeg", []byte(imagestest.HTML), "images.refused.not_image"},
		{"decompression bomb", "bomb.png", "image/png", imagestest.BombPNG(40000, 40000), "images.refused.too_many_pixels"},
		{"truncated jpeg", "cut.jpg", "image/jpeg", photo[:len(photo)/2], "images.refused.damaged"},
		{"no file", "", "application/octet-stream", nil, "images.refused.empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := upload(t, w.ownerA, w.offer.ID, c.filename, c.ctype, c.data)
			msg := html.EscapeString(w.env.App.Catalog.T("ru", c.reason))
			if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, msg) || !strings.Contains(r.Body, `class="field-error"`) {
				t.Fatalf("status %d, want 422 with %q in the form:\n%.600s", r.Status, msg, r.Body)
			}
			if !strings.Contains(r.Body, `enctype="multipart/form-data"`) {
				t.Error("the refusal is not shown on the upload form")
			}
		})
	}
	if n := len(w.rows(t)); n != 0 {
		t.Errorf("%d images recorded after refusals", n)
	}
}

var keyPattern = regexp.MustCompile(`^offers/\d+/[0-9a-f]{32}\.jpg$`)

// TestOfferImageWithoutEXIF: an accepted photo is stored under an unguessable key and
// comes back to a member who can see the offer with no EXIF block and no GPS data; a
// member never gets an image of an offer they cannot see, the partner always does.
func TestOfferImageWithoutEXIF(t *testing.T) {
	w := newImagesWorld(t)
	in := imagestest.JPEGWithEXIF(640, 480, 1)
	r := upload(t, w.ownerA, w.offer.ID, "IMG_0001.JPG", "image/jpeg", in)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/partner/offers/"+apptest.Itoa(w.offer.ID)+"/media" {
		t.Fatalf("upload: %d %s\n%.500s", r.Status, r.Header.Get("Location"), r.Body)
	}
	rows := w.rows(t)
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	m := rows[0]
	w.approveImages(t)
	if !keyPattern.MatchString(m.Key) || !strings.HasPrefix(m.Key, "offers/"+apptest.Itoa(w.offer.ID)+"/") {
		t.Errorf("key %q is not offers/<offer>/<random>.jpg", m.Key)
	}
	if m.Width != 640 || m.Height != 480 || m.ContentType != "image/jpeg" {
		t.Errorf("row: %dx%d %s", m.Width, m.Height, m.ContentType)
	}
	got := w.member.Get("/media/" + m.Key)
	if got.Status != http.StatusOK || got.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("member GET /media: %d %s", got.Status, got.Header.Get("Content-Type"))
	}
	for _, bad := range []string{"Exif", imagestest.GPSMarker, "\xff\xe1"} {
		if strings.Contains(got.Body, bad) {
			t.Errorf("the served image still contains %q", bad)
		}
	}
	if p := decodeSize(t, got.Body); p != image.Pt(640, 480) {
		t.Errorf("served %v", p)
	}
	page := w.managerA.Get("/partner/offers/" + apptest.Itoa(w.offer.ID) + "/media")
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "/partner/media/"+images.ThumbKey(m.Key)) {
		t.Errorf("images page: %d", page.Status)
	}

	// A draft is invisible to members, image and thumbnail alike, but not to its partner.
	apptest.Must(t, w.env.App.DB.Offer.UpdateOneID(w.offer.ID).SetStatus(offer.StatusDraft).Exec(context.Background()))
	for _, k := range []string{m.Key, images.ThumbKey(m.Key)} {
		if r := w.member.Get("/media/" + k); r.Status != http.StatusNotFound {
			t.Errorf("member GET /media/%s of a draft: %d", k, r.Status)
		}
	}
	if r := w.ownerA.Get("/partner/media/" + m.Key); r.Status != http.StatusOK || decodeSize(t, r.Body) != image.Pt(640, 480) {
		t.Errorf("owner GET /partner/media of a draft: %d", r.Status)
	}
}

// TestOfferImageThumbnailJob: the upload enqueues the thumbnail job; until it runs the
// image stands in for its thumbnail; the job's thumbnail is 400 px wide and follows
// the offer's visibility.
func TestOfferImageThumbnailJob(t *testing.T) {
	w := newImagesWorld(t)
	if r := upload(t, w.ownerA, w.offer.ID, "wide.png", "image/png", imagestest.PNG(1200, 800)); r.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%.500s", r.Status, r.Body)
	}
	m := w.rows(t)[0]
	w.approveImages(t)
	thumb := images.ThumbKey(m.Key)
	cover := "/partner/offers/" + apptest.Itoa(w.offer.ID) + "/cover"
	if r := w.ownerA.Get(cover); r.Status != http.StatusOK || decodeSize(t, r.Body) != image.Pt(1200, 800) || r.Header.Get("Cache-Control") != "private, no-cache" {
		t.Fatalf("cover before the job: %d %s", r.Status, r.Header.Get("Cache-Control"))
	}
	if list := w.ownerA.Get("/partner/offers"); !strings.Contains(list.Body, `src="`+cover+`"`) {
		t.Error("the offer list does not show the cover thumbnail")
	}

	worker := jobs.NewServer(w.env.App.Redis.Queue, w.env.App.Queue.Name(), 1, nil)
	apptest.Must(t, worker.Start(jobs.NewMux(jobs.Deps{Notify: w.env.App.Notify, Thumbnail: w.env.App.Images.MakeThumbnail})))
	defer worker.Shutdown()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rc, obj, err := w.env.App.Media.Get(ctx, thumb)
		if err == nil {
			b, _ := io.ReadAll(rc)
			rc.Close()
			if p := decodeSize(t, string(b)); p != image.Pt(400, 266) || obj.ContentType != "image/png" {
				t.Errorf("thumbnail %v %s, want 400x266 image/png", p, obj.ContentType)
			}
			break
		}
		if !errors.Is(err, media.ErrNotFound) || time.Now().After(deadline) {
			t.Fatalf("no thumbnail: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := w.ownerA.Get(cover); r.Status != http.StatusOK || decodeSize(t, r.Body) != image.Pt(400, 266) {
		t.Errorf("cover after the job: %d", r.Status)
	}
	if r := w.member.Get("/media/" + thumb); r.Status != http.StatusOK || decodeSize(t, r.Body) != image.Pt(400, 266) {
		t.Errorf("member GET thumbnail of a published offer: %d", r.Status)
	}
	apptest.Must(t, w.env.App.DB.Offer.UpdateOneID(w.offer.ID).SetStatus(offer.StatusArchived).Exec(ctx))
	if r := w.member.Get("/media/" + thumb); r.Status != http.StatusNotFound {
		t.Errorf("member GET thumbnail of an archived offer: %d", r.Status)
	}
}

// TestOfferImageOrderAndCover: moving up and down and choosing a cover reorder the
// images; the cover is the first; removing one removes its objects.
func TestOfferImageOrderAndCover(t *testing.T) {
	w := newImagesWorld(t)
	base := "/partner/offers/" + apptest.Itoa(w.offer.ID) + "/media"
	for _, width := range []int{100, 200, 300} { // a, b, c told apart by width
		if r := upload(t, w.managerA, w.offer.ID, "p.jpg", "image/jpeg", imagestest.JPEG(width, 50)); r.Status != http.StatusSeeOther {
			t.Fatalf("upload: %d", r.Status)
		}
	}
	order := func() []int {
		var out []int
		for _, m := range w.rows(t) {
			out = append(out, m.Width)
		}
		return out
	}
	ids := map[int]int{}
	for _, m := range w.rows(t) {
		ids[m.Width] = m.ID
	}
	step := func(path string, form url.Values, want ...int) {
		t.Helper()
		if r := w.managerA.Post(base+path, form); r.Status != http.StatusSeeOther {
			t.Fatalf("POST %s: %d", path, r.Status)
		}
		if got := order(); !equalInts(got, want) {
			t.Fatalf("after %s %v: %v, want %v", path, form, got, want)
		}
	}
	if got := order(); !equalInts(got, []int{100, 200, 300}) {
		t.Fatalf("upload order %v", got)
	}
	step("/"+apptest.Itoa(ids[300])+"/move", url.Values{"dir": {"up"}}, 100, 300, 200)
	step("/"+apptest.Itoa(ids[100])+"/move", url.Values{"dir": {"down"}}, 300, 100, 200)
	step("/"+apptest.Itoa(ids[200])+"/cover", nil, 200, 300, 100)
	step("/"+apptest.Itoa(ids[200])+"/move", url.Values{"dir": {"up"}}, 200, 300, 100) // already first
	if r := w.managerA.Post(base+"/"+apptest.Itoa(ids[200])+"/move", url.Values{"dir": {"sideways"}}); r.Status != http.StatusBadRequest {
		t.Errorf("dir=sideways: %d", r.Status)
	}
	if r := w.ownerA.Get("/partner/offers/" + apptest.Itoa(w.offer.ID) + "/cover"); decodeSize(t, r.Body).X != 200 {
		t.Error("the cover served is not the chosen one")
	}
	page := w.ownerA.Get(base)
	if i, j := strings.Index(page.Body, "/partner/media/"+images.ThumbKey(w.rows(t)[0].Key)), strings.Index(page.Body, w.env.App.Catalog.T("ru", "images.cover")); i < 0 || j < i {
		t.Error("the images page does not mark the first image as the cover")
	}

	gone := w.rows(t)[0]
	step("/"+apptest.Itoa(ids[200])+"/delete", nil, 300, 100)
	if _, _, err := w.env.App.Media.Get(context.Background(), gone.Key); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("removed image still stored: %v", err)
	}
	if r := w.ownerA.Get("/partner/media/" + gone.Key); r.Status != http.StatusNotFound {
		t.Errorf("removed image still served: %d", r.Status)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestOfferImagesTenantIsolation: staff of partner B find none of partner A's offer
// images, by guessed IDs or keys; a cashier of A is refused the screens.
func TestOfferImagesTenantIsolation(t *testing.T) {
	w := newImagesWorld(t)
	if r := upload(t, w.ownerA, w.offer.ID, "a.jpg", "image/jpeg", imagestest.JPEG(120, 80)); r.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d", r.Status)
	}
	m := w.rows(t)[0]
	oid, mid := apptest.Itoa(w.offer.ID), apptest.Itoa(m.ID)
	base := "/partner/offers/" + oid + "/media"
	for _, c := range []struct {
		who    string
		client *apptest.Client
		want   int
	}{{"owner of B", w.ownerB, http.StatusNotFound}, {"cashier of A", w.cashierA, http.StatusForbidden}} {
		for _, p := range []string{base, "/partner/offers/" + oid + "/cover", "/partner/media/" + m.Key, "/partner/media/" + images.ThumbKey(m.Key)} {
			if r := c.client.Get(p); r.Status != c.want {
				t.Errorf("%s GET %s: %d, want %d", c.who, p, r.Status, c.want)
			}
		}
		if r := upload(t, c.client, w.offer.ID, "x.jpg", "image/jpeg", imagestest.JPEG(50, 50)); r.Status != c.want {
			t.Errorf("%s upload: %d, want %d", c.who, r.Status, c.want)
		}
		for _, a := range []string{"/cover", "/move", "/delete"} {
			if r := c.client.Post(base+"/"+mid+a, url.Values{"dir": {"down"}}); r.Status != c.want {
				t.Errorf("%s POST %s: %d, want %d", c.who, a, r.Status, c.want)
			}
		}
	}
	if rows := w.rows(t); len(rows) != 1 || rows[0].Sort != m.Sort {
		t.Errorf("partner A's images changed: %d rows", len(rows))
	}
	if r := w.ownerA.Get("/partner/media/" + m.Key); r.Status != http.StatusOK {
		t.Errorf("owner A lost the image: %d", r.Status)
	}
}

// TestOfferImageSizeLimit: a file of exactly 10 MB passes the body limit and the
// check, and only its pixels are stored (the padding chunk is dropped).
func TestOfferImageSizeLimit(t *testing.T) {
	w := newImagesWorld(t)
	r := upload(t, w.ownerA, w.offer.ID, "big.png", "image/png", imagestest.PaddedPNG(images.MaxBytes))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("10 MB upload: %d\n%.400s", r.Status, r.Body)
	}
	if m := w.rows(t)[0]; m.Size > 1<<20 {
		t.Errorf("stored %d bytes: the padding was kept", m.Size)
	}
}
