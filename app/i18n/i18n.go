// Package i18n holds the interface's message catalogs (Russian by default, English, and
// Kazakh where translated) and picks a language for a request.
//
// The catalogs are flat JSON files, one per language, mapping a key to its text. A text
// that depends on a number is an object of CLDR plural categories instead, e.g.
//
//	"bonus.count": {"one": "%s бонус", "few": "%s бонуса", "many": "%s бонусов", "other": "%s бонуса"}
//
// The files are read by go-i18n, whose CLDR rules pick the category for a number: Russian
// has one/few/many/other, English one/other, Kazakh one/other. Texts take printf verbs
// (%s, %d, and %[2]s to reorder); in a plural text the number is the first argument.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed *.json
var catalogs embed.FS

// Default is the language used when nothing better is known.
const Default = "ru"

// Languages are the supported interface languages, in the order offered to users.
var Languages = []string{"ru", "en", "kk"}

// Catalog maps message keys to text per language.
type Catalog struct {
	msgs map[string]map[string]*goi18n.Message
	// loc selects plural forms; one per language, each bound to that language only, so
	// the rules of the language a text was found in are the ones applied.
	loc map[string]*goi18n.Localizer
}

// Load reads the embedded catalogs.
func Load() (*Catalog, error) {
	bundle := goi18n.NewBundle(language.MustParse(Default))
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	c := &Catalog{msgs: map[string]map[string]*goi18n.Message{}, loc: map[string]*goi18n.Localizer{}}
	for _, lang := range Languages {
		b, err := catalogs.ReadFile(lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", lang, err)
		}
		f, err := bundle.ParseMessageFileBytes(b, lang+".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", lang, err)
		}
		m := make(map[string]*goi18n.Message, len(f.Messages))
		for _, msg := range f.Messages {
			if msg.Other == "" {
				return nil, fmt.Errorf("i18n: %s: %q has no \"other\" form", lang, msg.ID)
			}
			m[msg.ID] = msg
		}
		c.msgs[lang] = m
		c.loc[lang] = goi18n.NewLocalizer(bundle, lang)
	}
	return c, nil
}

// lookup finds key in lang, falling back to Russian; it returns the language it was
// found in.
func (c *Catalog) lookup(lang, key string) (*goi18n.Message, string) {
	if msg, ok := c.msgs[lang][key]; ok {
		return msg, lang
	}
	if msg, ok := c.msgs[Default][key]; ok {
		return msg, Default
	}
	return nil, ""
}

// T translates key into lang, falling back to Russian, then to the key itself.
// Args fill the printf verbs of the message. For a message with plural forms, a first
// argument that is an integer is the count (as with N); otherwise the "other" form is used.
func (c *Catalog) T(lang, key string, args ...any) string {
	msg, _ := c.lookup(lang, key)
	if msg == nil {
		return key
	}
	if plural(msg) && len(args) > 0 {
		if n, ok := Integer(args[0]); ok {
			return c.N(lang, key, n, args[1:]...)
		}
	}
	return format(msg.Other, args)
}

// N translates key into lang in the plural form CLDR gives count in that language, and
// fills the count (digits grouped, as the interface shows numbers) into the first verb
// and args into the rest. A message without plural forms is used as it is.
func (c *Catalog) N(lang, key string, count int64, args ...any) string {
	msg, found := c.lookup(lang, key)
	if msg == nil {
		return key
	}
	all := append([]any{Count(count)}, args...)
	if !plural(msg) {
		return format(msg.Other, all)
	}
	abs := count
	if abs < 0 {
		abs = -abs
	}
	return format(pluralText(found, msg, abs), all)
}

// pluralText is msg's form for the whole number n ≥ 0 in lang, by CLDR's integer rules
// (what go-i18n's Localize picks, TestPluralTextAgreesWithGoI18n, without its cost on
// every call): Russian one (1, 21, 31… but not 11), few (2–4, 22–24… but not 12–14),
// many (the rest); English and Kazakh one (1) and other. A missing form is "other".
func pluralText(lang string, msg *goi18n.Message, n int64) string {
	text := ""
	switch lang {
	case "ru":
		d, h := n%10, n%100
		switch {
		case d == 1 && h != 11:
			text = msg.One
		case d >= 2 && d <= 4 && (h < 12 || h > 14):
			text = msg.Few
		default:
			text = msg.Many
		}
	default:
		if n == 1 {
			text = msg.One
		}
	}
	if text == "" {
		text = msg.Other
	}
	return text
}

// plural reports whether msg has forms other than "other".
func plural(msg *goi18n.Message) bool {
	return msg.Zero != "" || msg.One != "" || msg.Two != "" || msg.Few != "" || msg.Many != ""
}

// format fills args into text's verbs; a text without verbs is returned as it is, so a
// plural word ("бонусов") can be chosen by a count it does not show.
func format(text string, args []any) string {
	if len(args) == 0 || !strings.Contains(text, "%") {
		return text
	}
	return fmt.Sprintf(text, args...)
}

// Count is a number shown to a person: digits grouped by threes with a narrow no-break
// space, and a real minus sign. It prints so under %d, %s and %v.
type Count int64

// String formats n, e.g. 1500000 → "1 500 000".
func (n Count) String() string {
	v := int64(n)
	neg := v < 0
	s := strconv.FormatInt(v, 10)
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteString("−")
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Format implements fmt.Formatter, so that %d prints the grouped form too.
func (n Count) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(n.String())) }

// Integer returns v as an int64 when it is any Go integer (or a Count).
func Integer(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint:
		return int64(n), true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		return int64(n), true
	case Count:
		return int64(n), true
	}
	return 0, false
}

// Has reports whether lang's own catalog has key (used by tests to find gaps).
func (c *Catalog) Has(lang, key string) bool {
	_, ok := c.msgs[lang][key]
	return ok
}

// Keys lists the keys of lang's catalog.
func (c *Catalog) Keys(lang string) []string {
	keys := make([]string, 0, len(c.msgs[lang]))
	for k := range c.msgs[lang] {
		keys = append(keys, k)
	}
	return keys
}

// Supported returns lang if it is supported, or "" otherwise. A regional tag such as
// "en-US" counts as its base language.
func Supported(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i > 0 {
		lang = lang[:i]
	}
	for _, l := range Languages {
		if l == lang {
			return l
		}
	}
	return ""
}

// FromAcceptLanguage picks the first supported language of an Accept-Language header.
func FromAcceptLanguage(h string) string {
	for _, part := range strings.Split(h, ",") {
		tag, _, _ := strings.Cut(part, ";")
		if l := Supported(tag); l != "" {
			return l
		}
	}
	return ""
}

// Name picks the name of a category, city or tier in lang from its Russian, English and
// Kazakh names: the one lang asks for when it is filled in, the Russian one otherwise.
// Every page and message that shows such a name goes through here, so none mixes
// languages by choosing differently.
func Name(lang, ru, en, kk string) string {
	switch lang {
	case "en":
		if en != "" {
			return en
		}
	case "kk":
		if kk != "" {
			return kk
		}
	}
	return ru
}
