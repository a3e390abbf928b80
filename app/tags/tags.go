// Package tags is the fixed vocabulary of finer interests within catalog categories
// ("coffee" within restaurants): offers carry tags of their own category, members pick
// the tags they like, and the catalog ranks matches higher.
package tags

import "slices"

// Tag is a finer interest within a category ("coffee" within restaurants). Offers
// carry the tags of their own category; members pick any tags they like. Its name is
// the i18n key Key(tag).
type Tag string

// tagVocabulary is the fixed list of tags of each category, by the category's slug,
// in the order the forms show them. A category not listed has no tags.
var tagVocabulary = map[string][]Tag{
	"restaurants": {"fine_dining", "coffee", "bars", "national_cuisine", "fast_food", "family"},
	"beauty":      {"hair", "nails", "spa", "cosmetology", "barbershop"},
	"health":      {"dental", "checkup", "massage", "optics", "pharmacy"},
	"auto":        {"car_wash", "service", "tyres", "detailing"},
	"hotels":      {"city_hotel", "resort", "hostel", "apartments"},
	"sport":       {"gym", "yoga", "swimming", "martial_arts", "kids_sport"},
	"education":   {"languages", "courses", "kids_education", "workshops"},
	"events":      {"concerts", "theatre", "cinema", "exhibitions", "festivals"},
}

// MaxOffer and MaxMember bound how many tags an offer or a member may hold.
const (
	MaxOffer  = 5
	MaxMember = 40
)

// Of are the tags of the category with this slug; none for an unknown one.
func Of(categorySlug string) []Tag { return tagVocabulary[categorySlug] }

// Key is the i18n key of a tag's name.
func Key(t Tag) string { return "tag." + string(t) }

// All are every category's tags, each once.
func All() []Tag {
	seen := map[Tag]bool{}
	var out []Tag
	for _, list := range tagVocabulary {
		for _, t := range list {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Known reports whether t is a tag of some category.
func Known(t string) bool {
	for _, list := range tagVocabulary {
		if slices.Contains(list, Tag(t)) {
			return true
		}
	}
	return false
}

// Fit reports whether every tag is one of the category's own.
func Fit(categorySlug string, tags []string) bool {
	own := tagVocabulary[categorySlug]
	for _, t := range tags {
		if !slices.Contains(own, Tag(t)) {
			return false
		}
	}
	return true
}

// Clean drops duplicates and empty values, keeping the first order.
func Clean(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
