package i18n

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

func load(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Russian has three forms for whole numbers (CLDR one/few/many), chosen by the last
// one or two digits; English two; Kazakh does not change the noun after a number.
func TestPluralForms(t *testing.T) {
	c := load(t)
	for _, tt := range []struct {
		lang  string
		count int64
		want  string
	}{
		{"ru", 0, "0 бонусов"},
		{"ru", 1, "1 бонус"},
		{"ru", 2, "2 бонуса"},
		{"ru", 4, "4 бонуса"},
		{"ru", 5, "5 бонусов"},
		{"ru", 11, "11 бонусов"},
		{"ru", 12, "12 бонусов"},
		{"ru", 14, "14 бонусов"},
		{"ru", 21, "21 бонус"},
		{"ru", 22, "22 бонуса"},
		{"ru", 25, "25 бонусов"},
		{"ru", 111, "111 бонусов"},
		{"ru", 101, "101 бонус"},
		{"ru", 1500, "1\u202f500 бонусов"},
		{"ru", 3001, "3\u202f001 бонус"},
		{"ru", -2, "−2 бонуса"},
		{"en", 1, "1 bonus"},
		{"en", 2, "2 bonuses"},
		{"en", 0, "0 bonuses"},
		{"en", 21, "21 bonuses"},
		{"kk", 1, "1 бонус"},
		{"kk", 2, "2 бонус"},
		{"kk", 5, "5 бонус"},
	} {
		if got := c.N(tt.lang, "offer.price_bonus", tt.count); got != tt.want {
			t.Errorf("N(%s, %d) = %q, want %q", tt.lang, tt.count, got, tt.want)
		}
	}
}

// Callers that pass the count to T as its first argument get the plural form too, with
// the other arguments after it; explicit indexes let a text put the count anywhere.
func TestPluralThroughT(t *testing.T) {
	c := load(t)
	for _, tt := range []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"ru", "notify.annul.body", []any{int64(1), "ошибка"}, "Аннулирован 1 бонус. Причина: ошибка."},
		{"ru", "notify.annul.body", []any{int64(2), "ошибка"}, "Аннулировано 2 бонуса. Причина: ошибка."},
		{"ru", "notify.annul.body", []any{int64(5), "ошибка"}, "Аннулировано 5 бонусов. Причина: ошибка."},
		{"en", "notify.annul.body", []any{1, "fraud"}, "1 bonus was annulled. Reason: fraud."},
		{"en", "notify.annul.body", []any{2, "fraud"}, "2 bonuses were annulled. Reason: fraud."},
		{"ru", "app.status.buy_confirm", []any{int64(21), "Gold"}, "Купить статус Gold за 21 бонус?"},
		{"en", "app.status.buy_confirm", []any{int64(3), "Gold"}, "Buy the Gold status for 3 bonuses?"},
		{"ru", "rules.cashback_pending", []any{14}, "Кэшбэк ждёт 14 дней после сделки"},
		{"ru", "rules.cashback_pending", []any{1}, "Кэшбэк ждёт 1 день после сделки"},
		{"kk", "app.status.to_next", []any{int64(3), "Gold"}, "Тағы 3 бонус — және Gold мәртебесі"},
		{"kk", "app.status.buy_confirm", []any{int64(1), "Gold"}, "Gold мәртебесін 1 бонусқа"},
	} {
		got := c.T(tt.lang, tt.key, tt.args...)
		if len(got) < len(tt.want) || got[:len(tt.want)] != tt.want {
			t.Errorf("T(%s, %s, %v) = %q, want prefix %q", tt.lang, tt.key, tt.args, got, tt.want)
		}
	}
	// A word chosen by a count it does not show.
	if got := c.N("ru", "admin.stat.members", 3); got != "участника" {
		t.Errorf("members label for 3: %q", got)
	}
	if got := c.N("ru", "admin.stat.members", 11); got != "участников" {
		t.Errorf("members label for 11: %q", got)
	}
}

// Texts without plural forms behave as before: printf arguments, Russian fallback, the
// key itself when nothing has it.
func TestPlainTexts(t *testing.T) {
	c := load(t)
	if got := c.T("ru", "app.home.hello", "Айгерим"); got != "Здравствуйте, Айгерим!" {
		t.Errorf("hello: %q", got)
	}
	if got := c.T("kk", "app.home.hello", "Айгерим"); got != "Сәлеметсіз бе, Айгерим!" {
		t.Errorf("kk hello: %q", got)
	}
	if got := c.T("kk", "app.bonuses.title"); got != "Бонустар" {
		t.Errorf("kk bonuses: %q", got)
	}
	if got := c.T("en", "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key: %q", got)
	}
	if got := c.T("en", "offer.price_bonus"); got != "%s bonuses" {
		t.Errorf("plural text without a count gives the other form: %q", got)
	}
	if got := c.N("en", "app.bonuses.title", 5); got != "Bonuses" {
		t.Errorf("N on a plain text: %q", got)
	}
}

// pluralForms are the CLDR categories whole numbers need in each language: Russian
// one/few/many (and other for fractions), English and Kazakh one/other.
var pluralForms = map[string][]string{
	"ru": {"one", "few", "many", "other"},
	"en": {"one", "other"},
	"kk": {"one", "other"},
}

// forms returns the texts of msg by CLDR category.
func forms(msg *goi18n.Message) map[string]string {
	m := map[string]string{}
	for cat, text := range map[string]string{"zero": msg.Zero, "one": msg.One, "two": msg.Two,
		"few": msg.Few, "many": msg.Many, "other": msg.Other} {
		if text != "" {
			m[cat] = text
		}
	}
	return m
}

// verbs lists the printf arguments text uses, as "index:verb" in argument order, so
// that "%s … %s" and "%[2]s … %[1]s" compare equal only when they fill the same
// arguments with the same verbs. An unindexed verb takes the argument after the last
// one used, as in fmt.
func verbs(text string) []string {
	var out []string
	next := 1
	for i := 0; i < len(text); i++ {
		if text[i] != '%' {
			continue
		}
		i++
		if i < len(text) && text[i] == '%' {
			continue
		}
		arg := next
		if i < len(text) && text[i] == '[' {
			end := strings.IndexByte(text[i:], ']')
			if end < 0 {
				out = append(out, "bad:"+text[i:])
				break
			}
			n, err := strconv.Atoi(text[i+1 : i+end])
			if err != nil {
				out = append(out, "bad:"+text[i:i+end+1])
			}
			arg = n
			i += end + 1
		}
		for i < len(text) && strings.IndexByte("+-#0123456789.", text[i]) >= 0 {
			i++
		}
		// A percent sign not followed by a verb letter is text ("10%", "% от").
		if i < len(text) && ('a' <= text[i] && text[i] <= 'z' || 'A' <= text[i] && text[i] <= 'Z') {
			out = append(out, fmt.Sprintf("%d:%c", arg, text[i]))
			next = arg + 1
		}
	}
	sort.Strings(out)
	return out
}

func TestVerbs(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{"%s бонус", "1:s"},
		{"Ещё %s бонус — и статус %s", "1:s 2:s"},
		{"%[2]s мәртебесін %[1]s бонусқа", "1:s 2:s"},
		{"%s бонус на %d дн.", "1:s 2:d"},
		{"%d күнге %s бонус", "1:d 2:s"},
		{"10%% от %s", "1:s"},
		{"без глаголов", ""},
		{"Доля, % от кэшбэка", ""},
		{"От 0 до 50%", ""},
		{"0-ден 50%-ға дейін", ""},
	} {
		if got := strings.Join(verbs(tt.text), " "); got != tt.want {
			t.Errorf("verbs(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// Every language has every Russian key, with the same printf arguments in every form,
// and every plural text has the categories its language needs; no language has a key
// Russian lacks.
func TestCatalogsComplete(t *testing.T) {
	c := load(t)
	for _, lang := range Languages {
		need, ok := pluralForms[lang]
		if !ok {
			t.Errorf("%s: no plural categories listed for it in pluralForms", lang)
			continue
		}
		for key, ru := range c.msgs[Default] {
			msg := c.msgs[lang][key]
			if msg == nil {
				t.Errorf("%s lacks %q", lang, key)
				continue
			}
			want := strings.Join(verbs(ru.Other), " ")
			for cat, text := range forms(msg) {
				if got := strings.Join(verbs(text), " "); got != want {
					t.Errorf("%s %q (%s): arguments %q, ru has %q", lang, key, cat, got, want)
				}
			}
			if !plural(ru) {
				if plural(msg) {
					t.Errorf("%s %q has plural forms, ru has none", lang, key)
				}
				continue
			}
			if !plural(msg) {
				continue // one text for every number, as English "invited"
			}
			have := forms(msg)
			for _, cat := range need {
				if have[cat] == "" {
					t.Errorf("%s %q lacks the %q form", lang, key, cat)
				}
			}
		}
		for key := range c.msgs[lang] {
			if !c.Has(Default, key) {
				t.Errorf("ru lacks %q, which %s has", key, lang)
			}
		}
	}
}

// A category, city or tier shows its name in the page's language, or the Russian one
// when that is not filled in.
func TestName(t *testing.T) {
	for _, tt := range []struct{ lang, en, kk, want string }{
		{"ru", "Restaurants", "Мейрамханалар", "Рестораны"},
		{"en", "Restaurants", "Мейрамханалар", "Restaurants"},
		{"kk", "Restaurants", "Мейрамханалар", "Мейрамханалар"},
		{"kk", "Restaurants", "", "Рестораны"},
		{"en", "", "Мейрамханалар", "Рестораны"},
		{"de", "Restaurants", "Мейрамханалар", "Рестораны"},
	} {
		if got := Name(tt.lang, "Рестораны", tt.en, tt.kk); got != tt.want {
			t.Errorf("Name(%s, en %q, kk %q) = %q, want %q", tt.lang, tt.en, tt.kk, got, tt.want)
		}
	}
}

// sameInKazakh are the texts Kazakh writes as Russian does: loanwords and names.
var sameInKazakh = map[string]bool{
	"Модерация": true, "Платформа": true, "Каталог": true, "Профиль": true, "кэшбэк": true, "Кэшбэк": true,
	"кэшбэк %s": true, "Код": true, "бот": true, "сайт": true, "Қазақша": true, "Русский": true,
	"Бэк-офис": true, "Кабинет": true, "кассир": true, "менеджер": true, "модератор": true, "суперадмин": true,
	"%s бонус": true, "Йога": true,
}

// A Kazakh text that reads exactly as the Russian one is a text left untranslated,
// unless it is one of the words both languages share.
func TestKazakhTranslated(t *testing.T) {
	c := load(t)
	for key, ru := range c.msgs[Default] {
		kk := c.msgs["kk"][key]
		if kk == nil {
			continue // TestCatalogsComplete reports it
		}
		for cat, text := range forms(kk) {
			if text == forms(ru)[cat] && strings.ContainsFunc(text, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }) &&
				!sameInKazakh[text] {
				t.Errorf("kk %q (%s) is the Russian text %q", key, cat, text)
			}
		}
	}
}
