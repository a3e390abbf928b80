// Package webhooks sends a partner's booking events to the partner's own systems: the
// owner registers HTTPS endpoints and the event types each receives; every event is
// written in the transaction of the booking change that causes it (an outbox), one
// delivery per subscribed endpoint, and delivered by a background job, signed with the
// endpoint's secret, retried with exponential backoff, and re-sent on request with the
// same event ID. Every function that touches a partner's data takes the partner ID.
package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"ikra/app/store"
	"ikra/ent"
	"ikra/ent/webhookdelivery"
	"ikra/ent/webhookendpoint"
	"ikra/ent/webhookevent"
)

// Event types a partner can subscribe to.
const (
	BookingRequested = "booking.requested"
	BookingConfirmed = "booking.confirmed"
	BookingCancelled = "booking.cancelled"
	BookingCompleted = "booking.completed"
	BookingReversed  = "booking.reversed"
)

// EventTypes lists every event type, in the order a form shows them.
var EventTypes = []string{BookingRequested, BookingConfirmed, BookingCancelled, BookingCompleted, BookingReversed}

// MaxAttempts is how many delivery attempts an event gets (per send) before it is
// marked failed.
const MaxAttempts = 8

// DefaultSchedule is the wait after each failed attempt: exponential, capped at 12 hours.
var DefaultSchedule = []time.Duration{
	10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour,
}

// MaxEndpoints is how many endpoints one partner may register.
const MaxEndpoints = 10

// Timeout bounds one delivery attempt.
const Timeout = 10 * time.Second

// lease is how long a claimed attempt keeps the sweep away: longer than an attempt.
const lease = 2 * time.Minute

// Errors a caller can tell apart.
var (
	// ErrNotFound means no such endpoint or delivery for this partner.
	ErrNotFound = errors.New("webhooks: not found")
	// ErrTooMany means the partner has MaxEndpoints endpoints already.
	ErrTooMany = errors.New("webhooks: too many endpoints")
)

// ValidationError names the fields of an endpoint that were refused, with message keys.
type ValidationError struct{ Fields map[string]string }

func (e *ValidationError) Error() string {
	var parts []string
	for k, v := range e.Fields {
		parts = append(parts, k+": "+v)
	}
	slices.Sort(parts)
	return "webhooks: invalid endpoint: " + strings.Join(parts, ", ")
}

// urlErrorKeys are the form's messages for the guard's errors.
var urlErrorKeys = map[error]string{
	ErrURLInvalid:    "webhooks.url.invalid",
	ErrURLScheme:     "webhooks.url.https",
	ErrURLBlocked:    "webhooks.url.private",
	ErrURLUnresolved: "webhooks.url.unresolved",
}

// Attempt names one delivery attempt: the job's payload.
type Attempt struct {
	DeliveryID int       `json:"delivery_id"`
	Number     int       `json:"attempt"`     // 1 for the first attempt of a send
	Resends    int       `json:"resends"`     // the delivery's send-again count when it was scheduled
	At         time.Time `json:"at,omitzero"` // when to run it; zero means now (in the payload: asynq rounds ProcessAt down to the second)
}

// Enqueuer schedules delivery attempts. Enqueuing the same attempt twice must be harmless.
type Enqueuer interface {
	EnqueueWebhook(ctx context.Context, a Attempt) error
}

// Service keeps endpoints, events and deliveries.
type Service struct {
	db    *ent.Client
	q     Enqueuer
	guard Guard
	log   *slog.Logger
	now   func() time.Time
	// Schedule is the wait after each failed attempt (the last one repeats);
	// DefaultSchedule unless a test shortens it.
	Schedule []time.Duration
}

// New returns the webhooks service; q may be nil when nothing delivers.
func New(db *ent.Client, q Enqueuer, g Guard) *Service {
	return &Service{db: db, q: q, guard: g, log: slog.Default(), now: time.Now, Schedule: DefaultSchedule}
}

// SetLogger sets where failures after a commit are logged.
func (s *Service) SetLogger(l *slog.Logger) {
	if l != nil {
		s.log = l
	}
}

// Guard is the URL policy of this installation.
func (s *Service) Guard() Guard { return s.guard }

// EndpointInput is an endpoint as the owner typed it.
type EndpointInput struct {
	URL    string
	Events []string
}

// Create registers an endpoint with a new random secret. A refused URL or event list is
// a *ValidationError with the field's message key.
func (s *Service) Create(ctx context.Context, partnerID int, in EndpointInput) (*ent.WebhookEndpoint, error) {
	fields := map[string]string{}
	u, err := s.guard.Check(ctx, in.URL)
	if err != nil {
		key, ok := urlErrorKeys[err]
		if !ok {
			key = "webhooks.url.invalid"
		}
		fields["url"] = key
	}
	var events []string
	for _, e := range EventTypes {
		if slices.Contains(in.Events, e) {
			events = append(events, e)
		}
	}
	if len(events) == 0 {
		fields["events"] = "webhooks.events.required"
	}
	if len(fields) > 0 {
		return nil, &ValidationError{Fields: fields}
	}
	n, err := s.db.WebhookEndpoint.Query().Where(webhookendpoint.PartnerID(partnerID)).Count(ctx)
	if err != nil {
		return nil, err
	}
	if n >= MaxEndpoints {
		return nil, ErrTooMany
	}
	secret, err := randomHex(32)
	if err != nil {
		return nil, err
	}
	return s.db.WebhookEndpoint.Create().SetPartnerID(partnerID).SetURL(u.String()).SetSecret("whsec_" + secret).
		SetEvents(events).SetCreatedAt(s.now()).Save(ctx)
}

// List returns the partner's endpoints, newest first.
func (s *Service) List(ctx context.Context, partnerID int) ([]*ent.WebhookEndpoint, error) {
	return s.db.WebhookEndpoint.Query().Where(webhookendpoint.PartnerID(partnerID)).
		Order(ent.Desc(webhookendpoint.FieldID)).All(ctx)
}

// Get returns one of the partner's endpoints.
func (s *Service) Get(ctx context.Context, partnerID, id int) (*ent.WebhookEndpoint, error) {
	e, err := s.db.WebhookEndpoint.Query().Where(webhookendpoint.ID(id), webhookendpoint.PartnerID(partnerID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrNotFound
	}
	return e, err
}

// SetActive turns one of the partner's endpoints on or off; a disabled endpoint gets no
// new events, and its pending deliveries fail when their turn comes.
func (s *Service) SetActive(ctx context.Context, partnerID, id int, active bool) error {
	u := s.db.WebhookEndpoint.Update().Where(webhookendpoint.ID(id), webhookendpoint.PartnerID(partnerID)).SetActive(active)
	if active {
		u.ClearDisabledAt()
	} else {
		u.SetDisabledAt(s.now())
	}
	n, err := u.Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Delete removes one of the partner's endpoints with its delivery log.
func (s *Service) Delete(ctx context.Context, partnerID, id int) error {
	return store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		ok, err := tx.WebhookEndpoint.Query().Where(webhookendpoint.ID(id), webhookendpoint.PartnerID(partnerID)).Exist(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		if _, err := tx.WebhookDelivery.Delete().Where(webhookdelivery.EndpointID(id), webhookdelivery.PartnerID(partnerID)).Exec(ctx); err != nil {
			return err
		}
		if err := tx.WebhookEndpoint.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		// Events no other endpoint still delivers are gone with it.
		_, err = tx.WebhookEvent.Delete().Where(webhookevent.PartnerID(partnerID), webhookevent.Not(webhookevent.HasDeliveries())).Exec(ctx)
		return err
	})
}

// MaxLog is how many deliveries an endpoint's log shows.
const MaxLog = 100

// Deliveries returns the latest deliveries of one of the partner's endpoints, newest
// first, with their events.
func (s *Service) Deliveries(ctx context.Context, partnerID, endpointID, limit int) ([]*ent.WebhookDelivery, error) {
	if limit <= 0 || limit > MaxLog {
		limit = MaxLog
	}
	return s.db.WebhookDelivery.Query().
		Where(webhookdelivery.EndpointID(endpointID), webhookdelivery.PartnerID(partnerID)).
		WithEvent().Order(ent.Desc(webhookdelivery.FieldID)).Limit(limit).All(ctx)
}

// Resend sends one of the partner's deliveries (of the endpoint) again, with the same event ID and body,
// whatever its state: it gets a fresh round of attempts, and an attempt already
// scheduled is superseded.
func (s *Service) Resend(ctx context.Context, partnerID, endpointID, deliveryID int) error {
	var a Attempt
	err := store.WithTx(ctx, s.db, func(tx *ent.Tx) error {
		d, err := tx.WebhookDelivery.Query().Where(webhookdelivery.ID(deliveryID), webhookdelivery.EndpointID(endpointID),
			webhookdelivery.PartnerID(partnerID)).Only(ctx)
		if ent.IsNotFound(err) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		now := s.now()
		n, err := tx.WebhookDelivery.Update().Where(webhookdelivery.ID(d.ID), webhookdelivery.Resends(d.Resends)).
			SetStatus(webhookdelivery.StatusPending).SetAttempts(0).AddResends(1).SetLastError("").
			SetNextAttemptAt(now).ClearDeliveredAt().Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("webhooks: delivery %d changed meanwhile", d.ID)
		}
		a = Attempt{DeliveryID: d.ID, Number: 1, Resends: d.Resends + 1}
		return nil
	})
	if err != nil {
		return err
	}
	s.Enqueue(ctx, a)
	return nil
}

// Envelope is the body of every delivery.
type Envelope struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
}

// Booking is a booking as an event shows it: what the partner sees at the counter,
// with the member's first name only.
type Booking struct {
	Code            string `json:"code"`
	Status          string `json:"status"`
	OfferID         int    `json:"offer_id"`
	OfferTitle      string `json:"offer_title"`
	MemberFirstName string `json:"member_first_name"`
	// VisitDate is the day the member wishes to come (YYYY-MM-DD, Asia/Almaty), if any.
	VisitDate string `json:"visit_date,omitempty"`
	// BonusPrice is the offer's price in bonuses, reserved with the request.
	BonusPrice int64 `json:"bonus_price"`
	// DealAmountTiyn is the amount recorded at completion, in tiyn.
	DealAmountTiyn int64 `json:"deal_amount_tiyn,omitempty"`
	// Cashback is the bonuses credited on completion, or reversed with a reversal.
	Cashback int64 `json:"cashback,omitempty"`
	// Reason says how a cancelled booking ended: member, declined, expired, no_show.
	Reason        string    `json:"reason,omitempty"`
	DeclineReason string    `json:"decline_reason,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

// BookingData is the data of a booking event.
type BookingData struct {
	Booking Booking `json:"booking"`
}

// AddTx writes an event of the partner inside the caller's transaction, with one
// delivery for each of the partner's active endpoints subscribed to its type, and
// enqueues those deliveries once the transaction commits (best effort: the Redeliver
// sweep enqueues what was lost). Without a subscribed endpoint nothing is written.
// It returns how many deliveries it wrote.
func (s *Service) AddTx(ctx context.Context, tx *ent.Tx, partnerID int, typ string, data any) (int, error) {
	if s == nil {
		return 0, nil
	}
	eps, err := tx.WebhookEndpoint.Query().Where(webhookendpoint.PartnerID(partnerID), webhookendpoint.Active(true)).All(ctx)
	if err != nil {
		return 0, fmt.Errorf("webhooks: endpoints: %w", err)
	}
	eps = slices.DeleteFunc(eps, func(e *ent.WebhookEndpoint) bool { return !slices.Contains(e.Events, typ) })
	if len(eps) == 0 {
		return 0, nil
	}
	id, err := NewEventID()
	if err != nil {
		return 0, err
	}
	now := s.now()
	body, err := json.Marshal(Envelope{ID: id, Type: typ, CreatedAt: now.UTC().Truncate(time.Second), Data: data})
	if err != nil {
		return 0, fmt.Errorf("webhooks: payload: %w", err)
	}
	ev, err := tx.WebhookEvent.Create().SetEventID(id).SetPartnerID(partnerID).SetType(typ).SetPayload(string(body)).
		SetCreatedAt(now).Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("webhooks: event: %w", err)
	}
	var attempts []Attempt
	for _, e := range eps {
		d, err := tx.WebhookDelivery.Create().SetPartnerID(partnerID).SetEndpointID(e.ID).SetEventID(ev.ID).
			SetNextAttemptAt(now).SetCreatedAt(now).Save(ctx)
		if err != nil {
			return 0, fmt.Errorf("webhooks: delivery: %w", err)
		}
		attempts = append(attempts, Attempt{DeliveryID: d.ID, Number: 1})
	}
	if s.q != nil {
		tx.OnCommit(func(next ent.Committer) ent.Committer {
			return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
				if err := next.Commit(ctx, tx); err != nil {
					return err
				}
				s.Enqueue(context.WithoutCancel(ctx), attempts...)
				return nil
			})
		})
	}
	return len(attempts), nil
}

// Enqueue hands attempts to the queue, best effort: a failure is logged, and the
// Redeliver sweep enqueues the delivery later.
func (s *Service) Enqueue(ctx context.Context, attempts ...Attempt) {
	if s.q == nil {
		return
	}
	for _, a := range attempts {
		if err := s.q.EnqueueWebhook(ctx, a); err != nil {
			s.log.Warn("webhook delivery not enqueued; the sweep will", "delivery_id", a.DeliveryID, "err", err)
		}
	}
}

// Claimed is a delivery whose attempt this worker now owns.
type Claimed struct {
	Delivery *ent.WebhookDelivery // with its endpoint and event
	Attempt  Attempt
}

// Claim takes attempt a of its delivery: it counts the attempt and keeps the sweep
// away for a while. It returns nil, and no error, when the attempt is stale (the
// delivery was delivered, failed, sent again or attempted meanwhile), so a duplicate
// job sends nothing. A delivery whose endpoint was disabled fails here.
func (s *Service) Claim(ctx context.Context, a Attempt) (*Claimed, error) {
	now := s.now()
	n, err := s.db.WebhookDelivery.Update().
		Where(webhookdelivery.ID(a.DeliveryID), webhookdelivery.StatusEQ(webhookdelivery.StatusPending),
			webhookdelivery.Attempts(a.Number-1), webhookdelivery.Resends(a.Resends)).
		AddAttempts(1).SetNextAttemptAt(now.Add(lease)).Save(ctx)
	if err != nil || n == 0 {
		return nil, err
	}
	d, err := s.db.WebhookDelivery.Query().Where(webhookdelivery.ID(a.DeliveryID)).WithEndpoint().WithEvent().Only(ctx)
	if err != nil {
		return nil, err
	}
	if !d.Edges.Endpoint.Active {
		if err := s.finish(ctx, a, webhookdelivery.StatusFailed, 0, "endpoint disabled"); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return &Claimed{Delivery: d, Attempt: a}, nil
}

// Delivered records that attempt a was answered with a 2xx status.
func (s *Service) Delivered(ctx context.Context, a Attempt, status int) error {
	return s.finish(ctx, a, webhookdelivery.StatusDelivered, status, "")
}

func (s *Service) finish(ctx context.Context, a Attempt, st webhookdelivery.Status, code int, reason string) error {
	u := s.db.WebhookDelivery.Update().
		Where(webhookdelivery.ID(a.DeliveryID), webhookdelivery.Attempts(a.Number), webhookdelivery.Resends(a.Resends)).
		SetStatus(st).SetLastStatus(code).SetLastError(clip(reason)).ClearNextAttemptAt()
	if st == webhookdelivery.StatusDelivered {
		u.SetDeliveredAt(s.now())
	}
	return u.Exec(ctx)
}

// Failed records why attempt a failed (code is the HTTP status, 0 without an answer)
// and schedules the next attempt, which it returns; after MaxAttempts the delivery is
// failed and nil is returned.
func (s *Service) Failed(ctx context.Context, a Attempt, code int, reason string) (*Attempt, error) {
	if a.Number >= MaxAttempts {
		return nil, s.finish(ctx, a, webhookdelivery.StatusFailed, code, reason)
	}
	wait := s.wait(a.Number)
	next := Attempt{DeliveryID: a.DeliveryID, Number: a.Number + 1, Resends: a.Resends, At: s.now().Add(wait)}
	n, err := s.db.WebhookDelivery.Update().
		Where(webhookdelivery.ID(a.DeliveryID), webhookdelivery.Attempts(a.Number), webhookdelivery.Resends(a.Resends),
			webhookdelivery.StatusEQ(webhookdelivery.StatusPending)).
		SetLastStatus(code).SetLastError(clip(reason)).SetNextAttemptAt(next.At).Save(ctx)
	if err != nil || n == 0 {
		return nil, err
	}
	return &next, nil
}

// wait is the pause after failed attempt number n (1-based).
func (s *Service) wait(n int) time.Duration {
	sch := s.Schedule
	if len(sch) == 0 {
		sch = DefaultSchedule
	}
	return sch[min(n, len(sch))-1]
}

// Redeliver enqueues pending deliveries whose attempt is overdue by more than grace
// (its job was lost, or the worker died during it), up to limit, and reports how many.
func (s *Service) Redeliver(ctx context.Context, grace time.Duration, limit int) (int, error) {
	if s.q == nil {
		return 0, nil
	}
	if limit <= 0 {
		limit = 100
	}
	due, err := s.db.WebhookDelivery.Query().
		Where(webhookdelivery.StatusEQ(webhookdelivery.StatusPending), webhookdelivery.NextAttemptAtLTE(s.now().Add(-grace))).
		Order(ent.Asc(webhookdelivery.FieldID)).Limit(limit).All(ctx)
	if err != nil {
		return 0, fmt.Errorf("webhooks: due: %w", err)
	}
	for i, d := range due {
		a := Attempt{DeliveryID: d.ID, Number: d.Attempts + 1, Resends: d.Resends}
		if d.Attempts >= MaxAttempts {
			// The last attempt's worker died before recording it.
			if err := s.finish(ctx, Attempt{DeliveryID: d.ID, Number: d.Attempts, Resends: d.Resends}, webhookdelivery.StatusFailed, d.LastStatus, "no answer recorded"); err != nil {
				return i, err
			}
			continue
		}
		if err := s.q.EnqueueWebhook(ctx, a); err != nil {
			return i, fmt.Errorf("webhooks: enqueue delivery %d: %w", d.ID, err)
		}
	}
	return len(due), nil
}

// NewEventID returns a random event ID in the UUID version 4 format.
func NewEventID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// clip keeps an error text short and valid UTF-8 (PostgreSQL refuses anything else).
func clip(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) > 500 {
		s = s[:500]
	}
	return strings.ToValidUTF8(s, "")
}
