// Keeping hephd up when one of its background goroutines panics: recover, log the stack, back off, run again.

package main

import (
	"context"
	"fmt"
	"log"
	"runtime/debug"
	"time"
)

// runGuarded runs fn until it returns. A panic in fn is logged with its
// stack and fn runs again after a backoff (1 s doubling up to
// syncMaxBackoff), so hostile input that slips past a check costs a log
// line and a pause, never the daemon. Every long-lived goroutine of hephd
// runs under it.
func runGuarded(ctx context.Context, logger *log.Logger, name string, fn func(context.Context)) {
	for failures := 1; ; failures++ {
		if err := callRecovered(logger, name, func() { fn(ctx) }); err == nil {
			return
		}
		wait := backoff(failures)
		logger.Printf("%s: restarting in %s", name, wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// callRecovered runs fn and turns a panic in it into an error naming what
// ran; the stack goes to the log.
func callRecovered(logger *log.Logger, name string, fn func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			logger.Printf("%s: panic: %v\n%s", name, p, debug.Stack())
			err = fmt.Errorf("%s: internal error (panic: %v; logged by hephd)", name, p)
		}
	}()
	fn()
	return nil
}
