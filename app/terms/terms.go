// Package terms keeps the versions of the public offer and the privacy policy, and
// records members' acceptance of them.
package terms

import (
	"context"
	_ "embed"
	"time"

	"ikra/ent"
	"ikra/ent/termsversion"
)

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
		{Offer, "Пользовательское соглашение (публичная оферта)", offerV1},
		{Privacy, "Политика обработки персональных данных", privacyV1},
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
