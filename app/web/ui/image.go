package ui

import (
	"io"
	"mime/multipart"

	"github.com/gofiber/fiber/v2"
)

// SendImage answers with an opened image and closes it. Media keys are never reused,
// so an image is cached privately for a day; stale (a picture standing in for its
// thumbnail not made yet, or a cover that changes) is revalidated each time.
func SendImage(c *fiber.Ctx, r io.ReadCloser, contentType string, stale bool) error {
	defer r.Close()
	b, err := io.ReadAll(r) // read before the reader closes; images are at most 10 MB
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, contentType)
	if stale {
		c.Set(fiber.HeaderCacheControl, "private, no-cache")
	} else {
		c.Set(fiber.HeaderCacheControl, "private, max-age=86400")
	}
	return c.Send(b)
}

// Uploaded is the first non-empty file of a multipart form's field, or nil: a form may
// have one input for the camera and one for the gallery under the same name.
func Uploaded(c *fiber.Ctx, field string) *multipart.FileHeader {
	form, err := c.MultipartForm()
	if err != nil {
		return nil
	}
	for _, fh := range form.File[field] {
		if fh.Size > 0 {
			return fh
		}
	}
	return nil
}

// OpenUploaded opens the file uploaded in field: its reader (nil when none was sent),
// its declared size, and the function that closes it (always safe to call).
func OpenUploaded(c *fiber.Ctx, field string) (io.Reader, int64, func(), error) {
	fh := Uploaded(c, field)
	if fh == nil {
		return nil, 0, func() {}, nil
	}
	f, err := fh.Open()
	if err != nil {
		return nil, 0, nil, err
	}
	return f, fh.Size, func() { f.Close() }, nil
}
