package ui

import (
	"bytes"
	"html/template"
	"io"
	"strconv"
	"strings"
	"sync"

	"ikra/app/catalog"
	"ikra/ent"
)

// CardView is one catalog card as the template shows it, every text already in the
// viewer's language: rendering a page of cards then reads fields, and never calls
// back into Go for each card (which cost more than the rest of the page).
type CardView struct {
	ID      int
	Locked  bool // a title, the partner and what opens it; no link, image or details
	Title   string
	Partner string
	City    string
	Reason  string // why the card is on the member's page; "" when none
	Image   *ent.OfferMedia
	Tags    []string // kind, cashback, bonus price
}

// Cards prepares cards for the catalog's template.
func (l Locale) Cards(cards []catalog.Card) []CardView {
	out := make([]CardView, 0, len(cards))
	for _, c := range cards {
		v := CardView{ID: c.ID, Locked: c.Locked, Title: c.Title, Partner: c.PartnerName}
		if c.Reason != "" {
			v.Reason = l.T(c.Reason, l.Name(c.ReasonArg))
		}
		if o := c.Offer; o != nil && !c.Locked {
			if o.Edges.Partner != nil {
				v.Partner = o.Edges.Partner.Name
			}
			v.City = l.Name(o.Edges.City)
			if len(o.Edges.Media) > 0 {
				v.Image = o.Edges.Media[0]
			}
			v.Tags = append(make([]string, 0, 3), l.T("kind."+string(o.Kind)))
			if o.CashbackBp != 0 {
				v.Tags = append(v.Tags, l.T("offer.cashback", Percent(o.CashbackBp)))
			}
			if o.PriceBonus != 0 {
				v.Tags = append(v.Tags, l.N("offer.price_bonus", o.PriceBonus))
			}
		}
		out = append(out, v)
	}
	return out
}

// Percent shows basis points as a percentage: 550 → "5,5%".
func Percent(bp int) string {
	s := strconv.Itoa(bp / 100)
	if r := bp % 100; r != 0 {
		s += "," + strings.TrimRight(strconv.Itoa(100 + r)[1:], "0")
	}
	return s + "%"
}

// Option is one choice of a select as the template shows it.
type Option struct {
	Value, Label string
	Selected     bool
}

// Options lists categories or cities (or anything Name names) as choices, the one
// whose ID is selected marked.
func Options[T interface{ *ent.Category | *ent.City }](l Locale, list []T, id func(T) int, selected string) []Option {
	out := make([]Option, len(list))
	for i, x := range list {
		v := strconv.Itoa(id(x))
		out[i] = Option{Value: v, Label: l.Name(x), Selected: v == selected}
	}
	return out
}

// Views renders one template without a layout (Fiber's html engine).
type Views interface {
	Render(out io.Writer, name string, binding any, layout ...string) error
}

// cardKey is everything a card's HTML depends on: equal keys render equal HTML.
type cardKey struct {
	ID                           int
	Locked                       bool
	Title, Partner, City, Reason string
	Image                        string
	Width, Height                int
	Tags                         string
}

func keyOf(v CardView) cardKey {
	k := cardKey{ID: v.ID, Locked: v.Locked, Title: v.Title, Partner: v.Partner, City: v.City, Reason: v.Reason,
		Tags: strings.Join(v.Tags, "\x00")}
	if v.Image != nil {
		k.Image, k.Width, k.Height = v.Image.Key, v.Image.Width, v.Image.Height
	}
	return k
}

// maxCards bounds the rendered cards kept; past it the memo starts over.
const maxCards = 10_000

// cardMemo keeps rendered cards by what they show. A card's HTML is a pure function
// of its CardView, so an entry is never stale: a changed offer makes a new key.
type cardMemo struct {
	mu sync.Mutex
	m  map[cardKey]template.HTML
}

// Cards renders the cards of a catalog page with the partials/card template, each
// distinct card once: a page of cards then costs a lookup per card instead of a
// template run with a dozen escaped fields.
func (r *Renderer) Cards(l Locale, cards []catalog.Card) (template.HTML, error) {
	var b strings.Builder
	for _, v := range l.Cards(cards) {
		k := keyOf(v)
		r.cards.mu.Lock()
		h, ok := r.cards.m[k]
		r.cards.mu.Unlock()
		if !ok {
			var buf bytes.Buffer
			if err := r.Views.Render(&buf, "partials/card", v); err != nil {
				return "", err
			}
			h = template.HTML(buf.String()) //nolint:gosec // rendered by html/template
			r.cards.mu.Lock()
			if r.cards.m == nil || len(r.cards.m) >= maxCards {
				r.cards.m = make(map[cardKey]template.HTML)
			}
			r.cards.m[k] = h
			r.cards.mu.Unlock()
		}
		b.WriteString(string(h))
	}
	return template.HTML(b.String()), nil //nolint:gosec // joined html/template output
}
