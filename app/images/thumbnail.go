package images

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"

	"ikra/ent"
)

// ThumbWidth is the width of thumbnails; narrower images keep their size.
const ThumbWidth = 400

// MakeThumbnail makes the thumbnail of a stored image and stores it under
// ThumbKey. Making it again replaces it with the same picture, so a retried job is
// harmless; an image removed meanwhile is not an error.
func (s *Service) MakeThumbnail(ctx context.Context, mediaID int) error {
	m, err := s.db.OfferMedia.Get(ctx, mediaID)
	if ent.IsNotFound(err) {
		s.log.Info("image gone before its thumbnail", "media_id", mediaID)
		return nil
	}
	if err != nil {
		return err
	}
	r, _, err := s.objects.Get(ctx, m.Key)
	if err != nil {
		return fmt.Errorf("images: thumbnail of %d: %w", mediaID, err)
	}
	defer r.Close()
	// The stored image was decoded and re-encoded by Upload (or seeded by us), so it
	// is within the limits; the semaphore still bounds memory.
	select {
	case s.decoding <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.decoding }()
	img, kind, err := image.Decode(r)
	if err != nil {
		return fmt.Errorf("images: thumbnail of %d: decode: %w", mediaID, err)
	}
	t := thumbnail(img)
	var buf bytes.Buffer
	ct := "image/jpeg"
	if kind == "png" {
		ct = "image/png"
		err = png.Encode(&buf, t)
	} else {
		err = jpeg.Encode(&buf, t, &jpeg.Options{Quality: jpegQuality})
	}
	if err != nil {
		return err
	}
	key := ThumbKey(m.Key)
	if err := s.objects.Put(ctx, key, bytes.NewReader(buf.Bytes()), int64(buf.Len()), ct); err != nil {
		return fmt.Errorf("images: store thumbnail of %d: %w", mediaID, err)
	}
	s.log.Debug("thumbnail made", "media_id", mediaID, "width", t.Bounds().Dx(), "height", t.Bounds().Dy())
	return nil
}

// thumbnail scales img down to ThumbWidth wide, keeping its proportions.
func thumbnail(img image.Image) image.Image {
	b := img.Bounds()
	if b.Dx() <= ThumbWidth {
		return img
	}
	h := max(1, b.Dy()*ThumbWidth/b.Dx())
	dst := image.NewRGBA(image.Rect(0, 0, ThumbWidth, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}
