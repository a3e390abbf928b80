package member

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"ikra/app/members"
	"ikra/app/tags"
	"ikra/app/web/ui"
	"ikra/ent"
)

// welcomeForm is the welcome screen's form: categories the member cares about, finer
// tags, their city and language; Skip leaves everything as it is.
type welcomeForm struct {
	Categories []int
	Tags       []string
	City       int
	Lang       string
	Skip       bool
}

// readWelcomeForm copies the form out of the request (Fiber reuses its memory).
func readWelcomeForm(c *fiber.Ctx) (welcomeForm, ui.FieldErrors) {
	f := welcomeForm{Lang: c.FormValue("lang"), Skip: c.FormValue("skip") != ""}
	errs := ui.FieldErrors{}
	for _, v := range c.Request().PostArgs().PeekMulti("category") {
		id, err := strconv.Atoi(string(v))
		if err != nil || id <= 0 {
			errs.Add("categories", "error.interests_categories")
			continue
		}
		f.Categories = append(f.Categories, id)
	}
	for _, v := range c.Request().PostArgs().PeekMulti("tag") {
		f.Tags = append(f.Tags, string(v))
	}
	if v := c.FormValue("city"); v != "" {
		id, err := strconv.Atoi(v)
		if err != nil || id < 0 {
			errs.Add("city", "error.interests_city")
		}
		f.City = id
	}
	return f, errs
}

// Welcome is the one short screen offered after the first sign-in, and the interests
// form of the settings: categories, city, language.
func (h *Handlers) Welcome(c *fiber.Ctx) error {
	in, err := h.members.Interests(c.UserContext(), ui.ViewerOf(c).ID())
	if err != nil {
		return err
	}
	return h.welcomePage(c, fiber.StatusOK, in, nil)
}

// SaveWelcome saves the interests, or skips the screen; either way it is not offered
// again.
func (h *Handlers) SaveWelcome(c *fiber.Ctx) error {
	ctx, id := c.UserContext(), ui.ViewerOf(c).ID()
	f, errs := readWelcomeForm(c)
	if f.Skip {
		if err := h.members.SkipOnboarding(ctx, id); err != nil {
			return err
		}
		return c.Redirect("/app", fiber.StatusSeeOther)
	}
	in := members.Interests{CategoryIDs: f.Categories, Tags: f.Tags, CityID: f.City, Language: f.Lang}
	if len(errs) > 0 {
		return h.welcomePage(c, fiber.StatusUnprocessableEntity, in, errs)
	}
	err := h.members.SaveInterests(ctx, id, in)
	var bad members.InterestsInvalid
	if errors.As(err, &bad) {
		errs = ui.FieldErrors{}
		for k, v := range bad {
			errs.Add(k, v)
		}
		return h.welcomePage(c, fiber.StatusUnprocessableEntity, in, errs)
	}
	if err != nil {
		return err
	}
	return ui.Redirect(c, "/app", "ok", "flash.interests_saved")
}

func (h *Handlers) welcomePage(c *fiber.Ctx, status int, in members.Interests, errs ui.FieldErrors) error {
	cats, cities, err := h.members.InterestChoices(c.UserContext())
	if err != nil {
		return err
	}
	checked := make(map[int]bool, len(in.CategoryIDs))
	for _, id := range in.CategoryIDs {
		checked[id] = true
	}
	// Each category with its finer tags, shown under it.
	type choice struct {
		*ent.Category
		Tags []tags.Tag
		Open bool // one of its tags is ticked: shown unfolded
	}
	ticked := make(map[tags.Tag]bool, len(in.Tags))
	for _, t := range in.Tags {
		ticked[tags.Tag(t)] = true
	}
	choices := make([]choice, len(cats))
	for i, cat := range cats {
		choices[i] = choice{Category: cat, Tags: tags.Of(cat.Slug)}
		for _, t := range choices[i].Tags {
			choices[i].Open = choices[i].Open || ticked[t]
		}
	}
	p := h.render.Page(c, "app.welcome.title", fiber.Map{"Categories": choices, "Cities": cities, "Checked": checked, "Ticked": ticked,
		"City": in.CityID, "Lang": in.Language, "First": members.OnboardingDue(ui.ViewerOf(c).Member)})
	p.Errors = errs
	return c.Status(status).Render("app/welcome", p, ui.LayoutMember)
}
