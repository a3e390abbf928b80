package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"ikra/app/apikeys"
	"ikra/app/audit"
	"ikra/app/auth"
	"ikra/ent"
	"ikra/ent/booking"
	"ikra/ent/member"
	"ikra/ent/offer"
	"ikra/ent/partner"
	"ikra/ent/predicate"
	"ikra/ent/staff"
)

// PrepOptions say what state the write runs of a load run need, made before the timed
// part on a database Generate filled.
type PrepOptions struct {
	Dir      string // where the files go
	Members  int    // members with a web session, who book
	Offers   int    // open offers they book (every member books each at most once)
	Partners int    // partners with a cashier (a session) and an API key
	Codes    int    // confirmed bookings to complete, for each of the portal and the API
	Now      time.Time
}

// Prep files, one record a line, fields separated by spaces:
//
//	members.txt   session token of a member who books
//	offers.txt    ID of an open offer
//	cashiers.txt  partner ID, session token of its cashier
//	keys.txt      partner ID, API key with the redeem scope
//	codes-portal.txt, codes-api.txt   partner ID, code of a confirmed booking
const (
	FileMembers  = "members.txt"
	FileOffers   = "offers.txt"
	FileCashiers = "cashiers.txt"
	FileKeys     = "keys.txt"
	FileCodesWeb = "codes-portal.txt"
	FileCodesAPI = "codes-api.txt"
)

// Prepare makes the sessions, cashiers, API keys and confirmed bookings a write load run
// consumes, through the session and API key services, the bookings in bulk, and writes
// them to opt.Dir.
func Prepare(ctx context.Context, db *ent.Client, sessions *auth.Sessions, keys *apikeys.Service, opt PrepOptions) error {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	partners, err := db.Partner.Query().Where(partner.SlugHasPrefix(SlugPrefix), partner.StatusEQ(partner.StatusActive),
		partner.HasOffersWith(open(), offer.CashbackBpGT(0))).
		Order(ent.Asc(partner.FieldID)).Limit(opt.Partners).IDs(ctx)
	if err != nil {
		return err
	}
	if len(partners) == 0 {
		return errors.New("loadgen: no generated partner with an open offer: run seed-load first")
	}
	// Members who book are the newest generated ones; cashiers come from the oldest after
	// the partners' owners (Generate makes member i the owner of partner i).
	members, err := db.Member.Query().Where(member.UsernameHasPrefix("load_member_"), member.StatusEQ(member.StatusActive)).
		Order(ent.Desc(member.FieldID)).Limit(opt.Members).IDs(ctx)
	if err != nil {
		return err
	}
	cashiers, err := db.Member.Query().Where(member.UsernameHasPrefix("load_member_"), member.Not(member.HasStaff())).
		Order(ent.Asc(member.FieldID)).Limit(len(partners)).IDs(ctx)
	if err != nil {
		return err
	}
	if len(members) < opt.Members || len(cashiers) < len(partners) {
		return fmt.Errorf("loadgen: %d members and %d cashiers available, want %d and %d", len(members), len(cashiers), opt.Members, len(partners))
	}
	// Offers nobody has booked yet: a generated booking would count against the
	// per-member limit.
	offers, err := db.Offer.Query().Where(open(), offer.Not(offer.HasBookings()), offer.HasPartnerWith(partner.StatusEQ(partner.StatusActive))).
		Order(ent.Desc(offer.FieldID)).Limit(opt.Offers).IDs(ctx)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opt.Dir, 0o700); err != nil {
		return err
	}
	var lines []string
	for _, id := range members {
		token, err := sessions.Start(ctx, id, "web", "ikra load-prep", "127.0.0.1")
		if err != nil {
			return err
		}
		lines = append(lines, token)
	}
	if err := writeLines(opt.Dir, FileMembers, lines); err != nil {
		return err
	}
	lines = lines[:0]
	for _, id := range offers {
		lines = append(lines, fmt.Sprint(id))
	}
	if err := writeLines(opt.Dir, FileOffers, lines); err != nil {
		return err
	}
	var cashierLines, keyLines []string
	for i, pid := range partners {
		if err := db.Staff.Create().SetRole(staff.RoleCashier).SetMemberID(cashiers[i]).SetPartnerID(pid).SetCreatedAt(opt.Now).Exec(ctx); err != nil {
			return err
		}
		token, err := sessions.Start(ctx, cashiers[i], "web", "ikra load-prep", "127.0.0.1")
		if err != nil {
			return err
		}
		cashierLines = append(cashierLines, fmt.Sprintf("%d %s", pid, token))
		owner, err := db.Staff.Query().Where(staff.PartnerID(pid), staff.RoleEQ(staff.RoleOwner)).
			Order(ent.Asc(staff.FieldID)).First(ctx)
		if err != nil {
			return err
		}
		_, secret, err := keys.Create(ctx, audit.Entry{ActorID: &owner.MemberID, PartnerID: &pid}, pid, owner.MemberID, "load run", []string{apikeys.ScopeRead, apikeys.ScopeRedeem})
		if err != nil {
			return err
		}
		keyLines = append(keyLines, fmt.Sprintf("%d %s", pid, secret))
	}
	if err := writeLines(opt.Dir, FileCashiers, cashierLines); err != nil {
		return err
	}
	if err := writeLines(opt.Dir, FileKeys, keyLines); err != nil {
		return err
	}
	// Each partner's open offers with cashback, to book for the completions.
	byPartner := map[int][]int{}
	rows, err := db.Offer.Query().Where(open(), offer.CashbackBpGT(0), offer.PartnerIDIn(partners...)).
		Select(offer.FieldID, offer.FieldPartnerID).All(ctx)
	if err != nil {
		return err
	}
	for _, o := range rows {
		byPartner[o.PartnerID] = append(byPartner[o.PartnerID], o.ID)
	}
	// Their members are others than those who book, so that no booking here counts
	// against a booking member's per-offer limit.
	all, err := db.Member.Query().Where(member.UsernameHasPrefix("load_member_"), member.StatusEQ(member.StatusActive),
		member.IDLT(members[len(members)-1])).Order(ent.Asc(member.FieldID)).Limit(100_000).IDs(ctx)
	if err != nil {
		return err
	}
	// Codes continue after the bookings there are, so a second preparation adds to the first.
	base, err := db.Booking.Query().Count(ctx)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return errors.New("loadgen: no member left to hold the bookings to complete")
	}
	for n, file := range []string{FileCodesWeb, FileCodesAPI} {
		var lines []string
		for from := 0; from < opt.Codes; from += Batch {
			to := min(opt.Codes, from+Batch)
			bs := make([]*ent.BookingCreate, 0, to-from)
			for i := from; i < to; i++ {
				pid := partners[i%len(partners)]
				ofs := byPartner[pid]
				code := fmt.Sprintf("%c%07X", "PA"[n], base+i)
				at := opt.Now.Add(-time.Duration(1+i%48) * time.Hour)
				bs = append(bs, db.Booking.Create().SetCode(code).SetStatus(booking.StatusConfirmed).
					SetMemberID(all[(i*7+n)%len(all)]).SetOfferID(ofs[i%len(ofs)]).SetPartnerID(pid).
					SetCreatedAt(at).SetUpdatedAt(at).SetConfirmedAt(at.Add(10*time.Minute)).SetVisitAt(opt.Now))
				lines = append(lines, fmt.Sprintf("%d %s", pid, code))
			}
			if err := db.Booking.CreateBulk(bs...).Exec(ctx); err != nil {
				return err
			}
		}
		if err := writeLines(opt.Dir, file, lines); err != nil {
			return err
		}
	}
	return nil
}

// open is an offer anyone may book as often as they like: published, for everyone,
// without a capacity, a bonus price or an end date.
func open() predicate.Offer {
	return offer.And(offer.StatusEQ(offer.StatusPublished), offer.VisibilityEQ(offer.VisibilityAll),
		offer.CapacityEQ(0), offer.PriceBonusEQ(0), offer.ValidUntilIsNil())
}

func writeLines(dir, name string, lines []string) error {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
