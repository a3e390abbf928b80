// Package i18n holds the interface's message catalogs (Russian by default, English, and
// Kazakh where translated) and picks a language for a request.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed *.json
var catalogs embed.FS

// Default is the language used when nothing better is known.
const Default = "ru"

// Languages are the supported interface languages, in the order offered to users.
var Languages = []string{"ru", "en", "kk"}

// Catalog maps message keys to text per language.
type Catalog struct {
	msgs map[string]map[string]string
}

// Load reads the embedded catalogs.
func Load() (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]string{}}
	for _, lang := range Languages {
		b, err := catalogs.ReadFile(lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", lang, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", lang, err)
		}
		c.msgs[lang] = m
	}
	return c, nil
}

// T translates key into lang, falling back to Russian, then to the key itself.
// Args fill %s/%d verbs in the message.
func (c *Catalog) T(lang, key string, args ...any) string {
	msg, ok := c.msgs[lang][key]
	if !ok {
		if msg, ok = c.msgs[Default][key]; !ok {
			msg = key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
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
