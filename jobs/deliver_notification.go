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
	"ikra/app/metrics"
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

const (
	// sendTimeout bounds one sendMessage call, which a stopping worker does not
	// abort: an answer cut off midway would leave the delivery in doubt.
	sendTimeout = 30 * time.Second
	// inDoubtAfter is how long after an attempt began its outcome must have been
	// recorded (waiting for the limits, the send, then recording it take less); an
	// attempt older than that without an outcome was cut off by a worker that stopped.
	inDoubtAfter = 2 * time.Minute
)

type deliverNotification struct {
	notify  *notify.Service
	bot     Sender
	catalog *i18n.Catalog
	baseURL string
	buttons func(n *ent.Notification, lang string) [][]tgapi.Button
	log     *slog.Logger
	pacer   *pacer
	// markTimeout bounds recording the outcome, which runs even when the task's own
	// context has ended: a sent message must be recorded as sent.
	markTimeout time.Duration
	// sendTimeout bounds a send; zero means no bound beyond the Bot API client's.
	sendTimeout time.Duration
	// inDoubtAfter is when an attempt without an outcome is taken for cut off.
	inDoubtAfter time.Duration
	now          func() time.Time
	// metrics counts the outcomes in ikra_notifications_delivered_total; nil counts none.
	metrics *metrics.Metrics
}

// Outcomes of a delivery run (ikra_notifications_delivered_total's result label).
const (
	deliverySent        = "sent"        // Telegram accepted the message
	deliveryFailed      = "failed"      // a temporary failure: retried
	deliveryRejected    = "rejected"    // a permanent failure (400): not retried
	deliveryUnreachable = "unreachable" // the member blocked the bot (403), now or before
	deliveryInDoubt     = "in_doubt"    // a worker stopped mid-send: given up, not sent twice
	deliveryDeferred    = "deferred"    // waits for the rate limits or for an attempt in flight
)

func (h *deliverNotification) count(result string) { h.metrics.Notification("telegram", result) }

// ProcessTask sends the notification at most once and, unless a worker stops in the
// middle of sending it, exactly once.
//
// Whether it was sent is kept on the row (telegram_sent_at), so running the task
// again, by a retry or by a duplicate enqueue, sends nothing more. Each attempt is
// noted on the row before the message leaves (telegram_attempt_at) and its outcome
// after Telegram answers, in one update with telegram_sent_at. A run that finds an
// attempt without an outcome does not send: while the attempt is recent it may still
// be running (another run of the task, after asynq took its worker for dead), and
// once it is older than inDoubtAfter its worker stopped between noting it and
// recording the outcome. Telegram may or may not have the message then, and the Bot
// API has no way to ask, so the notification is given up as in doubt (telegram_error
// "permanent: delivery in doubt ...", logged as an error) rather than risk a second
// copy; the cabinet still shows it. The message is lost to Telegram only when the
// worker stopped after noting the attempt and before Telegram received the request
// (while it waited for the rate limits, at most about a second, or sent).
//
// A send that fails without an answer (a timeout, a connection cut) is retried like any
// temporary failure: if Telegram did accept it and the answer was lost, the retry is a
// second copy. That is the one way left to send twice.
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
	case n.TelegramSentAt != nil, notify.GivenUp(n):
		return nil
	case h.bot == nil, m == nil, m.TelegramID == nil, m.Status != member.StatusActive:
		// Telegram is off or the member cannot be reached there: the cabinet shows it.
		return nil
	case m.TelegramUnreachableAt != nil:
		// The member blocked the bot: not attempted, and not later either (when they
		// come back, an old notification would be news no more).
		h.log.Info("notification not sent: chat unreachable", "notification_id", id, "member_id", m.ID)
		h.count(deliveryUnreachable)
		return h.notify.MarkFailed(ctx, id, "member's Telegram chat unreachable", true)
	case n.TelegramAttemptAt != nil:
		return h.inDoubt(ctx, n)
	}
	if ok, err := h.notify.BeginAttempt(ctx, id); err != nil || !ok {
		// !ok: sent or begun by another run meanwhile, which records its outcome (and
		// the sweep enqueues the notification again if that outcome is a failure).
		return err
	}
	// The limits are taken just before the send, so that messages leave as far apart
	// as the limits admit them.
	if err := h.pacer.wait(ctx, *m.TelegramID); err != nil {
		h.count(deliveryDeferred)
		rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.markTimeout)
		defer cancel()
		if cerr := h.record(rec, func(ctx context.Context) error { return h.notify.CancelAttempt(ctx, id) }); cerr != nil {
			h.log.Warn("postponed delivery attempt not taken back", "notification_id", id, "err", cerr)
		}
		return err
	}

	text, opts := h.message(n, m.Language)
	sendCtx, cancelSend := context.WithoutCancel(ctx), context.CancelFunc(func() {})
	if h.sendTimeout > 0 {
		sendCtx, cancelSend = context.WithTimeout(sendCtx, h.sendTimeout)
	}
	sendErr := h.bot.SendMessage(sendCtx, *m.TelegramID, text, opts)
	cancelSend()

	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.markTimeout)
	defer cancel()
	if sendErr == nil {
		h.count(deliverySent)
		if err := h.record(rec, func(ctx context.Context) error { _, err := h.notify.MarkSent(ctx, id); return err }); err != nil {
			// Telegram has the message; the attempt stays without an outcome, so no run
			// sends it again.
			h.log.Error("notification sent but not recorded", "notification_id", id, "err", err)
			return fmt.Errorf("deliver notification %d: sent, not recorded: %w (%w)", id, err, asynq.SkipRetry)
		}
		h.log.Debug("notification delivered", "notification_id", id, "member_id", m.ID)
		return nil
	}
	permanent := tgapi.IsPermanent(sendErr)
	outcome := func(ctx context.Context) error { return h.notify.MarkFailed(ctx, id, sendErr.Error(), permanent) }
	switch {
	case tgapi.IsBlocked(sendErr):
		outcome = func(ctx context.Context) error { return h.notify.MarkUnreachable(ctx, id, sendErr.Error()) }
		h.count(deliveryUnreachable)
	case permanent:
		h.count(deliveryRejected)
	default:
		h.count(deliveryFailed)
	}
	if err := h.record(rec, outcome); err != nil {
		h.log.Warn("delivery failure not recorded", "notification_id", id, "err", err)
	}
	h.log.Warn("notification not delivered", "notification_id", id, "member_id", m.ID,
		"attempt", n.TelegramAttempts+1, "permanent", permanent, "unreachable", tgapi.IsBlocked(sendErr), "err", sendErr)
	if permanent {
		return fmt.Errorf("deliver notification %d: %w (%w)", id, sendErr, asynq.SkipRetry)
	}
	return fmt.Errorf("deliver notification %d: %w", id, sendErr)
}

// inDoubt handles a notification whose last attempt has no outcome: it waits while
// the attempt may still be running, then gives the notification up.
func (h *deliverNotification) inDoubt(ctx context.Context, n *ent.Notification) error {
	age := h.now().Sub(*n.TelegramAttemptAt)
	if age < h.inDoubtAfter {
		h.count(deliveryDeferred)
		return &waitError{wait: h.inDoubtAfter - age, why: fmt.Sprintf("notification %d: an attempt is in flight", n.ID)}
	}
	h.log.Error("notification delivery in doubt: a worker stopped while sending it; not sent again",
		"notification_id", n.ID, "member_id", n.MemberID, "attempt_at", *n.TelegramAttemptAt)
	h.count(deliveryInDoubt)
	return h.notify.MarkFailed(ctx, n.ID, "delivery in doubt: the worker stopped while sending", true)
}

// record stores an attempt's outcome, trying a few times until ctx ends: a failure
// here leaves the attempt in doubt.
func (h *deliverNotification) record(ctx context.Context, store func(context.Context) error) error {
	var err error
	for wait := 100 * time.Millisecond; ; wait *= 4 {
		if err = store(ctx); err == nil {
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
