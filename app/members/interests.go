package members

import (
	"context"

	"ikra/app/i18n"
	"ikra/app/store"
	"ikra/app/tags"
	"ikra/ent"
	"ikra/ent/category"
	"ikra/ent/city"
	"ikra/ent/member"
)

// Interests are what a member tells the catalog about themselves on the welcome screen
// or in settings: the categories they care about (and finer tags), their city and
// their language.
type Interests struct {
	CategoryIDs []int
	Tags        []string // finer interests, from the tag vocabulary; optional
	CityID      int      // 0: not said
	Language    string
}

// InterestsInvalid is a validation error: field name → message key.
type InterestsInvalid map[string]string

func (e InterestsInvalid) Error() string { return "members: invalid interests" }

// maxInterests bounds a member's declared categories.
const maxInterests = 50

// Interests returns the member's declared interests, city and language.
func (s *Service) Interests(ctx context.Context, memberID int) (Interests, error) {
	m, err := s.db.Member.Query().Where(member.ID(memberID)).WithInterests().Only(ctx)
	if ent.IsNotFound(err) {
		return Interests{}, ErrNotFound
	}
	if err != nil {
		return Interests{}, err
	}
	in := Interests{Language: m.Language, Tags: m.InterestTags}
	if m.CityID != nil {
		in.CityID = *m.CityID
	}
	for _, c := range m.Edges.Interests {
		in.CategoryIDs = append(in.CategoryIDs, c.ID)
	}
	return in, nil
}

// OnboardingDue reports whether the member has never seen the welcome screen.
func OnboardingDue(m *ent.Member) bool { return m != nil && m.OnboardedAt == nil }

// SaveInterests replaces the member's interests, tags, city and language, and marks
// the welcome screen done. Unknown categories, tags or city, or an unsupported
// language, are an InterestsInvalid.
func (s *Service) SaveInterests(ctx context.Context, memberID int, in Interests) error {
	errs := InterestsInvalid{}
	if i18n.Supported(in.Language) == "" {
		errs["lang"] = "error.language"
	}
	ids := uniq(in.CategoryIDs)
	if len(ids) > maxInterests {
		errs["categories"] = "error.interests_categories"
	} else if len(ids) > 0 {
		n, err := s.db.Category.Query().Where(category.IDIn(ids...)).Count(ctx)
		if err != nil {
			return err
		}
		if n != len(ids) {
			errs["categories"] = "error.interests_categories"
		}
	}
	picked := tags.Clean(in.Tags)
	if len(picked) > tags.MaxMember {
		errs["tags"] = "error.interests_tags"
	}
	for _, t := range picked {
		if !tags.Known(t) {
			errs["tags"] = "error.interests_tags"
		}
	}
	if in.CityID != 0 {
		ok, err := s.db.City.Query().Where(city.ID(in.CityID)).Exist(ctx)
		if err != nil {
			return err
		}
		if !ok {
			errs["city"] = "error.interests_city"
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		upd := tx.Member.UpdateOneID(memberID).Where(member.StatusNEQ(member.StatusDeleted)).
			ClearInterests().AddInterestIDs(ids...).SetInterestTags(picked).SetLanguage(i18n.Supported(in.Language))
		if in.CityID != 0 {
			upd.SetCityID(in.CityID)
		} else {
			upd.ClearCityID()
		}
		if err := upd.Exec(ctx); err != nil {
			if ent.IsNotFound(err) {
				return ErrNotFound
			}
			return err
		}
		return tx.Member.Update().Where(member.ID(memberID), member.OnboardedAtIsNil()).SetOnboardedAt(s.now()).Exec(ctx)
	})
}

// SkipOnboarding marks the welcome screen seen without changing anything else, so it
// is not offered again.
func (s *Service) SkipOnboarding(ctx context.Context, memberID int) error {
	return s.db.Member.Update().Where(member.ID(memberID), member.OnboardedAtIsNil()).SetOnboardedAt(s.now()).Exec(ctx)
}

func uniq(ids []int) []int {
	seen := make(map[int]bool, len(ids))
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if id > 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// InterestChoices are what the welcome screen offers: every category, in the catalog's
// order, and every city.
func (s *Service) InterestChoices(ctx context.Context) ([]*ent.Category, []*ent.City, error) {
	cats, err := s.rows.Categories(ctx)
	if err != nil {
		return nil, nil, err
	}
	cities, err := s.rows.Cities(ctx)
	return cats, cities, err
}
