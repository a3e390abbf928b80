package ui

import (
	"html/template"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/i18n"
	"ikra/app/tags"
	"ikra/app/terms"
	"ikra/ent"
)

// Locale translates message keys into one language; templates call {{.L.T "key"}}.
type Locale struct {
	Lang string
	cat  *i18n.Catalog
}

// T translates key, filling args into its verbs.
func (l Locale) T(key string, args ...any) string { return l.cat.T(l.Lang, key, args...) }

// N translates key in the plural form for count, which fills its first verb; templates
// call {{.L.N "offer.price_bonus" .PriceBonus}}. Count may be any integer type (a
// template passes int and int64 alike); anything else picks the "other" form.
func (l Locale) N(key string, count any, args ...any) string {
	n, ok := i18n.Integer(count)
	if !ok {
		return l.cat.T(l.Lang, key, append([]any{count}, args...)...)
	}
	return l.cat.N(l.Lang, key, n, args...)
}

// Page is the data every template gets: the request's common part, built once here,
// and the screen's own data in Data.
type Page struct {
	L         Locale
	Title     string
	Viewer    *Viewer
	Partner   *PartnerRole
	CSRF      string
	Flash     *Flash
	Path      string
	Demo      bool
	TG        bool // rendered inside the Telegram Mini App
	Languages []string
	Errors    FieldErrors
	Form      map[string]string
	Data      any
	// Body is the page's own template, rendered before its layout (PageViews).
	Body template.HTML
	// TermsNotice lists the new or scheduled terms versions the member is told about
	// (the notice banner on member pages).
	TermsNotice []terms.Stamp
}

// Renderer renders pages with the common data filled in.
type Renderer struct {
	Catalog *i18n.Catalog
	Demo    bool
	Views   Views // renders fragments (Cards)

	cards     memo[cardKey]
	fragments memo[string]
}

// Layouts per workspace.
const (
	LayoutPublic  = "layouts/public"
	LayoutMember  = "layouts/member"
	LayoutPartner = "layouts/partner"
	LayoutAdmin   = "layouts/admin"
)

const keyTermsNotice = "ikra.terms_notice"

// SetTermsNotice puts the terms versions to tell the member about on the request.
func SetTermsNotice(c *fiber.Ctx, notice []terms.Stamp) { c.Locals(keyTermsNotice, notice) }

// Locale is the request's translator, for handlers that prepare text themselves.
func (r *Renderer) Locale(c *fiber.Ctx) Locale { return Locale{Lang: Lang(c), cat: r.Catalog} }

// Page builds the common page data for this request.
func (r *Renderer) Page(c *fiber.Ctx, titleKey string, data any) *Page {
	v := ViewerOf(c)
	p := &Page{
		L:         Locale{Lang: Lang(c), cat: r.Catalog},
		Viewer:    v,
		CSRF:      CSRF(c),
		Flash:     takeFlash(c),
		Path:      c.Path(),
		Demo:      r.Demo,
		TG:        v != nil && v.Channel == "tg",
		Languages: i18n.Languages,
		Data:      data,
	}
	p.TermsNotice, _ = c.Locals(keyTermsNotice).([]terms.Stamp)
	if titleKey != "" {
		p.Title = p.L.T(titleKey)
	} else {
		p.Title = subjectTitle(p.L, data)
	}
	if pr, ok := PartnerOf(c); ok {
		p.Partner = &pr
	}
	return p
}

// subjectTitle titles a page about one thing, rendered without a title key, after
// that thing: an offer by its title, a booking by its code, a member by their name.
// A handler may still set Page.Title itself.
func subjectTitle(l Locale, data any) string {
	m, ok := data.(fiber.Map)
	if !ok {
		return ""
	}
	if o, ok := m["Offer"].(*ent.Offer); ok && o != nil {
		return o.Title
	}
	if b, ok := m["Booking"].(*ent.Booking); ok && b != nil {
		return l.T("partner.booking.title", b.Code)
	}
	if mb, ok := m["Member"].(*ent.Member); ok && mb != nil {
		return strings.TrimSpace(mb.FirstName + " " + mb.LastName)
	}
	return ""
}

// Render renders a template inside a layout with status 200.
func (r *Renderer) Render(c *fiber.Ctx, layout, name, titleKey string, data any) error {
	return c.Render(name, r.Page(c, titleKey, data), layout)
}

// Invalid renders a form page again with field errors and status 422.
func (r *Renderer) Invalid(c *fiber.Ctx, layout, name, titleKey string, data any, errs FieldErrors, form map[string]string) error {
	p := r.Page(c, titleKey, data)
	p.Errors, p.Form = errs, form
	return c.Status(fiber.StatusUnprocessableEntity).Render(name, p, layout)
}

// Duration says how long d is, in the largest two units that matter ("2 h 5 min").
func (l Locale) Duration(d time.Duration) string {
	switch s := int64(d / time.Second); {
	case s < 60:
		return l.T("duration.seconds", max(s, 0))
	case s < 3600:
		return l.T("duration.minutes", s/60)
	case s < 86400:
		return l.T("duration.hours", s/3600, s%3600/60)
	default:
		return l.T("duration.days", s/86400, s%86400/3600)
	}
}

// Name is the name of a category, city or tier (an *ent.Category, *ent.City or *ent.Tier)
// in lang, chosen by i18n.Name; "" for nil or anything else.
func Name(lang string, v any) string {
	switch x := v.(type) {
	case *ent.Category:
		if x != nil {
			return i18n.Name(lang, x.NameRu, x.NameEn, x.NameKk)
		}
	case *ent.City:
		if x != nil {
			return i18n.Name(lang, x.NameRu, x.NameEn, x.NameKk)
		}
	case *ent.Tier:
		if x != nil {
			return i18n.Name(lang, x.NameRu, x.NameEn, x.NameKk)
		}
	}
	return ""
}

// TagName is the name of the catalog tag with this key in this language.
func (l Locale) TagName(key string) string { return l.T(tags.Key(tags.Tag(key))) }

// Name is a category's, city's, tier's or catalog tag's name in this language;
// templates call {{$.L.Name .Edges.City}}.
func (l Locale) Name(v any) string {
	if t, ok := v.(tags.Tag); ok {
		return l.T(tags.Key(t))
	}
	return Name(l.Lang, v)
}
