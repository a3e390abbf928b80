package catalog_test

import (
	"math"
	"math/rand"
	"testing"
	"time"

	"ikra/app/catalog"
)

var rankNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// ids lists the ranked offers' IDs in order.
func ids(rs []catalog.Ranked) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.OfferID
	}
	return out
}

func sameOrder(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// open is an unlimited, unlocked candidate published a month ago.
func open(id, categoryID, cityID int) catalog.Candidate {
	return catalog.Candidate{OfferID: id, CategoryID: categoryID, CityID: cityID, PublishedAt: rankNow.AddDate(0, -1, 0), PlacesLeft: -1}
}

func TestRankDeclaredInterestBeatsPopularity(t *testing.T) {
	liked, popular := open(1, 10, 100), open(2, 20, 100)
	popular.RecentBookings = 500
	p := catalog.Profile{Categories: map[int]bool{10: true}}
	got := catalog.Rank(rankNow, p, []catalog.Candidate{popular, liked})
	if !sameOrder(ids(got), []int{1, 2}) {
		t.Fatalf("order %v, want the liked category first", ids(got))
	}
	if got[0].Reason != catalog.ReasonInterest || got[0].Subject != catalog.SubjectCategory {
		t.Errorf("liked offer's reason %q/%v", got[0].Reason, got[0].Subject)
	}
	if got[1].Reason != catalog.ReasonPopular || got[1].Subject != catalog.SubjectCity {
		t.Errorf("popular offer's reason %q/%v", got[1].Reason, got[1].Subject)
	}
	// Without the declaration popularity leads.
	if got := catalog.Rank(rankNow, catalog.Profile{}, []catalog.Candidate{liked, popular}); !sameOrder(ids(got), []int{2, 1}) {
		t.Errorf("no interests: order %v, want the popular one first", ids(got))
	}
}

func TestRankBehaviourShiftsOrder(t *testing.T) {
	a, b := open(1, 10, 100), open(2, 20, 100)
	b.PublishedAt = a.PublishedAt.Add(time.Hour) // newer: first when nothing else differs
	cands := []catalog.Candidate{a, b}
	if got := catalog.Rank(rankNow, catalog.Profile{}, cands); !sameOrder(ids(got), []int{2, 1}) || got[0].Reason != catalog.ReasonDefault {
		t.Fatalf("no behaviour: order %v, reason %q", ids(got), got[0].Reason)
	}
	views := []catalog.Signal{{CategoryID: 10, At: rankNow.Add(-24 * time.Hour), Weight: 3}}
	p := catalog.Profile{Behaviour: catalog.BehaviourWeights(rankNow, views)}
	got := catalog.Rank(rankNow, p, cands)
	if !sameOrder(ids(got), []int{1, 2}) || got[0].Reason != catalog.ReasonViewed {
		t.Fatalf("after views of category 10: order %v, reason %q", ids(got), got[0].Reason)
	}
}

func TestBehaviourDecays(t *testing.T) {
	w := catalog.BehaviourWeights(rankNow, []catalog.Signal{
		{CategoryID: 1, At: rankNow, Weight: 1},
		{CategoryID: 2, At: rankNow.Add(-catalog.BehaviourHalfLife), Weight: 1},
		{CategoryID: 3, At: rankNow.Add(-4 * catalog.BehaviourHalfLife), Weight: 1},
	})
	if math.Abs(w[1]-1) > 1e-9 || math.Abs(w[2]-0.5) > 1e-9 || math.Abs(w[3]-1.0/16) > 1e-9 {
		t.Fatalf("weights %v, want 1, 1/2, 1/16", w)
	}
	// Many old views weigh less than a few recent ones.
	recent, old := open(1, 1, 0), open(2, 2, 0)
	recent.PublishedAt = old.PublishedAt.Add(-time.Hour) // older offer, so only behaviour can put it first
	p := catalog.Profile{Behaviour: catalog.BehaviourWeights(rankNow, []catalog.Signal{
		{CategoryID: 1, At: rankNow.Add(-2 * 24 * time.Hour), Weight: 2},
		{CategoryID: 2, At: rankNow.Add(-90 * 24 * time.Hour), Weight: 20},
	})}
	if got := catalog.Rank(rankNow, p, []catalog.Candidate{old, recent}); !sameOrder(ids(got), []int{1, 2}) {
		t.Errorf("order %v: 20 views three months ago outweigh 2 this week", ids(got))
	}
}

func TestRankTiesAreStable(t *testing.T) {
	at := rankNow.AddDate(0, -1, 0)
	cands := []catalog.Candidate{
		{OfferID: 5, PublishedAt: at, PlacesLeft: -1},
		{OfferID: 9, PublishedAt: at, PlacesLeft: -1},
		{OfferID: 7, PublishedAt: at.Add(time.Minute), PlacesLeft: -1},
		{OfferID: 3, PublishedAt: at, PlacesLeft: -1},
		{OfferID: 8, PublishedAt: at.Add(-time.Minute), PlacesLeft: -1},
	}
	want := []int{7, 9, 5, 3, 8} // equal scores: newer first, then higher ID
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20; i++ {
		r.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
		if got := ids(catalog.Rank(rankNow, catalog.Profile{}, cands)); !sameOrder(got, want) {
			t.Fatalf("shuffle %d: order %v, want %v", i, got, want)
		}
	}
}

func TestRankReasonsAndPenalties(t *testing.T) {
	fresh := open(1, 10, 100)
	fresh.PublishedAt = rankNow.Add(-time.Hour)
	near := open(2, 20, 200)
	unlocked := open(3, 30, 300)
	unlocked.TierUnlocked = true
	soldOut := open(4, 10, 200)
	soldOut.PlacesLeft = 0
	locked := open(5, 10, 200)
	locked.Locked = true
	p := catalog.Profile{Categories: map[int]bool{10: true}, CityID: 200, TierID: 1}
	got := catalog.Rank(rankNow, p, []catalog.Candidate{locked, soldOut, unlocked, near, fresh})
	if !sameOrder(ids(got), []int{1, 2, 3, 4, 5}) {
		t.Fatalf("order %v: open ones first, then sold out, then locked", ids(got))
	}
	want := []struct {
		reason  string
		subject catalog.Subject
	}{
		{catalog.ReasonInterest, catalog.SubjectCategory},
		{catalog.ReasonCity, catalog.SubjectCity},
		{catalog.ReasonUnlocked, catalog.SubjectMemberTier},
		{catalog.ReasonInterest, catalog.SubjectCategory},
		{catalog.ReasonLocked, catalog.SubjectOfferTier},
	}
	for i, w := range want {
		if got[i].Reason != w.reason || got[i].Subject != w.subject {
			t.Errorf("offer %d: reason %q/%v, want %q/%v", got[i].OfferID, got[i].Reason, got[i].Subject, w.reason, w.subject)
		}
	}
	// Freshness alone gives "new this week"; a week later it is gone.
	if r := catalog.Rank(rankNow, catalog.Profile{}, []catalog.Candidate{fresh}); r[0].Reason != catalog.ReasonNew {
		t.Errorf("fresh offer's reason %q", r[0].Reason)
	}
	if r := catalog.Rank(rankNow.Add(8*24*time.Hour), catalog.Profile{}, []catalog.Candidate{fresh}); r[0].Reason != catalog.ReasonDefault {
		t.Errorf("week-old offer's reason %q", r[0].Reason)
	}
}

func TestRankTagShiftsOrderButCategoryWins(t *testing.T) {
	plain, coffee := open(1, 10, 100), open(2, 10, 100)
	plain.PublishedAt = coffee.PublishedAt.Add(time.Hour) // newer: first when nothing else differs
	coffee.Tags = []string{"bars", "coffee"}
	cands := []catalog.Candidate{plain, coffee}
	if got := catalog.Rank(rankNow, catalog.Profile{}, cands); !sameOrder(ids(got), []int{1, 2}) {
		t.Fatalf("no tags: order %v, want the newer first", ids(got))
	}
	tagOnly := catalog.Profile{Tags: map[string]bool{"coffee": true}}
	got := catalog.Rank(rankNow, tagOnly, cands)
	if !sameOrder(ids(got), []int{2, 1}) {
		t.Fatalf("member likes coffee: order %v, want the coffee offer first", ids(got))
	}
	if got[0].Reason != catalog.ReasonTag || got[0].Subject != catalog.SubjectTag || got[0].Tag != "coffee" {
		t.Errorf("coffee offer's reason %q/%v/%q", got[0].Reason, got[0].Subject, got[0].Tag)
	}
	if got[1].Tag != "" || got[1].Reason == catalog.ReasonTag {
		t.Errorf("untagged offer got tag reason %q/%q", got[1].Reason, got[1].Tag)
	}

	// A declared category beats a tag-only match in another category.
	declared := open(3, 20, 100)
	p := catalog.Profile{Categories: map[int]bool{20: true}, Tags: map[string]bool{"coffee": true}}
	got = catalog.Rank(rankNow, p, []catalog.Candidate{coffee, declared})
	if !sameOrder(ids(got), []int{3, 2}) {
		t.Fatalf("declared category vs tag only: order %v, want the declared category first", ids(got))
	}
	if got[0].Reason != catalog.ReasonInterest || got[1].Reason != catalog.ReasonTag {
		t.Errorf("reasons %q, %q", got[0].Reason, got[1].Reason)
	}

	// Category and tag both declared: the tag is the more precise reason, and it adds to the score.
	both := catalog.Profile{Categories: map[int]bool{10: true}, Tags: map[string]bool{"coffee": true}}
	got = catalog.Rank(rankNow, both, cands)
	if !sameOrder(ids(got), []int{2, 1}) || got[0].Reason != catalog.ReasonTag || got[1].Reason != catalog.ReasonInterest {
		t.Fatalf("category and tag: order %v, reasons %q, %q", ids(got), got[0].Reason, got[1].Reason)
	}
	if got[0].Score <= got[1].Score {
		t.Errorf("tag match adds nothing: %v vs %v", got[0].Score, got[1].Score)
	}
}
