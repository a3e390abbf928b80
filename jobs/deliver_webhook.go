package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"ikra/app/webhooks"
)

// TypeDeliverWebhook makes one attempt to deliver a webhook event to a partner's endpoint.
const TypeDeliverWebhook = "webhook:deliver"

// NewDeliverWebhook returns the task of attempt a. Its ID names the delivery, the
// send-again count and the attempt, so enqueuing the same attempt twice is a no-op.
// The retries of a failed answer are scheduled by the handler as new attempts (the
// schedule lives with the delivery, webhooks.DefaultSchedule); asynq's own retries
// cover only failures to reach the database.
func NewDeliverWebhook(a webhooks.Attempt) *asynq.Task {
	payload, _ := json.Marshal(a) // cannot fail
	opts := []asynq.Option{
		asynq.TaskID("webhook:" + strconv.Itoa(a.DeliveryID) + ":" + strconv.Itoa(a.Resends) + ":" + strconv.Itoa(a.Number)),
		asynq.MaxRetry(3),
		asynq.Timeout(webhooks.Timeout + 20*time.Second),
	}
	if !a.At.IsZero() && time.Until(a.At) > 0 {
		opts = append(opts, asynq.ProcessAt(a.At))
	}
	return asynq.NewTask(TypeDeliverWebhook, payload, opts...)
}

type deliverWebhook struct {
	hooks  *webhooks.Service
	client *http.Client
	log    *slog.Logger
	queue  func(ctx context.Context, a webhooks.Attempt) error
}

// ProcessTask makes the attempt: it posts the event's stored body to the endpoint,
// signed, and records the answer; a 2xx answer is delivered, anything else (or no
// answer within webhooks.Timeout) schedules the next attempt with backoff.
func (h *deliverWebhook) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var a webhooks.Attempt
	if err := json.Unmarshal(t.Payload(), &a); err != nil || a.DeliveryID <= 0 || a.Number <= 0 {
		return fmt.Errorf("%s: bad payload: %w", t.Type(), asynq.SkipRetry)
	}
	// asynq keeps a task's time in whole seconds, rounded down: an attempt may start up
	// to a second before its backoff is over. It waits for the rest.
	if early := time.Until(a.At); early > 0 && early <= 2*time.Second {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(early):
		}
	}
	c, err := h.hooks.Claim(ctx, a)
	if err != nil || c == nil {
		return err
	}
	d := c.Delivery
	ep, ev := d.Edges.Endpoint, d.Edges.Event
	status, sendErr := h.send(ctx, ep.URL, ep.Secret, ev.Type, ev.EventID, []byte(ev.Payload))

	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if sendErr == nil {
		h.log.Debug("webhook delivered", "delivery_id", d.ID, "partner_id", d.PartnerID, "status", status)
		return h.hooks.Delivered(rec, a, status)
	}
	next, err := h.hooks.Failed(rec, a, status, sendErr.Error())
	if err != nil {
		return err
	}
	h.log.Info("webhook not delivered", "delivery_id", d.ID, "partner_id", d.PartnerID, "attempt", a.Number,
		"status", status, "err", sendErr, "retry", next != nil)
	if next != nil {
		if err := h.queue(rec, *next); err != nil {
			// The sweep picks the delivery up once its next attempt is overdue.
			h.log.Warn("webhook retry not enqueued; the sweep will", "delivery_id", d.ID, "err", err)
		}
	}
	return nil
}

// send posts body with the event headers and the signature; it returns the status
// and an error unless the answer was 2xx.
func (h *deliverWebhook) send(ctx context.Context, url, secret, typ, eventID string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, webhooks.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "IKRA-Webhooks/1")
	req.Header.Set(webhooks.HeaderEvent, typ)
	req.Header.Set(webhooks.HeaderEventID, eventID)
	req.Header.Set(webhooks.HeaderSignature, webhooks.Sign(secret, time.Now(), body))
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}
