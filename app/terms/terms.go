// Package terms keeps the versions of the public offer and the privacy policy, and
// records members' acceptance of them.
package terms

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"ikra/ent"
	"ikra/ent/termsversion"
)

// Errors a caller can tell apart.
var (
	// ErrUnknownKind means the kind is neither Offer nor Privacy.
	ErrUnknownKind = errors.New("terms: kind must be offer or privacy")
	// ErrEmpty means the document has no text.
	ErrEmpty = errors.New("terms: the document is empty")
	// ErrTooLong means the document is larger than MaxBytes.
	ErrTooLong = errors.New("terms: the document is too long")
	// ErrNotFound means no version of the kind is published yet.
	ErrNotFound = errors.New("terms: nothing published")
)

// MaxBytes caps a published document.
const MaxBytes = 512 << 10

// Kinds of terms documents.
const (
	Offer   = "offer"
	Privacy = "privacy"
)

//go:embed offer_v1.md
var offerV1 string

//go:embed privacy_v1.md
var privacyV1 string

// EnsureInitial publishes the first versions of both documents on an empty database.
func EnsureInitial(ctx context.Context, db *ent.Client) error {
	initial := []struct{ kind, title, body string }{
		{Offer, Title(offerV1), offerV1},
		{Privacy, Title(privacyV1), privacyV1},
	}
	published := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range initial {
		n, err := db.TermsVersion.Query().Where(termsversion.KindEQ(termsversion.Kind(d.kind))).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		err = db.TermsVersion.Create().SetKind(termsversion.Kind(d.kind)).SetVersion("2026-06-01").
			SetTitle(d.title).SetBody(d.body).SetPublishedAt(published).Exec(ctx)
		if err != nil && !ent.IsConstraintError(err) {
			return err
		}
	}
	return nil
}

// Current returns the newest published version of each kind that has one.
func Current(ctx context.Context, db *ent.Client) ([]*ent.TermsVersion, error) {
	var out []*ent.TermsVersion
	for _, k := range []termsversion.Kind{termsversion.KindOffer, termsversion.KindPrivacy} {
		v, err := db.TermsVersion.Query().
			Where(termsversion.KindEQ(k), termsversion.PublishedAtLTE(time.Now())).
			Order(ent.Desc(termsversion.FieldPublishedAt), ent.Desc(termsversion.FieldID)).
			First(ctx)
		if ent.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Latest returns the newest published version of kind.
func Latest(ctx context.Context, db *ent.Client, kind string) (*ent.TermsVersion, error) {
	if kind != Offer && kind != Privacy {
		return nil, ErrUnknownKind
	}
	v, err := db.TermsVersion.Query().
		Where(termsversion.KindEQ(termsversion.Kind(kind)), termsversion.PublishedAtLTE(time.Now())).
		Order(ent.Desc(termsversion.FieldPublishedAt), ent.Desc(termsversion.FieldID)).
		First(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return v, err
}

// Publish makes body (markdown) the current version of kind from now on. The title is
// the document's first heading (or first line); the version is the date, with a
// counter when several are published on one day. Members see it at once; earlier
// versions and their acceptances stay. (The back office publishes through
// Service.Publish, which takes an effective date and writes an audit entry.)
func Publish(ctx context.Context, db *ent.Client, kind, body string, now time.Time) (*ent.TermsVersion, error) {
	return create(ctx, db, kind, body, now, now, nil)
}

// Clean is the document as it is stored: valid UTF-8 without NUL bytes, "\n" line ends,
// trimmed; it checks the kind and the size.
func Clean(kind, body string) (string, error) {
	if kind != Offer && kind != Privacy {
		return "", ErrUnknownKind
	}
	if len(body) > MaxBytes {
		return "", ErrTooLong
	}
	body = strings.ReplaceAll(strings.ToValidUTF8(body, "\uFFFD"), "\x00", "")
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	if body == "" {
		return "", ErrEmpty
	}
	return body, nil
}

// create stores a version of kind taking effect at effective; its version is the
// effective date (Asia/Almaty), with a counter for a second one on the same day.
func create(ctx context.Context, db *ent.Client, kind, body string, effective, now time.Time, by *int) (*ent.TermsVersion, error) {
	body, err := Clean(kind, body)
	if err != nil {
		return nil, err
	}
	base := effective.In(Almaty).Format("2006-01-02")
	for n := 1; n < 1000; n++ {
		version := base
		if n > 1 {
			version = fmt.Sprintf("%s.%d", base, n)
		}
		exists, err := db.TermsVersion.Query().Where(termsversion.KindEQ(termsversion.Kind(kind)), termsversion.Version(version)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if exists {
			continue // this day's version is taken: the next number
		}
		v, err := db.TermsVersion.Create().SetKind(termsversion.Kind(kind)).SetVersion(version).
			SetTitle(Title(body)).SetBody(body).SetPublishedAt(effective).SetCreatedAt(now).
			SetNillableCreatedByID(by).Save(ctx)
		if ent.IsConstraintError(err) {
			continue // taken meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("terms: publish: %w", err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("terms: too many versions published on %s", base)
}

// Title is a document's first heading ("# Title"), or its first line, without markup.
func Title(body string) string {
	first := ""
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			first = line
			break
		}
		if first == "" {
			first = line
		}
	}
	t := strings.TrimSpace(strings.Trim(strings.TrimLeft(first, "#"), "* "))
	if utf8.RuneCountInString(t) > 200 {
		t = string([]rune(t)[:200])
	}
	return t
}
