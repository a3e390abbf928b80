package member

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/i18n"
	"ikra/app/members"
	"ikra/app/web/ui"
)

// sessionCookie is the cookie the session middleware reads; leaving the club clears it.
const sessionCookie = "ikra_session"

// Export downloads, as a JSON file, all data the platform holds about the member.
func (h *Handlers) Export(c *fiber.Ctx) error {
	id := ui.ViewerOf(c).ID()
	data, err := h.members.Export(c.UserContext(), id)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(data, "", "  ")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="ikra-data-`+strconv.Itoa(id)+`.json"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(b)
}

// deleteForm is the confirmation a member types to leave the club.
type deleteForm struct {
	Confirm string
}

// validate accepts the confirmation word of any interface language, whichever the page
// showed, in any case.
func (f deleteForm) validate(cat *i18n.Catalog) ui.FieldErrors {
	errs := ui.FieldErrors{}
	word := strings.ToUpper(strings.TrimSpace(f.Confirm))
	for _, lang := range i18n.Languages {
		if word != "" && word == strings.ToUpper(cat.T(lang, "app.delete.confirm_word")) {
			return errs
		}
	}
	errs.Add("confirm", "app.delete.confirm_wrong")
	return errs
}

// DeleteForm explains what leaving the club does and asks for confirmation.
func (h *Handlers) DeleteForm(c *fiber.Ctx) error {
	return h.render.Render(c, ui.LayoutMember, "app/delete", "app.delete.title", nil)
}

// Delete deletes the member's account (§6.1.3) once they typed the confirmation word,
// then ends this browser's session cookie and leaves for the public start page.
func (h *Handlers) Delete(c *fiber.Ctx) error {
	v := ui.ViewerOf(c)
	f := deleteForm{Confirm: strings.Clone(c.FormValue("confirm"))}
	if errs := f.validate(h.render.Catalog); len(errs) > 0 {
		return h.render.Invalid(c, ui.LayoutMember, "app/delete", "app.delete.title", nil, errs, map[string]string{"confirm": f.Confirm})
	}
	err := h.members.Delete(c.UserContext(), v.ID(), v.Channel)
	if errors.Is(err, members.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", HTTPOnly: true, MaxAge: -1, Expires: time.Unix(1, 0)})
	return ui.Redirect(c, "/", "ok", "flash.account_deleted")
}
