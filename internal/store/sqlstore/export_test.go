package sqlstore

import "time"

// SetReadCacheClock makes s's read cache age its entries on now instead of the wall clock, so
// that a test steps past ReadCacheTTL instead of sleeping. Call it before s is used.
func SetReadCacheClock(s *Store, now func() time.Time) { s.cache.now = now }
