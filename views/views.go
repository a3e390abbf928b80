// Package views embeds the HTML templates: layouts, partials, and one folder per workspace.
package views

import "embed"

// FS holds every template.
//
//go:embed layouts partials errors public auth app tg partner admin
var FS embed.FS
