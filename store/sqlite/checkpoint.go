package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// WAL checkpoints. SQLite copies the write-ahead log back into the database
// file (a checkpoint) by default inside the commit that takes the log past
// 1000 pages. A sealing writes about 20 pages, so one commit in fifty also
// copied and synced 4 MB, and every sealing queued behind it waited: that
// was the p99 of a seal (20 ms at concurrency 1, against a p50 of 4 ms).
//
// Here the writer's automatic checkpoint is only a backstop, far away, and
// a goroutine on a connection of its own runs a passive checkpoint after
// commits, at most every checkpointGap. A passive checkpoint takes neither
// the writer's lock nor the readers': commits and reads go on while it
// copies. Small and frequent is what keeps commits fast: a checkpoint
// every 200 ms copied 6 MB at a time under load, and its sync of the
// database file held up the commits' syncs of the log (p99 at concurrency
// 32 rose from 84 to 190 ms). Durability is unchanged: a commit is durable
// when its WAL frames are synced, which synchronous=FULL still does at
// every commit.
const (
	checkpointGap = 20 * time.Millisecond
	// backstopCheckpointPages is the writer's wal_autocheckpoint: the log
	// grows to at most about 64 MB (4 KB pages) if passive checkpoints
	// cannot keep up, for instance while a long read holds old pages.
	backstopCheckpointPages = 16384
)

// checkpointer runs passive checkpoints until stopped.
type checkpointer struct {
	db     *sql.DB
	commit chan struct{} // a commit has added to the log
	stop   context.CancelFunc
	done   chan struct{}
}

// startCheckpointer opens its connection to the database at path (whose
// WAL mode the writer has set) and starts checkpointing.
func startCheckpointer(path, params string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", path+"?"+params)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s for checkpoints: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{db: db, commit: make(chan struct{}, 1), stop: stop, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.commit:
		}
		// A checkpoint that fails (the file is busy with another process's
		// checkpoint, say) loses nothing: its frames stay in the log for
		// the next one, and the writer's backstop bounds the log.
		c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		select {
		case <-ctx.Done():
			return
		case <-time.After(checkpointGap):
		}
	}
}

// committed tells the checkpointer that a commit has added to the log. It
// never blocks; on a nil checkpointer (while the database opens) it does
// nothing.
func (c *checkpointer) committed() {
	if c == nil {
		return
	}
	select {
	case c.commit <- struct{}{}:
	default:
	}
}

// close stops checkpointing and closes the connection.
func (c *checkpointer) close() error {
	c.stop()
	<-c.done
	return c.db.Close()
}
