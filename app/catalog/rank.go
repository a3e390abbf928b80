package catalog

import (
	"cmp"
	"math"
	"slices"
	"time"

	"ikra/app/tags"
)

// Profile is what ranking knows about a member: what they declared, what they did and
// their status. It is plain data, built by Service.Personal.
type Profile struct {
	Categories map[int]bool    // declared interests, by category ID
	Tags       map[string]bool // declared finer interests (catalog tags)
	CityID     int             // the member's city; 0 when not declared
	Behaviour  map[int]float64 // per-category weight of views and bookings, decayed (BehaviourWeights)
	TierID     int             // the member's effective status tier; 0 without one
}

// Candidate is one offer as ranking sees it: only what scoring needs.
type Candidate struct {
	OfferID        int
	CategoryID     int
	CityID         int
	Tags           []string // the offer's tags, within its category
	PublishedAt    time.Time
	RecentBookings int  // bookings over the last PopularWindow
	PlacesLeft     int  // -1 when unlimited
	TierUnlocked   bool // the offer has a minimum tier and the member's status reaches it
	Locked         bool // the member's status does not reach the offer's minimum tier yet
}

// Reason keys: one short line under each card, in the i18n catalogs.
const (
	ReasonInterest = "rank.reason.interest" // you like %s (the offer's category)
	ReasonTag      = "rank.reason.tag"      // you like %s (a tag of the offer the member picked)
	ReasonViewed   = "rank.reason.viewed"   // based on what you viewed
	ReasonNew      = "rank.reason.new"      // new this week
	ReasonPopular  = "rank.reason.popular"  // popular in %s (the offer's city)
	ReasonCity     = "rank.reason.city"     // in your city, %s
	ReasonUnlocked = "rank.reason.unlocked" // unlocked by your %s status (the member's tier)
	ReasonLocked   = "rank.reason.locked"   // opens with the %s status (the offer's minimum tier)
	ReasonDefault  = "rank.reason.default"  // available to you
)

// Subject says which name fills a reason's verb.
type Subject int

// Reason subjects.
const (
	SubjectNone       Subject = iota
	SubjectCategory           // the offer's category
	SubjectCity               // the offer's city
	SubjectMemberTier         // the member's tier
	SubjectOfferTier          // the offer's minimum tier
	SubjectTag                // the matched tag (Ranked.Tag)
)

// Ranked is a candidate with its score and the one reason shown for it.
type Ranked struct {
	Candidate
	Score   float64
	Reason  string
	Subject Subject
	Tag     tags.Tag // the member's tag the offer matched; "" when none
}

// Weights of the score's terms. A declared interest outweighs every other single term,
// so that what a member asked for comes first; a sold-out or locked offer sinks below
// every open one.
const (
	weightInterest  = 3.0
	weightTag       = 1.5 // a matching tag: less than a declared category, once per offer
	weightBehaviour = 2.0 // for the member's most-used category; others in proportion
	weightFresh     = 1.2 // for an offer published now, falling to 0 over FreshWindow
	weightPopular   = 1.5 // at popularSaturation recent bookings and above, log-scaled
	weightCity      = 1.0
	weightUnlocked  = 0.8
	penaltySoldOut  = -10.0
	penaltyLocked   = -20.0

	popularSaturation = 50
)

// Windows and half-life of the ranking signals.
const (
	FreshWindow       = 7 * 24 * time.Hour
	PopularWindow     = 30 * 24 * time.Hour
	BehaviourHalfLife = 14 * 24 * time.Hour
	BehaviourWindow   = 120 * 24 * time.Hour // older behaviour weighs under 1/300 and is not read
)

// Rank scores the candidates for the member and orders them, best first. It is pure:
// the same now, profile and candidates give the same order. Equal scores keep the
// newer offer first (published_at, then ID, descending).
func Rank(now time.Time, p Profile, cands []Candidate) []Ranked {
	maxB := 0.0
	for _, w := range p.Behaviour {
		maxB = math.Max(maxB, w)
	}
	scored := make([]Ranked, len(cands))
	order := make([]int, len(cands))
	for i, c := range cands {
		scored[i], order[i] = score(now, p, maxB, c), i
	}
	// Sort positions, not the (large) Ranked values. The order is total (an offer's ID
	// is unique), so any sort gives the same result.
	slices.SortFunc(order, func(i, j int) int {
		a, b := &scored[i], &scored[j]
		switch {
		case a.Score != b.Score:
			return cmp.Compare(b.Score, a.Score)
		case !a.PublishedAt.Equal(b.PublishedAt):
			return b.PublishedAt.Compare(a.PublishedAt)
		default:
			return cmp.Compare(b.OfferID, a.OfferID)
		}
	})
	out := make([]Ranked, len(order))
	for i, k := range order {
		out[i] = scored[k]
	}
	return out
}

// term is one contribution to a score, with the reason it would give.
type term struct {
	value   float64
	reason  string
	subject Subject
}

func score(now time.Time, p Profile, maxB float64, c Candidate) Ranked {
	terms := make([]term, 0, 6)
	if p.Categories[c.CategoryID] {
		terms = append(terms, term{weightInterest, ReasonInterest, SubjectCategory})
	}
	var tag tags.Tag
	for _, t := range c.Tags {
		if p.Tags[t] {
			tag = tags.Tag(t)
			terms = append(terms, term{weightTag, ReasonTag, SubjectTag})
			break
		}
	}
	if maxB > 0 && p.Behaviour[c.CategoryID] > 0 {
		terms = append(terms, term{weightBehaviour * p.Behaviour[c.CategoryID] / maxB, ReasonViewed, SubjectNone})
	}
	if age := now.Sub(c.PublishedAt); !c.PublishedAt.IsZero() && age < FreshWindow {
		terms = append(terms, term{weightFresh * (1 - math.Max(float64(age), 0)/float64(FreshWindow)), ReasonNew, SubjectNone})
	}
	if c.RecentBookings > 0 {
		v := math.Min(math.Log1p(float64(c.RecentBookings))/math.Log1p(popularSaturation), 1)
		terms = append(terms, term{weightPopular * v, ReasonPopular, SubjectCity})
	}
	if p.CityID != 0 && c.CityID == p.CityID {
		terms = append(terms, term{weightCity, ReasonCity, SubjectCity})
	}
	if c.TierUnlocked && !c.Locked {
		terms = append(terms, term{weightUnlocked, ReasonUnlocked, SubjectMemberTier})
	}
	r := Ranked{Candidate: c, Reason: ReasonDefault, Tag: tag}
	best := 0.0
	for _, t := range terms {
		r.Score += t.value
		// The first of equal terms wins: the order above is the order of preference.
		if t.value > best {
			best, r.Reason, r.Subject = t.value, t.reason, t.subject
		}
	}
	if r.Reason == ReasonInterest && tag != "" {
		// The member's category and one of their tags: the tag says it more precisely.
		r.Reason, r.Subject = ReasonTag, SubjectTag
	}
	if c.PlacesLeft == 0 {
		r.Score += penaltySoldOut
	}
	if c.Locked {
		r.Score += penaltyLocked
		r.Reason, r.Subject = ReasonLocked, SubjectOfferTier
	}
	return r
}

// Signal is one thing a member did with an offer of a category: viewed it (Weight 1
// per view) or booked it (a booking weighs more).
type Signal struct {
	CategoryID int
	At         time.Time
	Weight     float64
}

// BookingWeight is how many views one booking counts for.
const BookingWeight = 3.0

// BehaviourWeights sums the signals per category, each halved for every
// BehaviourHalfLife of age, so old behaviour counts less.
func BehaviourWeights(now time.Time, signals []Signal) map[int]float64 {
	w := make(map[int]float64)
	for _, s := range signals {
		age := math.Max(float64(now.Sub(s.At)), 0)
		w[s.CategoryID] += s.Weight * math.Exp2(-age/float64(BehaviourHalfLife))
	}
	return w
}
