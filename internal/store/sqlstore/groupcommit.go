package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// SQLite has one writer, and what a short write transaction costs there is mostly its commit:
// writing each dirty page to the WAL (a pwrite per page) and, every wal_autocheckpoint pages,
// copying them back into the database file. A busy server runs many such transactions at once
// (every refresh rotates a token), and they queue for the single write connection anyway.
//
// groupCommit therefore runs the write transactions that are waiting together: one BEGIN, each
// caller's function inside its own SAVEPOINT (rolled back alone when it fails, so callers keep
// all-or-nothing semantics and never see each other's failures), and one COMMIT for all. Pages
// that several transactions touch (the tail of refresh_tokens, index leaves) are written once.
// A caller returns only after the commit that holds its work, so durability is unchanged.
// PostgreSQL has a pool of writers and commits each transaction on its own.
type groupCommit struct {
	reqs     chan *txReq
	quit     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// maxGroup bounds how many transactions one commit holds.
const maxGroup = 64

type txReq struct {
	ctx  context.Context
	fn   func(q querier) error
	errc chan error
}

var errClosed = errors.New("sqlstore: store closed")

func (s *Store) startGroupCommit() {
	g := &groupCommit{reqs: make(chan *txReq), quit: make(chan struct{}), done: make(chan struct{})}
	s.group = g
	go func() {
		defer close(g.done)
		batch := make([]*txReq, 0, maxGroup)
		for {
			var r *txReq
			select {
			case r = <-g.reqs:
			case <-g.quit:
				return
			}
			batch = append(batch[:0], r)
		more:
			for len(batch) < maxGroup {
				select {
				case r := <-g.reqs:
					batch = append(batch, r)
				default:
					break more
				}
			}
			s.stats.groupSize.observe(float64(len(batch)))
			s.runGroup(batch)
		}
	}()
}

// stop ends the committer after the group it is running.
func (g *groupCommit) stop() {
	g.stopOnce.Do(func() { close(g.quit) })
	<-g.done
}

// submit runs fn in a write transaction of the next group and returns its outcome.
func (g *groupCommit) submit(ctx context.Context, fn func(q querier) error) error {
	r := &txReq{ctx: ctx, fn: fn, errc: make(chan error, 1)}
	select {
	case g.reqs <- r:
	case <-ctx.Done():
		return fmt.Errorf("sqlstore: begin: %w", unavailable(ctx.Err()))
	case <-g.quit:
		return errClosed
	}
	// Once handed over, the outcome must be awaited: the work may be committed.
	return <-r.errc
}

// runGroup runs batch in one transaction and answers every request.
func (s *Store) runGroup(batch []*txReq) {
	if len(batch) == 1 {
		r := batch[0]
		r.errc <- s.inTxNow(r.ctx, r.fn)
		return
	}
	errs, err := s.tryGroup(batch)
	if err != nil {
		// The group itself failed (begin, a savepoint statement, the commit): nothing of it is
		// committed, so each transaction runs again on its own and gets its own answer.
		for _, r := range batch {
			r.errc <- s.inTxNow(r.ctx, r.fn)
		}
		return
	}
	for i, r := range batch {
		r.errc <- errs[i]
	}
}

// tryGroup runs each request's function in a savepoint of one transaction and commits. It
// returns each request's own error, or an error of the group as a whole (then all was rolled
// back).
func (s *Store) tryGroup(batch []*txReq) ([]error, error) {
	t, err := s.write.db.BeginTx(context.Background(), nil)
	if err != nil {
		return nil, err
	}
	var missed []string
	defer func() { s.write.prepare(context.Background(), missed) }()
	q := tx{tx: t, p: s.write, missed: &missed, shared: true}
	errs := make([]error, len(batch))
	for i, r := range batch {
		// A caller that gave up while waiting is not run; one that gives up while running
		// is finished (see tx.shared), and told the outcome.
		if err := r.ctx.Err(); err != nil {
			errs[i] = fmt.Errorf("sqlstore: begin: %w", unavailable(err))
			continue
		}
		if _, err := t.ExecContext(context.Background(), "SAVEPOINT g"); err != nil {
			_ = t.Rollback()
			return nil, err
		}
		ferr := r.fn(q)
		var keep commitThen
		if ferr != nil && !errors.As(ferr, &keep) {
			if _, err := t.ExecContext(context.Background(), "ROLLBACK TO g"); err != nil {
				_ = t.Rollback()
				return nil, err
			}
			errs[i] = ferr
		} else {
			errs[i] = keep.err
		}
		if _, err := t.ExecContext(context.Background(), "RELEASE g"); err != nil {
			_ = t.Rollback()
			return nil, err
		}
	}
	if err := t.Commit(); err != nil {
		return nil, err
	}
	return errs, nil
}
