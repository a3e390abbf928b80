package jobs

// TypeAnnounceTerms tells every member about newly published terms versions, in batches,
// once each (terms.Service.Announce); it runs periodically.
const TypeAnnounceTerms = "terms:announce"
