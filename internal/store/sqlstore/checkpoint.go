package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// checkpointEvery is how often the background checkpointer copies the WAL into the database.
const checkpointEvery = 250 * time.Millisecond

// walBackstop is the writer's own wal_autocheckpoint (pages): it only acts if the background
// checkpointer falls behind by this much, so that the WAL cannot grow without bound.
const walBackstop = 16384

// checkpointer copies SQLite's WAL back into the database file from its own connection, every
// checkpointEvery, in PASSIVE mode (it never waits for, nor blocks, the writer or the readers).
//
// Left to the writer (SQLite's default), a checkpoint runs inside the commit that crosses
// wal_autocheckpoint pages, and every write waiting behind that commit waits for it: with 1000
// pages that is frequent and copies the hot pages of refresh_tokens and logs again and again;
// with 8192 it copies each page fewer times (less CPU per refresh) but stalls the writer for
// tens of milliseconds (the refresh p99 went from ~30 to ~100 ms). Off the writer, checkpoints
// cost the writer nothing and, being frequent, stay short.
type checkpointer struct {
	db   *sql.DB
	quit chan struct{}
	done chan struct{}
}

func startCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-c.quit:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				// A failed checkpoint (the database busy in another process) is retried at
				// the next tick; the writer's backstop bounds the WAL meanwhile.
				_, _ = c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
				cancel()
			}
		}
	}()
	return c
}

func (c *checkpointer) stop() error {
	close(c.quit)
	<-c.done
	return c.db.Close()
}
