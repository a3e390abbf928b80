package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hibiken/asynq"

	"ikra/app/i18n"
	"ikra/app/notify"
	"ikra/app/tgapi"
	"ikra/ent"
	"ikra/ent/member"
)

// TypeDeliverNotification sends a stored notification to the member's Telegram chat.
const TypeDeliverNotification = "notification:deliver"

// DeliverNotification is the payload of TypeDeliverNotification.
type DeliverNotification struct {
	NotificationID int `json:"notification_id"`
}

// NewDeliverNotification returns the delivery task of a notification. Its ID is
// "notify:<id>", so enqueuing it while an earlier one is still queued, running or
// retrying is a no-op; it is retried up to 10 times.
func NewDeliverNotification(notificationID int) *asynq.Task {
	payload, _ := json.Marshal(DeliverNotification{NotificationID: notificationID}) // cannot fail
	return asynq.NewTask(TypeDeliverNotification, payload,
		asynq.TaskID("notify:"+strconv.Itoa(notificationID)),
		asynq.MaxRetry(notify.MaxAttempts),
		asynq.Timeout(time.Minute),
	)
}

// maxBodyRunes keeps a message under Telegram's 4096-character limit with the title.
const maxBodyRunes = 3500

type deliverNotification struct {
	notify  *notify.Service
	bot     Sender
	catalog *i18n.Catalog
	baseURL string
	buttons func(n *ent.Notification, lang string) [][]tgapi.Button
	log     *slog.Logger
	// markTimeout bounds recording the outcome, which runs even when the task's own
	// context has ended: a sent message must be recorded as sent.
	markTimeout time.Duration
}

// ProcessTask sends the notification once. Whether it was sent is kept on the row
// (telegram_sent_at), so running the task again, by a retry after a worker died or by
// a duplicate enqueue, sends nothing more.
func (h *deliverNotification) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p DeliverNotification
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.NotificationID <= 0 {
		return fmt.Errorf("%s: bad payload: %w", t.Type(), asynq.SkipRetry)
	}
	id := p.NotificationID
	n, err := h.notify.ForDelivery(ctx, id)
	if errors.Is(err, notify.ErrNotFound) {
		h.log.Info("notification gone before delivery", "notification_id", id)
		return nil
	}
	if err != nil {
		return err
	}
	m := n.Edges.Member
	switch {
	case n.TelegramSentAt != nil:
		return nil
	case h.bot == nil, m == nil, m.TelegramID == nil, m.Status != member.StatusActive:
		// Telegram is off or the member cannot be reached there: the cabinet shows it.
		return nil
	}
	if ok, err := h.notify.BeginAttempt(ctx, id); err != nil || !ok {
		return err
	}

	text, opts := h.message(n, m.Language)
	sendErr := h.bot.SendMessage(ctx, *m.TelegramID, text, opts)

	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.markTimeout)
	defer cancel()
	if sendErr == nil {
		if err := h.markSent(rec, id); err != nil {
			// Telegram has the message; retrying the task would send it again.
			h.log.Error("notification sent but not recorded", "notification_id", id, "err", err)
			return fmt.Errorf("deliver notification %d: sent, not recorded: %w (%w)", id, err, asynq.SkipRetry)
		}
		h.log.Debug("notification delivered", "notification_id", id, "member_id", m.ID)
		return nil
	}
	permanent := tgapi.IsPermanent(sendErr)
	if err := h.notify.MarkFailed(rec, id, sendErr.Error(), permanent); err != nil {
		h.log.Warn("delivery failure not recorded", "notification_id", id, "err", err)
	}
	h.log.Warn("notification not delivered", "notification_id", id, "member_id", m.ID,
		"attempt", n.TelegramAttempts+1, "permanent", permanent, "err", sendErr)
	if permanent {
		return fmt.Errorf("deliver notification %d: %w (%w)", id, sendErr, asynq.SkipRetry)
	}
	return fmt.Errorf("deliver notification %d: %w", id, sendErr)
}

// markSent records the delivery, trying a few times: a failure here means a duplicate
// message later.
func (h *deliverNotification) markSent(ctx context.Context, id int) error {
	var err error
	for wait := 100 * time.Millisecond; ; wait *= 4 {
		if _, err = h.notify.MarkSent(ctx, id); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// message renders n as Telegram HTML: the title in bold, a blank line, the body, and a
// button to the link. Telegram refuses buttons to addresses it cannot open (localhost,
// plain http), so the button is added only for an https link.
func (h *deliverNotification) message(n *ent.Notification, lang string) (string, tgapi.SendOptions) {
	title := html.EscapeString(strings.TrimSpace(n.Title))
	body := html.EscapeString(clipRunes(strings.TrimSpace(n.Body), maxBodyRunes))
	var text string
	switch {
	case title == "":
		text = body
	case body == "":
		text = "<b>" + title + "</b>"
	default:
		text = "<b>" + title + "</b>\n\n" + body
	}
	opts := tgapi.SendOptions{ParseMode: tgapi.ParseHTML}
	if link := absoluteURL(h.baseURL, n.Link); strings.HasPrefix(link, "https://") {
		opts.ButtonText, opts.ButtonURL = h.catalog.T(lang, "app.notifications.open"), link
	}
	if h.buttons != nil {
		opts.Keyboard = h.buttons(n, lang)
	}
	return text, opts
}

// absoluteURL resolves a site path against base; an absolute link is kept as it is.
func absoluteURL(base, link string) string {
	link = strings.TrimSpace(link)
	switch {
	case link == "":
		return ""
	case strings.HasPrefix(link, "https://"), strings.HasPrefix(link, "http://"):
		return link
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(link, "/")
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
