package apptest

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"ikra/ent"
	"ikra/ent/member"
	"ikra/ent/offer"
)

// Member signs a new client in as the Telegram user and returns it with the member.
func (e *Env) Member(tgID int64, name string) (*Client, *ent.Member) {
	e.T.Helper()
	c := e.Client()
	c.SignIn(tgID, name)
	m, err := e.App.DB.Member.Query().Where(member.TelegramID(tgID)).Only(context.Background())
	Must(e.T, err)
	return c, m
}

// Place is a category and a city to put partners and offers in.
type Place struct{ CategoryID, CityID int }

var fixtureSeq atomic.Int64

// Place creates a category and a city.
func (e *Env) Place() Place {
	e.T.Helper()
	ctx := context.Background()
	n := fixtureSeq.Add(1)
	cat, err := e.App.DB.Category.Create().SetSlug(fmt.Sprint("cat-", n)).SetNameRu("Рестораны").SetNameEn("Restaurants").SetNameKk("Мейрамханалар").Save(ctx)
	Must(e.T, err)
	city, err := e.App.DB.City.Create().SetSlug(fmt.Sprint("city-", n)).SetNameRu("Алматы").SetNameEn("Almaty").SetNameKk("Алматы").Save(ctx)
	Must(e.T, err)
	return Place{CategoryID: cat.ID, CityID: city.ID}
}

// Partner creates an active partner in the place.
func (e *Env) Partner(p Place, name string) *ent.Partner {
	e.T.Helper()
	n := fixtureSeq.Add(1)
	row, err := e.App.DB.Partner.Create().SetName(name).SetSlug(fmt.Sprint("partner-", n)).SetBin(fmt.Sprintf("%012d", n)).
		SetCategoryID(p.CategoryID).SetCityID(p.CityID).Save(context.Background())
	Must(e.T, err)
	return row
}

// Offer creates a published offer of the partner; edit adjusts it before saving.
func (e *Env) Offer(p Place, partnerID int, title string, edit ...func(*ent.OfferCreate)) *ent.Offer {
	e.T.Helper()
	c := e.App.DB.Offer.Create().SetPartnerID(partnerID).SetCategoryID(p.CategoryID).SetCityID(p.CityID).SetTitle(title).
		SetKind(offer.KindDiscount).SetStatus(offer.StatusPublished).SetPublishedAt(time.Now())
	for _, f := range edit {
		f(c)
	}
	o, err := c.Save(context.Background())
	Must(e.T, err)
	return o
}
