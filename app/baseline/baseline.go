// Package baseline serves the reference pages a load run of the catalog is compared
// with (`ikra baseline`, driven by .ci/perf-catalog): the fastest a Fiber handler can
// answer a page of the catalog's size, and the least a page of 20 offers can cost —
// one indexed query rendered with html/template, or written as JSON. It reads the same
// database as the server and is a measuring tool, never part of the product.
package baseline

import (
	"bytes"
	"context"
	"database/sql"
	"html/template"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Limit is how many offers /minimal and /minimal.json list.
const Limit = 20

// Offer is what the minimal page shows of an offer.
type Offer struct {
	ID         int    `json:"id"`
	Title      string `json:"title"`
	Summary    string `json:"summary"`
	PartnerID  int    `json:"partner_id"`
	CashbackBP int    `json:"cashback_bp"`
}

// newestQuery lists the newest published offers; it walks the offers (status,
// published_at) index backwards and stops after Limit rows.
const newestQuery = `SELECT id, title, summary, partner_id, cashback_bp FROM offers
WHERE status = 'published' AND published_at IS NOT NULL
ORDER BY published_at DESC, id DESC LIMIT 20` // Limit

var page = template.Must(template.New("minimal").Parse(`<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Предложения</title></head>
<body><main><h1>Предложения</h1>
<ul>{{range .}}
<li><a href="/app/offers/{{.ID}}"><h2>{{.Title}}</h2></a><p>{{.Summary}}</p><p>Партнёр {{.PartnerID}} · кешбэк {{.CashbackBP}} б.п.</p></li>{{end}}
</ul></main></body></html>
`))

// Server is the baseline web server.
type Server struct {
	App    *fiber.App
	newest *sql.Stmt
	bare   []byte
}

// New builds the server over db: /bare answers a static HTML page of pageBytes bytes,
// /minimal and /minimal.json the newest published offers.
func New(ctx context.Context, db *sql.DB, pageBytes int) (*Server, error) {
	// Prepared once: the query has no parameters, so it reads the same on SQLite and
	// PostgreSQL.
	stmt, err := db.PrepareContext(ctx, newestQuery)
	if err != nil {
		return nil, err
	}
	s := &Server{newest: stmt, bare: BarePage(pageBytes)}
	s.App = fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
	})
	s.App.Get("/bare", s.bareHandler)
	s.App.Get("/minimal", s.minimal)
	s.App.Get("/minimal.json", s.minimalJSON)
	return s, nil
}

// Close releases the prepared statement.
func (s *Server) Close() error { return s.newest.Close() }

// Listen serves on addr until ctx ends.
func (s *Server) Listen(ctx context.Context, addr string) error {
	errc := make(chan error, 1)
	go func() { errc <- s.App.Listen(addr) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return s.App.ShutdownWithTimeout(5 * time.Second)
	}
}

// BarePage is a valid HTML page of exactly n bytes (at least its fixed frame, about
// 100 bytes).
func BarePage(n int) []byte {
	const head = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>bare</title></head><body><p>"
	const tail = "</p></body></html>\n"
	fill := max(0, n-len(head)-len(tail))
	var b bytes.Buffer
	b.Grow(len(head) + fill + len(tail))
	b.WriteString(head)
	line := strings.Repeat("x", 79) + "\n"
	for fill > 0 {
		k := min(fill, len(line))
		b.WriteString(line[len(line)-k:])
		fill -= k
	}
	b.WriteString(tail)
	return b.Bytes()
}

func (s *Server) bareHandler(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(s.bare)
}

// Newest runs the one query of the minimal pages.
func (s *Server) Newest(ctx context.Context) ([]Offer, error) {
	rows, err := s.newest.QueryContext(ctx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Offer, 0, Limit)
	for rows.Next() {
		var o Offer
		if err := rows.Scan(&o.ID, &o.Title, &o.Summary, &o.PartnerID, &o.CashbackBP); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

func (s *Server) minimal(c *fiber.Ctx) error {
	offers, err := s.Newest(c.UserContext())
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := page.Execute(&b, offers); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(b.Bytes())
}

func (s *Server) minimalJSON(c *fiber.Ctx) error {
	offers, err := s.Newest(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"offers": offers})
}
