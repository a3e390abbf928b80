package jobs

// TypeRemindClaims reminds staff of claims whose 30-day deadline is 7 days and 1 day
// away, once each (claims.Service.Remind); it runs periodically.
const TypeRemindClaims = "claims:remind"
