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

// cardKey is everything a card's HTML depends on, before translation: equal keys
// render equal HTML.
type cardKey struct {
	Lang                 string
	ID                   int
	Locked               bool
	Title, Partner, City string
	Reason, ReasonArg    string
	Image                string
	Width, Height        int
	Kind                 string
	CashbackBp           int
	PriceBonus           int64
}

func (l Locale) keyOf(c catalog.Card) cardKey {
	k := cardKey{Lang: l.Lang, ID: c.ID, Locked: c.Locked, Title: c.Title, Partner: c.PartnerName, Reason: c.Reason}
	if c.Reason != "" {
		k.ReasonArg = l.Name(c.ReasonArg)
	}
	if o := c.Offer; o != nil && !c.Locked {
		if o.Edges.Partner != nil {
			k.Partner = o.Edges.Partner.Name
		}
		k.City = l.Name(o.Edges.City)
		if len(o.Edges.Media) > 0 {
			k.Image, k.Width, k.Height = o.Edges.Media[0].Key, o.Edges.Media[0].Width, o.Edges.Media[0].Height
		}
		k.Kind, k.CashbackBp, k.PriceBonus = string(o.Kind), o.CashbackBp, o.PriceBonus
	}
	return k
}

// memo keeps rendered HTML by a key that names everything it shows, so an entry is
// never stale (a changed offer or translation makes a new key); past max entries it
// starts over.
type memo[K comparable] struct {
	mu sync.Mutex
	m  map[K]template.HTML
}

// Bounds of the memos: distinct cards, and other fragments.
const (
	maxCards     = 10_000
	maxFragments = 4096
)

// get returns k's HTML, rendering the template name with data() when it is not kept.
func (m *memo[K]) get(r *Renderer, k K, max int, name string, data func() any) (template.HTML, error) {
	m.mu.Lock()
	h, ok := m.m[k]
	m.mu.Unlock()
	if ok {
		return h, nil
	}
	var buf bytes.Buffer
	if err := r.Views.Render(&buf, name, data()); err != nil {
		return "", err
	}
	h = template.HTML(buf.String()) //nolint:gosec // rendered by html/template
	m.mu.Lock()
	if m.m == nil || len(m.m) >= max {
		m.m = make(map[K]template.HTML)
	}
	m.m[k] = h
	m.mu.Unlock()
	return h, nil
}

// Cards renders the cards of a catalog page with the partials/card template, each
// distinct card once: a page of cards then costs a lookup per card instead of a
// template run with a dozen escaped fields.
func (r *Renderer) Cards(l Locale, cards []catalog.Card) (template.HTML, error) {
	var b strings.Builder
	for _, c := range cards {
		h, err := r.cards.get(r, l.keyOf(c), maxCards, "partials/card", func() any { return l.Cards([]catalog.Card{c})[0] })
		if err != nil {
			return "", err
		}
		b.WriteString(string(h))
	}
	return template.HTML(b.String()), nil //nolint:gosec // joined html/template output
}

// Fragment renders the template name with data() once per key: the key must name
// everything the fragment shows (a filter bar: the language, the choices and what is
// selected).
func (r *Renderer) Fragment(name, key string, data func() any) (template.HTML, error) {
	return r.fragments.get(r, name+"\x00"+key, maxFragments, name, data)
}

// FilterBar is the catalog's filter bar as partials/catalog_filter shows it.
type FilterBar struct {
	L                        Locale
	Form                     map[string]string
	Categories, Cities, Kind []Option
	Filtered                 bool
}

// Key names everything the bar shows, for Fragment.
func (f FilterBar) Key() string {
	var b strings.Builder
	b.WriteString(f.L.Lang)
	for _, k := range []string{"q", "category", "city", "kind", "bonus", "available"} {
		b.WriteString("\x00")
		b.WriteString(f.Form[k])
	}
	for _, list := range [][]Option{f.Categories, f.Cities, f.Kind} {
		b.WriteString("\x01")
		for _, o := range list {
			b.WriteString(o.Value)
			b.WriteString("\x02")
			b.WriteString(o.Label)
		}
	}
	if f.Filtered {
		b.WriteString("\x03")
	}
	return b.String()
}
