package partners

import (
	"ikra/ent/partner"
	"ikra/ent/predicate"
)

func partnerIDIs(id int) predicate.Partner { return partner.ID(id) }
