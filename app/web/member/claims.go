package member

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ikra/app/claims"
	"ikra/app/images"
	"ikra/app/web/ui"
	"ikra/ent"
)

// Claims serve the member's formal claims (§9.1): the list, the filing form and the
// receipt with the deadline and, once given, the answer.
type Claims struct {
	render *ui.Renderer
	claims *claims.Service
}

// NewClaims returns the member's claim handlers.
func NewClaims(r *ui.Renderer, s *claims.Service) *Claims {
	return &Claims{render: r, claims: s}
}

// ClaimRow is a claim as the member's screens show it.
type ClaimRow struct {
	*ent.Claim
	Number   string
	DaysLeft int
}

func claimRow(c *ent.Claim, now time.Time) ClaimRow {
	return ClaimRow{Claim: c, Number: claims.Number(c.ID), DaysLeft: claims.DaysLeft(c.DueAt, now)}
}

// List shows the member's claims (GET /app/claims).
func (h *Claims) List(c *fiber.Ctx) error {
	list, err := h.claims.Mine(c.UserContext(), ui.ViewerOf(c).ID())
	if err != nil {
		return err
	}
	now := time.Now()
	rows := make([]ClaimRow, len(list))
	for i, cl := range list {
		rows[i] = claimRow(cl, now)
	}
	return h.render.Render(c, ui.LayoutMember, "app/claims", "app.claims.title", fiber.Map{"Claims": rows})
}

func (h *Claims) formData(c *fiber.Ctx) (fiber.Map, error) {
	bs, ps, err := h.claims.Choices(c.UserContext(), ui.ViewerOf(c).ID())
	if err != nil {
		return nil, err
	}
	return fiber.Map{"Bookings": bs, "Partners": ps, "MaxSubject": claims.MaxSubject, "MaxBody": claims.MaxBody,
		"MaxFiles": claims.MaxAttachments}, nil
}

// New shows the filing form (GET /app/claims/new); ?booking= preselects a booking.
func (h *Claims) New(c *fiber.Ctx) error {
	data, err := h.formData(c)
	if err != nil {
		return err
	}
	p := h.render.Page(c, "app.claims.new", data)
	p.Form = map[string]string{"booking": c.Query("booking")}
	return c.Render("app/claim_new", p, ui.LayoutMember)
}

// optionalID reads an optional ID field: "" is 0, anything else must be a positive number.
func optionalID(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

// Create files the claim and shows its receipt (POST /app/claims).
func (h *Claims) Create(c *fiber.Ctx) error {
	v := ui.ViewerOf(c)
	form := map[string]string{"subject": c.FormValue("subject"), "body": c.FormValue("body"),
		"booking": c.FormValue("booking"), "partner": c.FormValue("partner")}
	errs := ui.FieldErrors{}
	bookingID, ok := optionalID(form["booking"])
	if !ok {
		errs.Add("booking", "claims.error.booking")
	}
	partnerID, ok := optionalID(form["partner"])
	if !ok {
		errs.Add("partner", "claims.error.partner")
	}
	channel := "web"
	if v.Channel == "tg" {
		channel = "tg"
	}
	files, err := uploads(c)
	if err != nil {
		errs.Add("files", "claims.error.files_read")
	}
	var cl *ent.Claim
	if len(errs) == 0 {
		cl, err = h.claims.File(c.UserContext(), claims.Filing{MemberID: v.ID(), Subject: form["subject"], Body: form["body"],
			BookingID: bookingID, PartnerID: partnerID, Channel: channel, Attachments: files})
		var bad claims.Invalid
		if errors.As(err, &bad) {
			for f, k := range bad {
				errs.Add(f, k)
			}
		} else if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		data, err := h.formData(c)
		if err != nil {
			return err
		}
		return h.render.Invalid(c, ui.LayoutMember, "app/claim_new", "app.claims.new", data, errs, form)
	}
	return ui.Redirect(c, "/app/claims/"+strconv.Itoa(cl.ID), "ok", "flash.claim_filed")
}

// uploads reads the images attached to the filing form ("files"); a form without
// files (URL-encoded) has none.
func uploads(c *fiber.Ctx) ([][]byte, error) {
	if !strings.HasPrefix(string(c.Request().Header.ContentType()), fiber.MIMEMultipartForm) {
		return nil, nil
	}
	mf, err := c.MultipartForm()
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, fh := range mf.File["files"] {
		if fh.Size == 0 {
			continue // the empty file input of a form sent without a file
		}
		if len(out) == claims.MaxAttachments {
			out = append(out, nil) // one too many: File refuses the count
			break
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(f, images.MaxBytes+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// File is an image attached to one of the member's claims
// (GET /app/claims/:id/files/:name).
func (h *Claims) File(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	r, obj, err := h.claims.Attachment(c.UserContext(), ui.ViewerOf(c).ID(), id, c.Params("name"))
	if errors.Is(err, claims.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	return ui.SendImage(c, r, obj.ContentType, false)
}

// Show is the receipt of one of the member's claims: number, received at, deadline
// (Almaty), status and the answer once given (GET /app/claims/:id).
func (h *Claims) Show(c *fiber.Ctx) error {
	id, err := strconv.Atoi(c.Params("id"))
	if err != nil {
		return ui.ErrNotFound
	}
	cl, err := h.claims.MineOne(c.UserContext(), ui.ViewerOf(c).ID(), id)
	if errors.Is(err, claims.ErrNotFound) {
		return ui.ErrNotFound
	}
	if err != nil {
		return err
	}
	code, partner, err := h.claims.About(c.UserContext(), cl)
	if err != nil {
		return err
	}
	row := claimRow(cl, time.Now())
	p := h.render.Page(c, "", fiber.Map{"Claim": row, "BookingCode": code, "PartnerName": partner, "Files": claims.Files(cl)})
	p.Title = p.L.T("app.claims.receipt", row.Number)
	return c.Render("app/claim", p, ui.LayoutMember)
}
