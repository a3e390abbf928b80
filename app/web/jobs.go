package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/hibiken/asynqmon"
)

// jobsRoot is where the jobs monitor is mounted.
const jobsRoot = "/admin/jobs"

// jobsCSP relaxes the policy for asynqmon's page only: its index has inline scripts
// (its root path and options) and its UI library injects inline styles. Everything
// else still comes from this site alone.
const jobsCSP = "default-src 'self'; img-src 'self' data:; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"

// jobsMonitor serves asynqmon over the job queue's Redis, read-only: its page calls
// its API with fetch() and no CSRF token, so it may look but change nothing (checkCSRF
// would refuse its POST and DELETE calls anyway, and the route table registers only
// GET). Without a queue connection it answers 404.
func (s *Server) jobsMonitor() fiber.Handler {
	if s.queue == nil {
		return func(*fiber.Ctx) error { return fiber.ErrNotFound }
	}
	mon := asynqmon.New(asynqmon.Options{RootPath: jobsRoot, RedisConnOpt: s.queue, ReadOnly: true})
	s.closers = append(s.closers, mon.Close)
	h := adaptor.HTTPHandler(mon)
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentSecurityPolicy, jobsCSP)
		return h(c)
	}
}
