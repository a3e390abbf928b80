package web

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"ikra/app/sanitize"
	"ikra/app/web/ui"
)

// cleanInput makes every text a handler may store safe for the database before any
// handler sees it: NUL bytes are dropped and invalid UTF-8 replaced (sanitize.Text) in
// query and form values, multipart fields and file names, JSON strings, cookies and
// the User-Agent. PostgreSQL refuses such text with an error, which would otherwise
// surface as a 500. A path holding them names nothing here and is refused.
func cleanInput(c *fiber.Ctx) error {
	if sanitize.Dirty(c.Path()) {
		return ui.ErrBadRequest
	}
	req := c.Request()
	cleanArgs(req.URI().QueryArgs())
	ct := strings.ToLower(string(req.Header.ContentType()))
	switch {
	case strings.HasPrefix(ct, fiber.MIMEApplicationForm):
		if args := req.PostArgs(); cleanArgs(args) {
			req.SetBody(args.QueryString()) // the parsed arguments stay as cleaned
		}
	case strings.HasPrefix(ct, fiber.MIMEMultipartForm):
		if f, err := req.MultipartForm(); err == nil {
			for k, vs := range f.Value {
				for i := range vs {
					vs[i] = sanitize.Text(vs[i])
				}
				if ck := sanitize.Text(k); ck != k {
					delete(f.Value, k)
					f.Value[ck] = append(f.Value[ck], vs...)
				}
			}
			for _, fhs := range f.File {
				for _, fh := range fhs {
					fh.Filename = sanitize.Text(fh.Filename)
				}
			}
		}
	case strings.Contains(ct, "json"):
		if body, ok := cleanJSON(req.Body()); ok {
			req.SetBody(body)
		}
	}
	cleanCookies(&req.Header)
	if ua := req.Header.UserAgent(); sanitize.DirtyBytes(ua) {
		req.Header.SetUserAgent(sanitize.Text(string(ua)))
	}
	return c.Next()
}

// cleanArgs cleans query or form arguments in place and reports whether any changed.
func cleanArgs(args *fasthttp.Args) bool {
	dirty := false
	args.VisitAll(func(k, v []byte) {
		dirty = dirty || sanitize.DirtyBytes(k) || sanitize.DirtyBytes(v)
	})
	if !dirty {
		return false
	}
	var pairs [][2]string
	args.VisitAll(func(k, v []byte) {
		pairs = append(pairs, [2]string{sanitize.Text(string(k)), sanitize.Text(string(v))})
	})
	args.Reset()
	for _, p := range pairs {
		args.Add(p[0], p[1])
	}
	return true
}

// cleanJSON rewrites a JSON body whose strings hold NUL (raw or as \u0000) or invalid
// UTF-8. A body that is not JSON is left for the handler to refuse.
func cleanJSON(body []byte) ([]byte, bool) {
	if !sanitize.DirtyBytes(body) && !bytes.Contains(bytes.ToLower(body), []byte(`\u0000`)) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(bytes.ToValidUTF8(bytes.ReplaceAll(body, []byte{0}, nil), []byte("\uFFFD"))))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	out, err := json.Marshal(cleanValue(v))
	if err != nil {
		return nil, false
	}
	return out, true
}

func cleanValue(v any) any {
	switch t := v.(type) {
	case string:
		return sanitize.Text(t)
	case []any:
		for i := range t {
			t[i] = cleanValue(t[i])
		}
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[sanitize.Text(k)] = cleanValue(e)
		}
		return out
	}
	return v
}

// cleanCookies cleans cookie names and values in place.
func cleanCookies(h *fasthttp.RequestHeader) {
	var dirty [][2]string
	h.VisitAllCookie(func(k, v []byte) {
		if sanitize.DirtyBytes(k) || sanitize.DirtyBytes(v) {
			dirty = append(dirty, [2]string{string(k), string(v)})
		}
	})
	for _, kv := range dirty {
		h.DelCookie(kv[0])
		if k := sanitize.Text(kv[0]); k != "" {
			h.SetCookie(k, sanitize.Text(kv[1]))
		}
	}
}
