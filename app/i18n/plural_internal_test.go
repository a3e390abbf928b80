package i18n

import (
	"testing"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// pluralText picks the form go-i18n's CLDR rules pick, for every plural message of
// every catalog and counts across the rules' boundaries.
func TestPluralTextAgreesWithGoI18n(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	counts := []int64{1_000_000, 1_000_001, 1_000_002, 1_000_011, 1_000_021, 1_000_112, 9_223_372_036_854_775_807}
	for n := int64(0); n <= 250; n++ {
		counts = append(counts, n)
	}
	checked := 0
	for _, lang := range Languages {
		for key, msg := range c.msgs[lang] {
			if !plural(msg) {
				continue
			}
			checked++
			for _, n := range counts {
				want, err := c.loc[lang].Localize(&goi18n.LocalizeConfig{MessageID: key, PluralCount: n})
				if err != nil || want == "" {
					want = msg.Other
				}
				if got := pluralText(lang, msg, n); got != want {
					t.Fatalf("%s %s for %d: %q, go-i18n picks %q", lang, key, n, got, want)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no plural message checked")
	}
}
