package fraud

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"entgo.io/ent/dialect/sql"

	"ikra/app/audit"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/fraudflag"
	"ikra/ent/member"
	"ikra/ent/referral"
)

// Thresholds of the detectors. Each query is bounded by a time window on an indexed
// created_at or completed_at column (referral.created_at, booking (status,
// completed_at), booking (partner_id, status, created_at)), so a run reads the recent
// rows only, however large the tables grow.
const (
	// FarmMinInvitees is how many invitees a referrer must have for the farm check.
	FarmMinInvitees = 10
	// FarmMinAge is how long ago the invitees must have registered: younger ones may
	// still book.
	FarmMinAge = 14 * 24 * time.Hour
	// FarmLookback bounds the invitees read: those registered within this before FarmMinAge.
	FarmLookback = 90 * 24 * time.Hour
	// FarmMaxBookedPercent: a referrer whose invitees booked at most this share (in %)
	// is flagged.
	FarmMaxBookedPercent = 10

	// DealFactor: a completed deal above this many times the partner's median is flagged.
	DealFactor = 5
	// DealMinHistory is how many completed deals the partner needs for a median.
	DealMinHistory = 10
	// DealHistory is how far back the partner's median looks.
	DealHistory = 90 * 24 * time.Hour
	// DealMaxHistory caps the deals read for one partner's median (the most recent).
	DealMaxHistory = 5000

	// RepeatMin completions of one member at one partner within RepeatWindow are flagged.
	RepeatMin    = 3
	RepeatWindow = 24 * time.Hour

	// BurstMin sign-ups through one referral code within BurstWindow are flagged.
	BurstMin    = 20
	BurstWindow = time.Hour

	// maxScan caps the rows one detector reads in one run.
	maxScan = 50000
	// maxEvidence caps the evidence rows kept on one flag.
	maxEvidence = 50
)

// Detect runs every detector once and returns how many flags were raised or updated.
// The periodic job calls it.
func (s *Service) Detect(ctx context.Context) (int, error) {
	total := 0
	for _, d := range []func(context.Context) (int, error){s.DetectReferralFarms, s.DetectDealAmounts, s.DetectRepeatedCompletions, s.DetectSignupBursts} {
		n, err := d(ctx)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// signal is a flag a detector wants raised.
type signal struct {
	key, kind         string
	memberID, partner *int
	summary           string
	score             int
	evidence          []map[string]string
}

// raise writes a signal: a new flag, or the flag with the same dedup key updated with
// the latest count and evidence. A reviewed flag keeps its status.
func (s *Service) raise(ctx context.Context, sg signal) error {
	if len(sg.evidence) > maxEvidence {
		sg.evidence = sg.evidence[:maxEvidence]
	}
	err := s.db.FraudFlag.Create().SetDedupKey(sg.key).SetKind(sg.kind).
		SetNillableMemberID(sg.memberID).SetNillablePartnerID(sg.partner).
		SetSummary(clip(sg.summary, 500)).SetScore(sg.score).SetEvidence(sg.evidence).
		OnConflictColumns(fraudflag.FieldDedupKey).
		Update(func(u *ent.FraudFlagUpsert) {
			u.UpdateSummary().UpdateScore().UpdateEvidence().UpdateUpdatedAt()
		}).Exec(ctx)
	if err != nil {
		return fmt.Errorf("fraud: raise %s: %w", sg.key, err)
	}
	return nil
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func ptr(n int) *int { return &n }

// DetectReferralFarms flags referrers with at least FarmMinInvitees invitees who
// registered between FarmMinAge and FarmMinAge+FarmLookback ago, of whom at most
// FarmMaxBookedPercent % ever booked. One flag per referrer.
func (s *Service) DetectReferralFarms(ctx context.Context) (int, error) {
	now := s.now()
	to, from := now.Add(-FarmMinAge), now.Add(-FarmMinAge-FarmLookback)
	var groups []struct {
		ReferrerID int `json:"referrer_id"`
		Count      int `json:"count"`
	}
	err := s.db.Referral.Query().Where(referral.CreatedAtGTE(from), referral.CreatedAtLT(to)).
		GroupBy(referral.FieldReferrerID).
		Aggregate(func(sel *sql.Selector) string {
			sel.Having(sql.GTE(sql.Count("*"), FarmMinInvitees))
			return sql.As(sql.Count("*"), "count")
		}).Scan(ctx, &groups)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, g := range groups {
		invitees, err := s.db.Referral.Query().
			Where(referral.ReferrerID(g.ReferrerID), referral.CreatedAtGTE(from), referral.CreatedAtLT(to)).
			Select(referral.FieldInviteeID).Ints(ctx)
		if err != nil {
			return n, err
		}
		booked, err := s.db.Booking.Query().Where(booking.MemberIDIn(invitees...)).
			Unique(true).Select(booking.FieldMemberID).Ints(ctx)
		if err != nil {
			return n, err
		}
		if len(booked)*100 > FarmMaxBookedPercent*len(invitees) {
			continue
		}
		ev := []map[string]string{{"label": "referrer #" + strconv.Itoa(g.ReferrerID), "link": "/admin/members/" + strconv.Itoa(g.ReferrerID)}}
		for _, id := range invitees {
			ev = append(ev, map[string]string{"label": "invitee #" + strconv.Itoa(id), "link": "/admin/members/" + strconv.Itoa(id)})
		}
		err = s.raise(ctx, signal{
			key: KindReferralFarm + ":m" + strconv.Itoa(g.ReferrerID), kind: KindReferralFarm, memberID: ptr(g.ReferrerID),
			summary: fmt.Sprintf("%d invitees registered over %d days ago, %d of them booked", len(invitees), int(FarmMinAge.Hours()/24), len(booked)),
			score:   len(invitees), evidence: ev,
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// DetectDealAmounts flags, per partner and day, deals completed in the last
// RepeatWindow whose amount is above DealFactor times the partner's median over
// DealHistory (with at least DealMinHistory deals).
func (s *Service) DetectDealAmounts(ctx context.Context) (int, error) {
	now := s.now()
	recent, err := s.db.Booking.Query().
		Where(booking.StatusEQ(booking.StatusCompleted), booking.CompletedAtGTE(now.Add(-RepeatWindow))).
		Order(ent.Asc(booking.FieldCompletedAt)).Limit(maxScan).All(ctx)
	if err != nil {
		return 0, err
	}
	byPartner := map[int][]*ent.Booking{}
	var partners []int
	for _, b := range recent {
		if _, ok := byPartner[b.PartnerID]; !ok {
			partners = append(partners, b.PartnerID)
		}
		byPartner[b.PartnerID] = append(byPartner[b.PartnerID], b)
	}
	n := 0
	for _, pid := range partners {
		var amounts []int64
		err := s.db.Booking.Query().
			Where(booking.PartnerID(pid), booking.StatusEQ(booking.StatusCompleted), booking.CreatedAtGTE(now.Add(-DealHistory))).
			Order(ent.Desc(booking.FieldCreatedAt)).Limit(DealMaxHistory).
			Select(booking.FieldDealAmount).Scan(ctx, &amounts)
		if err != nil {
			return n, err
		}
		if len(amounts) < DealMinHistory {
			continue
		}
		med := median(amounts)
		if med <= 0 {
			continue
		}
		// One flag per partner and day of the first unusual deal in the window.
		var unusual []*ent.Booking
		for _, b := range byPartner[pid] {
			if b.DealAmount > DealFactor*med {
				unusual = append(unusual, b)
			}
		}
		if len(unusual) == 0 {
			continue
		}
		var ev []map[string]string
		var top int64
		for _, b := range unusual {
			top = max(top, b.DealAmount)
			ev = append(ev, map[string]string{
				"label": fmt.Sprintf("booking %s: %d (median %d)", b.Code, b.DealAmount/100, med/100),
				"link":  "/admin/members/" + strconv.Itoa(b.MemberID),
			})
		}
		err = s.raise(ctx, signal{
			key:  KindDealAmount + ":p" + strconv.Itoa(pid) + ":" + day(*unusual[0].CompletedAt),
			kind: KindDealAmount, partner: ptr(pid),
			summary: fmt.Sprintf("%d deals above %d× the median of %d over %d deals", len(unusual), DealFactor, med/100, len(amounts)),
			score:   int(min(top/med, 1<<20)), evidence: ev,
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// median returns the middle value (the lower of the two middle ones).
func median(v []int64) int64 {
	c := slices.Clone(v)
	slices.Sort(c)
	return c[(len(c)-1)/2]
}

// DetectRepeatedCompletions flags a member who completed at least RepeatMin deals at
// the same partner within RepeatWindow; one flag per member, partner and day of the
// first such completion.
func (s *Service) DetectRepeatedCompletions(ctx context.Context) (int, error) {
	now := s.now()
	recent, err := s.db.Booking.Query().
		Where(booking.StatusEQ(booking.StatusCompleted), booking.CompletedAtGTE(now.Add(-RepeatWindow))).
		Order(ent.Asc(booking.FieldCompletedAt)).Limit(maxScan).All(ctx)
	if err != nil {
		return 0, err
	}
	type pair struct{ member, partner int }
	groups := map[pair][]*ent.Booking{}
	var order []pair
	for _, b := range recent {
		k := pair{b.MemberID, b.PartnerID}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], b)
	}
	n := 0
	for _, k := range order {
		bs := groups[k]
		if len(bs) < RepeatMin {
			continue
		}
		var ev []map[string]string
		for _, b := range bs {
			ev = append(ev, map[string]string{
				"label": fmt.Sprintf("booking %s completed %s", b.Code, b.CompletedAt.UTC().Format("2006-01-02 15:04")),
				"link":  "/admin/members/" + strconv.Itoa(b.MemberID) + "/ledger",
			})
		}
		err = s.raise(ctx, signal{
			key:  fmt.Sprintf("%s:m%d:p%d:%s", KindRepeatedCompletion, k.member, k.partner, day(*bs[0].CompletedAt)),
			kind: KindRepeatedCompletion, memberID: ptr(k.member), partner: ptr(k.partner),
			summary: fmt.Sprintf("%d deals completed at one partner within %d hours", len(bs), int(RepeatWindow.Hours())),
			score:   len(bs), evidence: ev,
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// DetectSignupBursts flags a referral code through which at least BurstMin members
// registered within BurstWindow; one flag per code and hour the burst began. It reads
// the referrals of the last two windows.
func (s *Service) DetectSignupBursts(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.db.Referral.Query().Where(referral.CreatedAtGTE(now.Add(-2*BurstWindow))).
		Order(ent.Asc(referral.FieldCreatedAt), ent.Asc(referral.FieldID)).Limit(maxScan).All(ctx)
	if err != nil {
		return 0, err
	}
	byCode := map[string][]*ent.Referral{}
	var codes []string
	for _, r := range rows {
		if _, ok := byCode[r.Code]; !ok {
			codes = append(codes, r.Code)
		}
		byCode[r.Code] = append(byCode[r.Code], r)
	}
	n := 0
	for _, code := range codes {
		rs := byCode[code]
		// The widest run within one window, by a sliding window over the sorted times.
		best, bestStart, i := 0, 0, 0
		for j := range rs {
			for rs[j].CreatedAt.Sub(rs[i].CreatedAt) > BurstWindow {
				i++
			}
			if j-i+1 > best {
				best, bestStart = j-i+1, i
			}
		}
		if best < BurstMin {
			continue
		}
		burst := rs[bestStart : bestStart+best]
		ev := []map[string]string{{"label": "referrer #" + strconv.Itoa(burst[0].ReferrerID), "link": "/admin/members/" + strconv.Itoa(burst[0].ReferrerID)}}
		for _, r := range burst {
			ev = append(ev, map[string]string{"label": "invitee #" + strconv.Itoa(r.InviteeID), "link": "/admin/members/" + strconv.Itoa(r.InviteeID)})
		}
		err = s.raise(ctx, signal{
			key:  KindSignupBurst + ":" + clip(code, 64) + ":" + burst[0].CreatedAt.UTC().Truncate(BurstWindow).Format("2006-01-02T15"),
			kind: KindSignupBurst, memberID: ptr(burst[0].ReferrerID),
			summary: fmt.Sprintf("%d sign-ups through code %s within %d minutes", best, clip(code, 64), int(BurstWindow.Minutes())),
			score:   best, evidence: ev,
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// memberNames returns display names of the members with the given IDs.
func memberNames(ctx context.Context, db *ent.Client, ids []int) (map[int]string, error) {
	out := map[int]string{}
	if len(ids) == 0 {
		return out, nil
	}
	ms, err := db.Member.Query().Where(member.IDIn(ids...)).
		Select(member.FieldID, member.FieldFirstName, member.FieldLastName, member.FieldUsername).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		out[m.ID] = audit.MemberName(m)
	}
	return out, nil
}
