package members_test

import (
	"context"
	"testing"

	"ikra/app/members"
)

// The Telegram client's language picks the interface language at the first sign-in:
// Kazakh, Russian or English (a regional tag counts as its language), Russian for any
// other. Later sign-ins keep what the member has, which they may have changed since.
func TestSignInLanguageFromTelegram(t *testing.T) {
	a := newAccountDB(t)
	s := a.service(a.db)
	ctx := context.Background()
	for i, tt := range []struct{ code, want string }{
		{"kk", "kk"},
		{"kk-KZ", "kk"},
		{"ru", "ru"},
		{"en", "en"},
		{"en-GB", "en"},
		{"uk", "ru"},
		{"de", "ru"},
		{"", "ru"},
	} {
		id := members.Identity{TelegramID: int64(8_100_000 + i), FirstName: "Айгерим", Language: tt.code}
		m, created, err := s.SignIn(ctx, id, "tg", "")
		must(t, err)
		if !created || m.Language != tt.want {
			t.Errorf("first sign-in with %q: language %q (created %v), want %q", tt.code, m.Language, created, tt.want)
		}
	}

	id := members.Identity{TelegramID: 8_100_000, FirstName: "Айгерим", Language: "kk"}
	m, _, err := s.SignIn(ctx, id, "tg", "")
	must(t, err)
	must(t, s.SetLanguage(ctx, m.ID, "ru"))
	id.Language = "en"
	m, created, err := s.SignIn(ctx, id, "tg", "")
	must(t, err)
	if created || m.Language != "ru" {
		t.Errorf("a later sign-in changed the member's choice: %q (created %v)", m.Language, created)
	}
}
