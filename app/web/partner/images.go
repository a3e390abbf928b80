package partner

import (
	"errors"
	"io"
	"mime/multipart"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"ikra/app/images"
	"ikra/app/web/ui"
	"ikra/ent"
	"ikra/ent/offermedia"
)

// Images serve an offer's images page: upload, order, cover, removal, and the images
// themselves for the portal, whatever the offer's status.
type Images struct {
	images *images.Service
	render *ui.Renderer
}

// NewImages returns the handlers of the offer images page.
func NewImages(s *images.Service, r *ui.Renderer) *Images { return &Images{images: s, render: r} }

// imagesPage is what views/partner/offers/media.html shows.
type imagesPage struct {
	Offer    *ent.Offer
	Images   []images.Image
	MaxBytes int
	Max      int
}

// Page lists an offer's images with the upload form.
func (h *Images) Page(c *fiber.Ctx) error {
	return h.page(c, fiber.StatusOK, "")
}

// page renders the images page; a refusal's key is shown under the upload field.
func (h *Images) page(c *fiber.Ctx, status int, refusal string) error {
	id, err := offerID(c)
	if err != nil {
		return err
	}
	o, list, err := h.images.List(c.UserContext(), current(c), id)
	if err != nil {
		return imagesError(err)
	}
	data := imagesPage{Offer: o, Images: list, MaxBytes: images.MaxBytes, Max: images.MaxPerOffer}
	if status == fiber.StatusOK {
		return h.render.Render(c, ui.LayoutPartner, "partner/offers/media", "images.title", data)
	}
	return h.render.Invalid(c, ui.LayoutPartner, "partner/offers/media", "images.title", data, ui.FieldErrors{"image": refusal}, nil)
}

// Upload adds the picture sent in the "image" field (a file chosen or a photo just
// taken); a refused one is shown again with the reason and status 422.
func (h *Images) Upload(c *fiber.Ctx) error {
	id, err := offerID(c)
	if err != nil {
		return err
	}
	fh := uploaded(c)
	if fh == nil {
		return h.page(c, fiber.StatusUnprocessableEntity, images.ErrEmpty.Key)
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	m, err := h.images.Upload(c.UserContext(), current(c), id, ui.ViewerOf(c).ID(), f, fh.Size)
	var refused *images.Refusal
	if errors.As(err, &refused) {
		return h.page(c, fiber.StatusUnprocessableEntity, refused.Key)
	}
	if err != nil {
		return imagesError(err)
	}
	if m.Status == offermedia.StatusPending {
		return ui.Redirect(c, imagesPath(id), "ok", "flash.image_uploaded_review")
	}
	return ui.Redirect(c, imagesPath(id), "ok", "flash.image_uploaded")
}

// uploaded is the first non-empty file of the "image" field: the form has one input
// for the camera and one for the gallery, both named "image".
func uploaded(c *fiber.Ctx) *multipart.FileHeader {
	form, err := c.MultipartForm()
	if err != nil {
		return nil
	}
	for _, fh := range form.File["image"] {
		if fh.Size > 0 {
			return fh
		}
	}
	return nil
}

// Cover makes an image the offer's cover.
func (h *Images) Cover(c *fiber.Ctx) error {
	id, mid, err := mediaIDs(c)
	if err != nil {
		return err
	}
	if err := h.images.SetCover(c.UserContext(), current(c), id, mid); err != nil {
		return imagesError(err)
	}
	return ui.Redirect(c, imagesPath(id), "ok", "flash.image_cover")
}

// Move moves an image up or down the order (dir=up|down).
func (h *Images) Move(c *fiber.Ctx) error {
	id, mid, err := mediaIDs(c)
	if err != nil {
		return err
	}
	dir := images.Down
	switch c.FormValue("dir") {
	case "up":
		dir = images.Up
	case "down":
	default:
		return ui.ErrBadRequest
	}
	if err := h.images.Move(c.UserContext(), current(c), id, mid, dir); err != nil {
		return imagesError(err)
	}
	return ui.Redirect(c, imagesPath(id), "", "")
}

// Delete removes an image.
func (h *Images) Delete(c *fiber.Ctx) error {
	id, mid, err := mediaIDs(c)
	if err != nil {
		return err
	}
	if err := h.images.Delete(c.UserContext(), current(c), id, mid); err != nil {
		return imagesError(err)
	}
	return ui.Redirect(c, imagesPath(id), "ok", "flash.image_deleted")
}

// Media serves an image or thumbnail of one of the partner's offers.
func (h *Images) Media(c *fiber.Ctx) error {
	r, obj, stale, err := h.images.Open(c.UserContext(), current(c), c.Params("*"))
	return sendImage(c, r, obj.ContentType, stale, err)
}

// CoverImage serves the thumbnail of an offer's cover, for the offer list.
func (h *Images) CoverImage(c *fiber.Ctx) error {
	id, err := offerID(c)
	if err != nil {
		return err
	}
	r, obj, _, err := h.images.Cover(c.UserContext(), current(c), id)
	// The cover changes when another image is chosen: never cached for long.
	return sendImage(c, r, obj.ContentType, true, err)
}

// sendImage answers with an opened image, or the error that opening it gave.
func sendImage(c *fiber.Ctx, r io.ReadCloser, contentType string, stale bool, err error) error {
	if err != nil {
		return imagesError(err)
	}
	return ui.SendImage(c, r, contentType, stale)
}

func imagesError(err error) error {
	if errors.Is(err, images.ErrNotFound) {
		return ui.ErrNotFound
	}
	return err
}

func imagesPath(offerID int) string { return "/partner/offers/" + strconv.Itoa(offerID) + "/media" }

func mediaIDs(c *fiber.Ctx) (int, int, error) {
	id, err := offerID(c)
	if err != nil {
		return 0, 0, err
	}
	mid, err := strconv.Atoi(c.Params("mid"))
	if err != nil || mid <= 0 {
		return 0, 0, ui.ErrNotFound
	}
	return id, mid, nil
}
