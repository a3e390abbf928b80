package web_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path"
	"strings"
	"testing"

	"ikra/app/apptest"
	"ikra/ent/claim"
)

// fileWithImages posts the filing form with files, as a browser does.
func fileWithImages(t *testing.T, c *apptest.Client, fields map[string]string, files ...[]byte) *apptest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	apptest.Must(t, mw.WriteField("_csrf", c.CSRF()))
	for k, v := range fields {
		apptest.Must(t, mw.WriteField(k, v))
	}
	for i, data := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="files"; filename="photo`+apptest.Itoa(i)+`.png"`)
		h.Set("Content-Type", "image/png")
		part, err := mw.CreatePart(h)
		apptest.Must(t, err)
		_, _ = part.Write(data)
	}
	apptest.Must(t, mw.Close())
	return c.Send(http.MethodPost, "/app/claims", mw.FormDataContentType(), &body)
}

func pngImage(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		img.Set(x, x%30, color.RGBA{200, 10, 10, 255})
	}
	var b bytes.Buffer
	apptest.Must(t, png.Encode(&b, img))
	return b.Bytes()
}

// Images attached to a claim are checked, encoded again, stored under claims/<id>/,
// and served to the member who filed it and to claims staff only; a file that is not
// an image is refused with the form kept.
func TestClaimAttachments(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := f.client(t, "member")
	fields := map[string]string{"subject": "Испорченный заказ", "body": "Фото прилагаю."}
	r := fileWithImages(t, m, fields, []byte("not an image at all"))
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Фото прилагаю.") {
		t.Fatalf("a text file: %d", r.Status)
	}
	r = fileWithImages(t, m, fields, pngImage(t), pngImage(t), pngImage(t), pngImage(t))
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("four files: %d", r.Status)
	}
	if n := f.env.App.DB.Claim.Query().CountX(ctx); n != 0 {
		t.Fatalf("%d claims filed by refused forms", n)
	}
	r = fileWithImages(t, m, fields, pngImage(t))
	if r.Status != see {
		t.Fatalf("with an image: %d %.300s", r.Status, r.Body)
	}
	cl, err := f.env.App.DB.Claim.Query().Where(claim.MemberID(f.memberID)).Only(ctx)
	apptest.Must(t, err)
	if len(cl.Attachments) != 1 || !strings.HasPrefix(cl.Attachments[0], "claims/"+apptest.Itoa(cl.ID)+"/") {
		t.Fatalf("attachments %v", cl.Attachments)
	}
	name := path.Base(cl.Attachments[0])
	own := "/app/claims/" + apptest.Itoa(cl.ID) + "/files/" + name
	staff := "/admin/claims/" + apptest.Itoa(cl.ID) + "/files/" + name
	if r := m.Get("/app/claims/" + apptest.Itoa(cl.ID)); !strings.Contains(r.Body, own) {
		t.Fatal("the receipt does not show the image")
	}
	if r := m.Get(own); r.Status != ok || !strings.HasPrefix(r.Header.Get("Content-Type"), "image/") {
		t.Fatalf("owner: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	if _, err := png.Decode(strings.NewReader(m.Get(own).Body)); err != nil {
		t.Fatalf("served file is not the image: %v", err)
	}
	if r := f.client(t, "ownerA").Get(own); r.Status != nf {
		t.Fatalf("another member: %d", r.Status)
	}
	if r := f.client(t, "support").Get(staff); r.Status != ok {
		t.Fatalf("support: %d", r.Status)
	}
	if r := f.client(t, "moderator").Get(staff); r.Status != forbid {
		t.Fatalf("moderator: %d", r.Status)
	}
	if r := m.Get("/app/claims/" + apptest.Itoa(cl.ID) + "/files/other.png"); r.Status != nf {
		t.Fatalf("a name not attached: %d", r.Status)
	}
}
