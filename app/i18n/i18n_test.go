package i18n

import (
	"testing"
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
		// kk has no such text: Russian is used, with Russian rules.
		{"kk", "app.status.to_next", []any{int64(3), "Gold"}, "Ещё 3 бонуса — и статус Gold"},
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
	if got := c.T("kk", "app.bonuses.title"); got != "Бонусы" {
		t.Errorf("kk fallback: %q", got)
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

// Every Russian plural text has the three forms whole numbers need, and every English
// one the singular; the keys of ru and en are the same (see also web's TestLanguage).
func TestPluralCatalogsComplete(t *testing.T) {
	c := load(t)
	for key, m := range c.msgs["ru"] {
		if plural(m) && (m.One == "" || m.Few == "" || m.Many == "") {
			t.Errorf("ru %q lacks one/few/many", key)
		}
		en := c.msgs["en"][key]
		if en == nil {
			t.Errorf("en lacks %q", key)
			continue
		}
		if plural(m) && plural(en) && en.One == "" {
			t.Errorf("en %q lacks one", key)
		}
	}
	for key := range c.msgs["en"] {
		if !c.Has("ru", key) {
			t.Errorf("ru lacks %q", key)
		}
	}
}
