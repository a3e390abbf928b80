package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"ikra/app/metrics"
)

// keyRoute holds the request's route series (*metrics.Route), set by the first handler
// of its route line.
const keyRoute = "ikra.route"

// routeMetrics finds a request's route pattern for ikra_http_* without looking at its
// raw path on the way of a request that reached its route: each route line starts with
// a handler that names its series. Only a request refused by a middleware before its
// route (CSRF, body size, maintenance) is matched against the table afterwards.
type routeMetrics struct {
	m         *metrics.Metrics
	byMethod  map[string][]patternSeries
	unmatched map[string]*metrics.Route
}

type patternSeries struct {
	prefix  string // the pattern's static beginning, lower case: most patterns are skipped on it
	pattern string
	series  *metrics.Route
}

func newRouteMetrics(m *metrics.Metrics) *routeMetrics {
	if m == nil {
		return nil
	}
	rm := &routeMetrics{m: m, byMethod: map[string][]patternSeries{}, unmatched: map[string]*metrics.Route{}}
	for _, method := range fiber.DefaultMethods {
		rm.unmatched[method] = m.Route(method, metrics.Unmatched)
	}
	return rm
}

// mark returns the handler that starts the route line of method and pattern; nil when
// metrics are off.
func (rm *routeMetrics) mark(method, pattern string) fiber.Handler {
	if rm == nil {
		return nil
	}
	series := rm.m.Route(method, pattern)
	prefix := strings.ToLower(pattern)
	if i := strings.IndexAny(prefix, ":*+"); i >= 0 {
		prefix = prefix[:i]
	}
	rm.byMethod[method] = append(rm.byMethod[method], patternSeries{prefix: prefix, pattern: pattern, series: series})
	return func(c *fiber.Ctx) error {
		c.Locals(keyRoute, series)
		return c.Next()
	}
}

// notFound marks a request that no route took.
func (rm *routeMetrics) notFound(c *fiber.Ctx) {
	if rm != nil {
		c.Locals(keyRoute, rm.unmatched[c.Method()])
	}
}

// of returns the request's series: the one its route line set, else the route the path
// would have taken, else "unmatched".
func (rm *routeMetrics) of(c *fiber.Ctx) *metrics.Route {
	if rm == nil {
		return nil
	}
	if s, ok := c.Locals(keyRoute).(*metrics.Route); ok {
		return s
	}
	path := strings.ToLower(c.Path())
	if len(path) > 1 {
		path = strings.TrimRight(path, "/")
	}
	for _, p := range rm.byMethod[c.Method()] {
		if strings.HasPrefix(path, p.prefix) && fiber.RoutePatternMatch(path, p.pattern) {
			return p.series
		}
	}
	if s := rm.unmatched[c.Method()]; s != nil {
		return s
	}
	return rm.unmatched[fiber.MethodGet]
}

// add registers a route line with its series' handler in front.
func (s *Server) add(method, path string, handlers ...fiber.Handler) {
	if h := s.routeMetrics.mark(method, path); h != nil {
		handlers = append([]fiber.Handler{h}, handlers...)
	}
	s.App.Add(method, path, handlers...)
}
