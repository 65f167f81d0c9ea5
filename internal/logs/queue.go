package logs

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sesameauth/sesame/internal/store"
)

// queue is the bounded, never-blocking event queue behind both the Sink and a Stream: put
// drops (and counts) an event rather than wait, because a token request must not wait on its
// audit line; one goroutine drains it in batches.
type queue struct {
	ch      chan store.LogEvent
	done    chan struct{} // closed when drain has returned
	mu      sync.RWMutex  // guards closed against put racing close
	closed  bool
	dropped atomic.Int64

	// What flush waits on: accepted counts the events put queued, handled those drain has
	// finished with; progress is closed (and replaced) whenever handled grows, and kick asks
	// drain to hand over what is queued without waiting out its batching delay.
	accepted atomic.Int64
	fmu      sync.Mutex // guards handled and progress
	handled  int64
	progress chan struct{}
	kick     chan struct{}
}

// queueLen is how many events wait at most; beyond it they are dropped.
const queueLen = 4096

func newQueue() *queue {
	return &queue{ch: make(chan store.LogEvent, queueLen), done: make(chan struct{}),
		progress: make(chan struct{}), kick: make(chan struct{}, 1)}
}

// put queues e without blocking.
func (q *queue) put(e store.LogEvent) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.dropped.Add(1)
		return
	}
	select {
	case q.ch <- e:
		q.accepted.Add(1)
	default:
		q.dropped.Add(1)
	}
}

// drain hands fn each batch until the queue is closed and empty: the first event waiting, then
// whatever arrives within delay of it (delay 0: only what is already queued), at most max.
// fn must not keep the slice.
func (q *queue) drain(max int, delay time.Duration, fn func([]store.LogEvent)) {
	defer close(q.done)
	batch := make([]store.LogEvent, 0, max)
	var timer *time.Timer
	if delay > 0 {
		timer = time.NewTimer(delay)
		defer timer.Stop()
	}
	for e := range q.ch {
		batch = append(batch[:0], e)
		var expired <-chan time.Time
		if timer != nil {
			timer.Reset(delay)
			expired = timer.C
		}
	collect:
		for len(batch) < max {
			if expired == nil {
				select {
				case e, ok := <-q.ch:
					if !ok {
						break collect
					}
					batch = append(batch, e)
				default:
					break collect
				}
				continue
			}
			select {
			case e, ok := <-q.ch:
				if !ok {
					break collect
				}
				batch = append(batch, e)
			case <-expired:
				break collect
			case <-q.kick:
				expired = nil // flush: take what is queued, wait for nothing more
			}
		}
		fn(batch)
		q.fmu.Lock()
		q.handled += int64(len(batch))
		close(q.progress)
		q.progress = make(chan struct{})
		q.fmu.Unlock()
	}
}

// flush waits (until ctx ends) for drain to finish with every event put queued before the
// call. Events put after the call may be handled too; flush does not wait for them.
func (q *queue) flush(ctx context.Context) error {
	target := q.accepted.Load()
	select {
	case q.kick <- struct{}{}:
	default: // a kick is already pending
	}
	for {
		q.fmu.Lock()
		handled, progress := q.handled, q.progress
		q.fmu.Unlock()
		if handled >= target {
			return nil
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// close stops accepting events and waits (until ctx ends) for drain to finish the queued ones.
func (q *queue) close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
