package ui

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/catalog"
)

// CatalogForm is the catalog's filter as the page and the API receive it (query
// parameters category, city, kind, bonus, available, q, cursor, limit).
type CatalogForm struct {
	Category, City, Kind, Bonus, Available, Q, Cursor, Limit string
	// All asks for every offer newest first rather than the personal first page (all=1).
	All bool
}

// ReadCatalogForm reads the filter's query parameters, copied (Fiber reuses their memory).
func ReadCatalogForm(c *fiber.Ctx) CatalogForm {
	q := func(k string) string { return strings.Clone(c.Query(k)) }
	return CatalogForm{Category: q("category"), City: q("city"), Kind: q("kind"), Bonus: q("bonus"), Available: q("available"),
		Q: q("q"), Cursor: q("cursor"), Limit: q("limit"), All: flag(c.Query("all"))}
}

// Filter validates the form into a catalog filter; a malformed value is an error that
// CatalogError turns into a 400.
func (f CatalogForm) Filter() (catalog.Filter, error) {
	out := catalog.Filter{Kind: strings.TrimSpace(f.Kind), Query: f.Q, Cursor: strings.TrimSpace(f.Cursor),
		Bonus: flag(f.Bonus), Available: flag(f.Available)}
	var err error
	if out.CategoryID, err = optionalID(f.Category); err != nil {
		return out, err
	}
	if out.CityID, err = optionalID(f.City); err != nil {
		return out, err
	}
	if out.Limit, err = optionalID(f.Limit); err != nil {
		return out, err
	}
	return out, nil
}

// Values is the form as template data, for the filter bar and the "more" link.
func (f CatalogForm) Values() map[string]string {
	return map[string]string{"category": f.Category, "city": f.City, "kind": f.Kind, "bonus": boolParam(flag(f.Bonus)),
		"available": boolParam(flag(f.Available)), "q": f.Q, "all": boolParam(f.All)}
}

// MoreURL is path with the same filter and the next page's cursor.
func (f CatalogForm) MoreURL(path, next string) string {
	v := url.Values{}
	for k, s := range f.Values() {
		if s != "" {
			v.Set(k, s)
		}
	}
	v.Set("cursor", next)
	return path + "?" + v.Encode()
}

func boolParam(b bool) string {
	if b {
		return "1"
	}
	return ""
}

func flag(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "off", "no":
		return false
	}
	return true
}

func optionalID(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, catalog.ErrBadFilter
	}
	return n, nil
}

// CatalogError is the 400 for a malformed filter, a forged or broken cursor, or a query
// followed too deep; nil for any other error.
func CatalogError(err error) *Error {
	switch {
	case errors.Is(err, catalog.ErrBadFilter):
		return &Error{Status: fiber.StatusBadRequest, Key: "error.catalog_filter", Err: err}
	case errors.Is(err, catalog.ErrBadCursor):
		return &Error{Status: fiber.StatusBadRequest, Key: "error.catalog_cursor", Err: err}
	case errors.Is(err, catalog.ErrTooDeep):
		return &Error{Status: fiber.StatusBadRequest, Key: "error.catalog_depth", Err: err}
	}
	return nil
}
