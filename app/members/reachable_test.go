package members_test

import (
	"context"
	"testing"
	"time"

	"ikra/app/members"
)

// TestReachableAgain: a member whose chat Telegram refused (they blocked the bot) is
// reachable again once they write to the bot or sign in from the bot or the Mini App;
// a sign-in on the website does not show that the bot may write to them.
func TestReachableAgain(t *testing.T) {
	tests := []struct {
		name  string
		act   func(s *members.Service, tgID int64) error
		clear bool
	}{
		{"writes to the bot", func(s *members.Service, tgID int64) error {
			_, err := s.ByTelegramID(context.Background(), tgID)
			return err
		}, true},
		{"signs in through the Mini App", signInBy("tg"), true},
		{"presses /start", signInBy("bot"), true},
		{"signs in on the website", signInBy("web"), false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			a := newAccountDB(t)
			tgID := int64(9100 + i)
			m := a.signIn(t, tgID, "Ann")
			must(t, a.db.Member.UpdateOneID(m.ID).SetTelegramUnreachableAt(time.Now()).Exec(ctx))
			must(t, tt.act(a.service(a.db), tgID))
			got := a.db.Member.GetX(ctx, m.ID)
			if cleared := got.TelegramUnreachableAt == nil; cleared != tt.clear {
				t.Errorf("unreachable flag cleared %v, want %v", cleared, tt.clear)
			}
		})
	}
}

func signInBy(channel string) func(*members.Service, int64) error {
	return func(s *members.Service, tgID int64) error {
		_, _, err := s.SignIn(context.Background(), members.Identity{TelegramID: tgID, FirstName: "Ann"}, channel, "")
		return err
	}
}
