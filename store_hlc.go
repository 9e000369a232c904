// The hybrid logical clock that stamps every op.

package main

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HLC is a hybrid logical clock timestamp: physical milliseconds, a counter
// that orders events within one millisecond, and the replica that made it.
// Its String form sorts in the same order as Less, so the store can index
// and compare it as text.
type HLC struct {
	Wall    int64  // unix milliseconds
	Counter uint32 // tie-breaker within Wall
	Replica string // replica id
}

// Less orders timestamps by wall time, counter, then replica id.
func (h HLC) Less(o HLC) bool {
	if h.Wall != o.Wall {
		return h.Wall < o.Wall
	}
	if h.Counter != o.Counter {
		return h.Counter < o.Counter
	}
	return h.Replica < o.Replica
}

// IsZero reports whether h is the zero timestamp.
func (h HLC) IsZero() bool { return h.Wall == 0 && h.Counter == 0 && h.Replica == "" }

// String formats h as "WWWWWWWWWWWWW.CCCCCC.replica" with fixed-width numbers.
func (h HLC) String() string {
	return fmt.Sprintf("%013d.%06d.%s", h.Wall, h.Counter, h.Replica)
}

// parseHLC parses the String form.
func parseHLC(s string) (HLC, error) {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) != 3 {
		return HLC{}, fmt.Errorf("bad hlc %q: want wall.counter.replica", s)
	}
	wall, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return HLC{}, fmt.Errorf("bad hlc %q: wall: %w", s, err)
	}
	ctr, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return HLC{}, fmt.Errorf("bad hlc %q: counter: %w", s, err)
	}
	return HLC{Wall: wall, Counter: uint32(ctr), Replica: parts[2]}, nil
}

// hlcClock issues monotonically increasing HLC timestamps for one replica
// and absorbs timestamps received from others.
type hlcClock struct {
	mu      sync.Mutex
	last    HLC
	replica string
	now     func() time.Time
}

func newHLCClock(replica string, now func() time.Time) *hlcClock {
	if now == nil {
		now = time.Now
	}
	return &hlcClock{replica: replica, now: now, last: HLC{Replica: replica}}
}

// Now returns a timestamp greater than every one issued or observed before.
func (c *hlcClock) Now() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	pt := c.now().UnixMilli()
	if pt > c.last.Wall {
		c.last = HLC{Wall: pt, Replica: c.replica}
	} else {
		c.last = HLC{Wall: c.last.Wall, Counter: c.last.Counter + 1, Replica: c.replica}
	}
	return c.last
}

// Observe absorbs a timestamp from another replica (or from the store at
// start-up), so later local timestamps sort after it.
func (c *hlcClock) Observe(h HLC) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h.Wall > c.last.Wall || (h.Wall == c.last.Wall && h.Counter > c.last.Counter) {
		c.last = HLC{Wall: h.Wall, Counter: h.Counter, Replica: c.replica}
	}
}
