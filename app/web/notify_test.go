package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"ikra/app/apptest"
	"ikra/ent/member"
	"ikra/ent/notification"
)

// A new member is greeted in the cabinet and, through the job worker, in Telegram.
func TestWelcomeNotificationDelivered(t *testing.T) {
	api := newFakeBotAPI(t)
	env := apptest.New(t, apptest.WithEnv("TELEGRAM_API_URL", api.srv.URL))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = env.App.RunWorker(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	c := env.Client()
	c.SignIn(4501, "Гульнара")
	page := c.Get("/app/notifications")
	if !strings.Contains(page.Body, "Добро пожаловать в ИКРА") {
		t.Fatalf("no welcome in the cabinet: %s", page.Body)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		n, err := env.App.DB.Notification.Query().
			Where(notification.HasMemberWith(member.TelegramID(4501)), notification.TelegramSentAtNotNil()).Count(ctx)
		apptest.Must(t, err)
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the welcome was not delivered to Telegram")
		}
		time.Sleep(50 * time.Millisecond)
	}
	call := api.last()
	if call["chat_id"] != "4501" || !strings.Contains(call["text"].(string), "Добро пожаловать") {
		t.Fatalf("sent %v", call)
	}
	// Signing in again greets nobody twice.
	c.SignIn(4501, "Гульнара")
	if n, _ := env.App.DB.Notification.Query().Where(notification.HasMemberWith(member.TelegramID(4501))).Count(ctx); n != 1 {
		t.Fatalf("%d notifications", n)
	}
}
