// Package images keeps the pictures of a partner's offers: upload (checked, decoded
// and re-encoded without metadata), order, cover, removal and thumbnails. Every
// function takes the partner ID and only touches that partner's offers: another
// partner's offer or image is ErrNotFound.
//
// The cover of an offer is its first image; choosing a cover moves it first.
// A thumbnail is stored beside its image under ThumbKey(key), made by a background
// job after the upload; until it exists the image itself stands in for it.
package images

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"ikra/app/media"
	"ikra/app/offers"
	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/offer"
	"ikra/ent/offermedia"
)

// MaxPerOffer is how many images one offer may hold.
const MaxPerOffer = 20

// ErrNotFound means the offer or image is not one of this partner's.
var ErrNotFound = errors.New("images: not found")

// Enqueuer schedules the thumbnail of a stored image; enqueuing one twice is harmless.
type Enqueuer interface {
	EnqueueThumbnail(ctx context.Context, mediaID int) error
}

// Service manages offer images.
type Service struct {
	db      *ent.Client
	dialect string
	objects media.Store
	q       Enqueuer
	log     *slog.Logger
	// decoding bounds how many pictures are decoded at once: a 40-megapixel picture
	// takes 160 MB while it is decoded.
	decoding chan struct{}
}

// New returns the image service. dialect is the database's (row locks on PostgreSQL);
// q may be nil, and then thumbnails are only made when asked for directly.
func New(db *ent.Client, dialect string, objects media.Store, q Enqueuer, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: db, dialect: dialect, objects: objects, q: q, log: log, decoding: make(chan struct{}, 2)}
}

// ThumbKey is where the thumbnail of the image stored under key is kept:
// "offers/12/ab3f.jpg" has "offers/12/ab3f-thumb.jpg".
func ThumbKey(key string) string {
	i := strings.LastIndexByte(key, '.')
	if i <= strings.LastIndexByte(key, '/') {
		return key + "-thumb"
	}
	return key[:i] + "-thumb" + key[i:]
}

// OriginalKey is the key of the image whose thumbnail is stored under key, or key
// itself when it names no thumbnail.
func OriginalKey(key string) string {
	i := strings.LastIndex(key, "-thumb")
	if i < 0 || strings.Contains(key[i:], "/") {
		return key
	}
	rest := key[i+len("-thumb"):]
	if rest != "" && (rest[0] != '.' || strings.Contains(rest[1:], ".")) {
		return key
	}
	return key[:i] + rest
}

// Image is one image of an offer, as the portal lists it.
type Image struct {
	*ent.OfferMedia
	Cover    bool   // the first image: shown on cards and lists
	ThumbKey string // where its thumbnail is (or will be) stored
}

// List returns the partner's offer and its images in order, the cover first.
func (s *Service) List(ctx context.Context, partnerID, offerID int) (*ent.Offer, []Image, error) {
	o, err := s.offer(ctx, s.db, partnerID, offerID)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.db.OfferMedia.Query().Where(offermedia.OfferID(o.ID)).
		Order(ent.Asc(offermedia.FieldSort), ent.Asc(offermedia.FieldID)).All(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Image, len(rows))
	for i, m := range rows {
		out[i] = Image{OfferMedia: m, Cover: i == 0, ThumbKey: ThumbKey(m.Key)}
	}
	return o, out, nil
}

// offer returns the partner's offer, or ErrNotFound.
func (s *Service) offer(ctx context.Context, db *ent.Client, partnerID, offerID int) (*ent.Offer, error) {
	o, err := db.Offer.Query().Where(offer.ID(offerID), offer.PartnerID(partnerID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return o, err
}

// Upload checks the picture r yields (size bytes as declared, or -1), re-encodes it
// without metadata, stores it under an unguessable key and adds it as the offer's
// last image; its thumbnail is enqueued. On a published offer the image is pending
// until a moderator approves the offer's revision (authorID is who added it). A
// refused picture is a *Refusal saying why.
func (s *Service) Upload(ctx context.Context, partnerID, offerID, authorID int, r io.Reader, size int64) (*ent.OfferMedia, error) {
	o, err := s.offer(ctx, s.db, partnerID, offerID)
	if err != nil {
		return nil, err
	}
	n, err := s.db.OfferMedia.Query().Where(offermedia.OfferID(o.ID)).Count(ctx)
	if err != nil {
		return nil, err
	}
	if n >= MaxPerOffer {
		return nil, ErrTooMany
	}
	if size > MaxBytes {
		return nil, ErrTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("images: read upload: %w", err)
	}
	c, err := s.clean(ctx, b)
	if err != nil {
		return nil, err
	}
	key, err := newKey(o.ID, c.ext)
	if err != nil {
		return nil, err
	}
	if err := s.objects.Put(ctx, key, bytes.NewReader(c.data), int64(len(c.data)), c.contentType); err != nil {
		return nil, fmt.Errorf("images: store: %w", err)
	}
	last, err := s.db.OfferMedia.Query().Where(offermedia.OfferID(o.ID)).
		Order(ent.Desc(offermedia.FieldSort)).First(ctx)
	sort := 0
	switch {
	case err == nil:
		sort = last.Sort + 1
	case !ent.IsNotFound(err):
		s.forget(key)
		return nil, err
	}
	// An image added to a published offer waits for a moderator with a revision of
	// it; on an offer not yet published it is reviewed with the whole offer.
	var m *ent.OfferMedia
	err = store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		o, err := s.offer(ctx, tx.Client(), partnerID, offerID)
		if err != nil {
			return err
		}
		status := offermedia.StatusLive
		if o.Status == offer.StatusPublished {
			status = offermedia.StatusPending
			if _, err := offers.ProposeTx(ctx, tx, o, authorID, time.Now()); err != nil {
				return err
			}
		}
		m, err = tx.OfferMedia.Create().SetOfferID(o.ID).SetKey(key).SetContentType(c.contentType).
			SetSize(int64(len(c.data))).SetWidth(c.width).SetHeight(c.height).SetSort(sort).SetStatus(status).Save(ctx)
		return err
	})
	if err != nil {
		s.forget(key)
		return nil, err
	}
	s.log.Info("offer image uploaded", "partner_id", partnerID, "offer_id", o.ID, "media_id", m.ID, "bytes", len(c.data))
	s.enqueue(ctx, m.ID)
	return m, nil
}

// Cleaned is a picture accepted by Clean: decoded and encoded again without metadata.
type Cleaned struct {
	Data          []byte
	ContentType   string // image/jpeg or image/png
	Ext           string // .jpg or .png
	Width, Height int
}

// Clean checks a picture r yields (size bytes as declared, or -1) under the same rules
// as an offer's images (MaxBytes, MaxPixels, JPEG, PNG or WebP) and re-encodes it
// without metadata, for other domains that keep pictures (care-service and claims'
// attachments).
// A refused picture is a *Refusal saying why.
func (s *Service) Clean(ctx context.Context, r io.Reader, size int64) (Cleaned, error) {
	if size > MaxBytes {
		return Cleaned{}, ErrTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return Cleaned{}, fmt.Errorf("images: read upload: %w", err)
	}
	c, err := s.clean(ctx, b)
	if err != nil {
		return Cleaned{}, err
	}
	return Cleaned{Data: c.data, ContentType: c.contentType, Ext: c.ext, Width: c.width, Height: c.height}, nil
}

// clean decodes at most two pictures at a time.
func (s *Service) clean(ctx context.Context, b []byte) (*cleaned, error) {
	select {
	case s.decoding <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.decoding }()
	return clean(b)
}

// enqueue asks for a thumbnail; a failure only leaves the image standing in for it
// until the portal shows the cover again (Cover enqueues it once more).
func (s *Service) enqueue(ctx context.Context, mediaID int) {
	if s.q == nil {
		return
	}
	if err := s.q.EnqueueThumbnail(ctx, mediaID); err != nil {
		s.log.Warn("thumbnail not enqueued", "media_id", mediaID, "err", err)
	}
}

// forget removes an object whose row was never written.
func (s *Service) forget(key string) {
	if err := s.objects.Delete(context.Background(), key); err != nil {
		s.log.Warn("orphan image not removed", "key", key, "err", err)
	}
}

// newKey is "offers/<offerID>/<32 random hex digits><ext>".
func newKey(offerID int, ext string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "offers/" + strconv.Itoa(offerID) + "/" + hex.EncodeToString(b) + ext, nil
}

// Direction of a move in the order.
const (
	Up   = -1
	Down = 1
)

// Move moves an image one place up (towards the cover) or down.
func (s *Service) Move(ctx context.Context, partnerID, offerID, mediaID, dir int) error {
	if dir != Up && dir != Down {
		return fmt.Errorf("images: move by %d", dir)
	}
	return s.reorder(ctx, partnerID, offerID, mediaID, func(ids []int, i int) {
		if j := i + dir; j >= 0 && j < len(ids) {
			ids[i], ids[j] = ids[j], ids[i]
		}
	})
}

// SetCover makes an image the cover by moving it first.
func (s *Service) SetCover(ctx context.Context, partnerID, offerID, mediaID int) error {
	return s.reorder(ctx, partnerID, offerID, mediaID, func(ids []int, i int) {
		id := ids[i]
		copy(ids[1:i+1], ids[:i])
		ids[0] = id
	})
}

// reorder changes the order of an offer's images in one transaction, holding the
// offer's row on PostgreSQL so two reorders do not interleave, and numbers them again
// from 0.
func (s *Service) reorder(ctx context.Context, partnerID, offerID, mediaID int, change func(ids []int, i int)) error {
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	q := tx.Offer.Query().Where(offer.ID(offerID), offer.PartnerID(partnerID))
	if s.dialect == dialect.Postgres {
		q.ForUpdate()
	}
	if _, err := q.Only(ctx); ent.IsNotFound(err) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	ids, err := tx.OfferMedia.Query().Where(offermedia.OfferID(offerID)).
		Order(ent.Asc(offermedia.FieldSort), ent.Asc(offermedia.FieldID)).IDs(ctx)
	if err != nil {
		return err
	}
	at := -1
	for i, id := range ids {
		if id == mediaID {
			at = i
		}
	}
	if at < 0 {
		return ErrNotFound
	}
	change(ids, at)
	for i, id := range ids {
		if err := tx.OfferMedia.UpdateOneID(id).SetSort(i).Exec(ctx); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Delete removes an image and its thumbnail.
func (s *Service) Delete(ctx context.Context, partnerID, offerID, mediaID int) error {
	m, err := s.db.OfferMedia.Query().Where(offermedia.ID(mediaID), offermedia.OfferID(offerID),
		offermedia.HasOfferWith(offer.PartnerID(partnerID))).Only(ctx)
	if ent.IsNotFound(err) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := s.db.OfferMedia.DeleteOneID(m.ID).Exec(ctx); err != nil {
		return err
	}
	// The row is gone, so nobody is served the objects any more; removing them is
	// housekeeping.
	for _, k := range []string{m.Key, ThumbKey(m.Key)} {
		if err := s.objects.Delete(ctx, k); err != nil {
			s.log.Warn("image object not removed", "media_id", m.ID, "key", k, "err", err)
		}
	}
	s.log.Info("offer image removed", "partner_id", partnerID, "offer_id", offerID, "media_id", m.ID)
	return nil
}

// Open opens an image or thumbnail of one of the partner's offers, whatever the
// offer's status (the portal shows drafts too). A thumbnail not made yet opens the
// image itself, and stale reports that, so the caller does not cache it for long.
// The caller closes the reader.
func (s *Service) Open(ctx context.Context, partnerID int, key string) (r io.ReadCloser, obj media.Object, stale bool, err error) {
	if media.ValidKey(key) != nil {
		return nil, media.Object{}, false, ErrNotFound
	}
	orig := OriginalKey(key)
	ok, err := s.db.OfferMedia.Query().Where(offermedia.Key(orig), offermedia.HasOfferWith(offer.PartnerID(partnerID))).Exist(ctx)
	if err != nil {
		return nil, media.Object{}, false, err
	}
	if !ok {
		return nil, media.Object{}, false, ErrNotFound
	}
	return s.openThumb(ctx, key, orig)
}

// OpenForReview opens an image or thumbnail of any offer, whatever its status or its
// image's: moderators see what they decide on. The caller is a moderation screen,
// guarded by its permission; members go through the catalog rule instead.
func (s *Service) OpenForReview(ctx context.Context, key string) (r io.ReadCloser, obj media.Object, stale bool, err error) {
	if media.ValidKey(key) != nil {
		return nil, media.Object{}, false, ErrNotFound
	}
	orig := OriginalKey(key)
	ok, err := s.db.OfferMedia.Query().Where(offermedia.Key(orig)).Exist(ctx)
	if err != nil {
		return nil, media.Object{}, false, err
	}
	if !ok {
		return nil, media.Object{}, false, ErrNotFound
	}
	return s.openThumb(ctx, key, orig)
}

// Cover opens the thumbnail of the cover of the partner's offer (the cover itself
// until the thumbnail is made, asking for it again). An offer without images is
// ErrNotFound.
func (s *Service) Cover(ctx context.Context, partnerID, offerID int) (io.ReadCloser, media.Object, bool, error) {
	m, err := s.db.OfferMedia.Query().Where(offermedia.OfferID(offerID), offermedia.HasOfferWith(offer.PartnerID(partnerID))).
		Order(ent.Asc(offermedia.FieldSort), ent.Asc(offermedia.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, media.Object{}, false, ErrNotFound
	}
	if err != nil {
		return nil, media.Object{}, false, err
	}
	r, obj, stale, err := s.openThumb(ctx, ThumbKey(m.Key), m.Key)
	if stale {
		s.enqueue(ctx, m.ID)
	}
	return r, obj, stale, err
}

// openThumb opens key, falling back to orig when key is a thumbnail not made yet.
func (s *Service) openThumb(ctx context.Context, key, orig string) (io.ReadCloser, media.Object, bool, error) {
	r, obj, err := s.objects.Get(ctx, key)
	if errors.Is(err, media.ErrNotFound) && key != orig {
		r, obj, err = s.objects.Get(ctx, orig)
		if err == nil {
			return r, obj, true, nil
		}
	}
	if errors.Is(err, media.ErrNotFound) {
		return nil, media.Object{}, false, ErrNotFound
	}
	return r, obj, false, err
}
