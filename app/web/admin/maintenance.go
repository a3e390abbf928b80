package admin

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/maintenance"
	"ikra/app/web/ui"
)

// Maintenance switches the platform's maintenance mode on and off.
type Maintenance struct {
	render *ui.Renderer
	mode   *maintenance.Service
}

// NewMaintenance returns the maintenance mode's handlers.
func NewMaintenance(r *ui.Renderer, m *maintenance.Service) *Maintenance {
	return &Maintenance{render: r, mode: m}
}

// untilLayout is how the expected end is typed (datetime-local, Almaty time).
const untilLayout = "2006-01-02T15:04"

// Page shows the mode and the form (GET /admin/maintenance).
func (h *Maintenance) Page(c *fiber.Ctx) error {
	st, err := h.mode.Current(c.UserContext())
	if err != nil {
		return err
	}
	return h.render.Render(c, ui.LayoutAdmin, "admin/maintenance", "admin.maintenance.title", h.data(st))
}

func (h *Maintenance) data(st maintenance.State) fiber.Map {
	until := ""
	if !st.Until.IsZero() {
		until = st.Until.In(ui.Almaty).Format(untilLayout)
	}
	return fiber.Map{"State": st, "Until": until}
}

// maintenanceForm is the switch as posted: on=1 turns the mode on with the message and
// the expected end, anything else turns it off.
type maintenanceForm struct {
	On             bool
	Message, Until string
	until          time.Time
}

func (f *maintenanceForm) validate(now time.Time) ui.FieldErrors {
	errs := ui.FieldErrors{}
	if !f.On {
		return errs
	}
	if len([]rune(f.Message)) > maintenance.MaxMessage {
		errs.Add("message", "claims.error.too_long")
	}
	if f.Until != "" {
		t, err := time.ParseInLocation(untilLayout, f.Until, ui.Almaty)
		switch {
		case err != nil:
			errs.Add("until", "form.date_invalid")
		case !t.After(now):
			errs.Add("until", "admin.maintenance.until_past")
		}
		f.until = t
	}
	return errs
}

// Save switches the mode (POST /admin/maintenance).
func (h *Maintenance) Save(c *fiber.Ctx) error {
	f := maintenanceForm{On: c.FormValue("on") == "1", Message: strings.TrimSpace(c.FormValue("message")),
		Until: strings.TrimSpace(c.FormValue("until"))}
	if errs := f.validate(time.Now()); len(errs) > 0 {
		st, err := h.mode.Current(c.UserContext())
		if err != nil {
			return err
		}
		return h.render.Invalid(c, ui.LayoutAdmin, "admin/maintenance", "admin.maintenance.title", h.data(st), errs,
			map[string]string{"message": f.Message, "until": f.Until})
	}
	err := h.mode.Switch(c.UserContext(), actor(c), maintenance.State{On: f.On, Message: f.Message, Until: f.until})
	if errors.Is(err, maintenance.ErrInvalid) {
		return ui.Fail(fiber.StatusUnprocessableEntity, "error.bad_request", err)
	}
	if err != nil {
		return err
	}
	if f.On {
		return ui.Redirect(c, "/admin/maintenance", "ok", "flash.maintenance_on")
	}
	return ui.Redirect(c, "/admin/maintenance", "ok", "flash.maintenance_off")
}
