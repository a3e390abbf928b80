package catalog

// WithoutPools makes every search page come from the database (to compare with pools).
func WithoutPools(s *Service) { s.noPools = true }
