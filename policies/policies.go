// Package policies embeds the Casbin model and the base policy: which role may do what.
// Who holds which role, and in which partner, comes from the database.
package policies

import _ "embed"

// Model is the Casbin model: RBAC with domains.
//
//go:embed model.conf
var Model string

// Policy is the base policy: role, domain pattern, permission pattern.
//
//go:embed policy.csv
var Policy string
