package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/engine"
)

// Defaults of the issue batching (see the package documentation, "Batched
// issuance").
const (
	DefaultMaxBatch     = 16
	DefaultIssueWorkers = 2
	// batchTimeout bounds one batched transaction. It runs on behalf of
	// several callers, so no single caller's context may cancel it.
	batchTimeout = 30 * time.Second
)

// issueCall is one Issue waiting for, or taken into, a batch.
type issueCall struct {
	ctx      context.Context
	req      engine.IssueRequest
	groups   []string
	wrappers []string
	verifier string
	until    string

	// Set under issueQueue.mu.
	taken bool
	alone bool // handed back: its caller issues it alone
	done  bool
	resp  engine.IssueResponse
	err   error
}

// issueQueue coalesces concurrent Issue calls into batches, as a two-stage
// pipeline: at most one batch is being prepared (catalog reads, CREATE
// ROLE statements, waiting for the per-database locks) while at most
// workers-1 others hold their locks and finish (the ACL rewrites and the
// commit, which are serialized per database anyway). A new batch forms only
// when the one being prepared has its locks, so that calls arriving in the
// meantime are gathered into it.
//
// Batches are run by the callers themselves: a caller whose call is pending
// and who finds the preparation stage free takes up to maxBatch pending
// calls (its own or older ones) and runs their transaction. Calls that must
// be issued alone (see runBatch) are handed back to their own callers, who
// issue them on their own goroutines and contexts; every caller returns as
// soon as its own call is done. Without contention a batch holds one call:
// batching adds one round trip to an idle engine.
type issueQueue struct {
	mu        sync.Mutex
	cond      *sync.Cond
	pending   []*issueCall
	preparing bool // a batch has not yet taken its locks
	active    int  // batches running
	workers   int
	maxBatch  int
}

func newIssueQueue(workers, maxBatch int) *issueQueue {
	q := &issueQueue{workers: max(workers, 1), maxBatch: max(maxBatch, 1)}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// do returns once c is done: served by a batch that this caller or another
// ran, or handed back by it and then issued here by alone. A caller whose
// context ends before its call is taken into a batch leaves the queue with
// the context's error; once taken, the call runs to its end (bounded by
// batchTimeout, or by the caller's own context when issued alone). run must
// call locked once the batch holds its locks (or gave up on them); do calls
// it in any case when run returns.
func (q *issueQueue) do(c *issueCall, run func(batch []*issueCall, locked func()), alone func(*issueCall) (engine.IssueResponse, error)) {
	stop := context.AfterFunc(c.ctx, func() {
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, c)
	for !c.done {
		if c.alone {
			// Handed back by the batch: issue it here, alone.
			q.mu.Unlock()
			resp, err := alone(c)
			q.mu.Lock()
			c.done, c.resp, c.err = true, resp, err
			return
		}
		if !c.taken && c.ctx.Err() != nil {
			q.pending = slices.DeleteFunc(q.pending, func(p *issueCall) bool { return p == c })
			c.done, c.err = true, fmt.Errorf("issue login: %w", c.ctx.Err())
			return
		}
		if !q.preparing && q.active < q.workers && len(q.pending) > 0 {
			q.preparing = true
			q.active++
			n := min(len(q.pending), q.maxBatch)
			batch := slices.Clone(q.pending[:n])
			q.pending = slices.Delete(q.pending, 0, n)
			for _, b := range batch {
				b.taken = true
			}
			q.mu.Unlock()
			q.runTaken(batch, run)
			continue
		}
		q.cond.Wait()
	}
}

// runTaken runs a batch taken by do (called without q.mu, returns with it
// held). If run panics, the queue is put right first — the preparation
// stage released, the batch no longer running, its unfinished calls failed
// — so that no caller waits forever, and the panic goes on up this caller's
// stack.
func (q *issueQueue) runTaken(batch []*issueCall, run func(batch []*issueCall, locked func())) {
	locked := sync.OnceFunc(func() {
		q.mu.Lock()
		q.preparing = false
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer func() {
		p := recover()
		locked()
		q.mu.Lock()
		q.active--
		if p != nil {
			for _, c := range batch {
				if !c.done {
					c.done, c.err = true, fmt.Errorf("issue login: internal error in a batch: %v", p)
				}
			}
		}
		q.cond.Broadcast()
		if p != nil {
			panic(p)
		}
	}()
	run(batch, locked)
}

// finish records a call's result and wakes its caller.
func (q *issueQueue) finish(c *issueCall, resp engine.IssueResponse, err error) {
	q.mu.Lock()
	c.done, c.resp, c.err = true, resp, err
	q.cond.Broadcast()
	q.mu.Unlock()
}

// handBack returns calls to their callers, to be issued alone.
func (q *issueQueue) handBack(calls []*issueCall) {
	if len(calls) == 0 {
		return
	}
	q.mu.Lock()
	for _, c := range calls {
		c.alone = true
	}
	q.cond.Broadcast()
	q.mu.Unlock()
}

// runBatch serves calls taken together, in one transaction, except calls
// that must create the db user or the marker role first (handed back to
// their callers for the single path, after the batch) and calls whose check
// fails (they get their error, as alone). If the batched transaction fails,
// every call is handed back for the single path, with its caller's context
// and retries, so a batch does not fail a call that would succeed alone
// (one case aside: a COMMIT whose outcome never reached dbiam, say the
// connection dropped during it; a call then issued alone may find its login
// already there and fail with ErrLoginExists, and the reaper drops that
// login at expiry).
func (e *Engine) runBatch(calls []*issueCall, locked func()) {
	var live []*issueCall
	for _, c := range calls {
		if err := c.ctx.Err(); err != nil {
			e.queue.finish(c, engine.IssueResponse{}, fmt.Errorf("issue login: %w", err))
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(live[0].ctx), batchTimeout)
	results, alone, err := e.issueBatchOnce(ctx, live, locked)
	cancel()
	locked()
	if err != nil {
		e.log.DebugContext(live[0].ctx, "postgres engine: batched issue failed; issuing one by one", "logins", len(live), "sqlstate", sqlState(err))
		alone = live
	} else {
		for i, c := range live {
			if results[i].done {
				e.queue.finish(c, results[i].resp, results[i].err)
			}
		}
	}
	e.queue.handBack(alone)
}

// batchResult is the outcome of one call in a batch; done false means the
// call takes the single path.
type batchResult struct {
	done bool
	resp engine.IssueResponse
	err  error
}

// issueBatchOnce issues the logins of calls in one transaction, in three
// round trips: BEGIN and the catalog read of every call (which switches
// statement logging off); then, for the calls that pass their checks, the
// CREATE ROLE statements, the logging reset, the settings and comments, and
// the per-database advisory locks (oid order), after which it calls locked;
// then one GRANT CONNECT per database for all of them, and COMMIT. It
// returns the calls that take the single path instead (a db user or marker
// to create, a login name repeated in the batch), or an error if the
// transaction failed (nothing written).
func (e *Engine) issueBatchOnce(ctx context.Context, calls []*issueCall, locked func()) (results []batchResult, single []*issueCall, err error) {
	conn, err := e.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()
	defer func() {
		if err != nil {
			rollback(conn)
		}
	}()
	var quiet []string
	if !e.keepLogging {
		if quiet, err = e.settable(ctx, conn.Conn()); err != nil {
			return nil, nil, fmt.Errorf("check logging privileges: %w", err)
		}
	}
	plans := make([]*plan, len(calls))
	reqs := make([]engine.IssueRequest, len(calls))
	dbs := map[string]*[]dbState{}
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	for i, c := range calls {
		plans[i], reqs[i] = &plan{quiet: quiet}, c.req
		if dbs[c.req.DbName] == nil {
			// Logging goes off with the first read, for the whole batch.
			var q []string
			if len(dbs) == 0 {
				q = quiet
			}
			dbs[c.req.DbName] = new([]dbState)
			e.queueDatabases(b, c.req.DbName, q, dbs[c.req.DbName])
		}
	}
	e.queueRoles(b, plans, reqs)
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		if sqlState(err) == codeInsufficientPriv && len(quiet) > 0 {
			e.forgetSettable()
		}
		return nil, nil, err
	}

	for i, c := range calls {
		plans[i].dbs = *dbs[c.req.DbName]
	}
	if e.afterBatchRead != nil {
		e.afterBatchRead()
	}
	results = make([]batchResult, len(calls))
	var writing []int
	seen := map[string]bool{}
	for i, c := range calls {
		p := plans[i]
		if err := e.check(c.req, p); err != nil {
			results[i] = batchResult{done: true, err: fmt.Errorf("issue login: %w", err)}
			continue
		}
		if seen[c.req.LoginName] || !p.markerExists || !p.userExists {
			// The single path creates the user or marker (and reports
			// CreatedUser), or finds the login name taken.
			single = append(single, c)
			continue
		}
		seen[c.req.LoginName] = true
		writing = append(writing, i)
	}
	if len(writing) == 0 {
		return results, single, execAll(ctx, conn.Conn(), []stmt{plain("ROLLBACK")})
	}
	// In db user order: from PostgreSQL 16, CREATE ROLE … IN ROLE locks the
	// role granted until COMMIT, and two batches taking those locks in
	// different orders would deadlock.
	slices.SortFunc(writing, func(a, b int) int {
		return cmp.Or(cmp.Compare(calls[a].req.DbUser, calls[b].req.DbUser), cmp.Compare(calls[a].req.LoginName, calls[b].req.LoginName))
	})

	_, restore := quietSQL(quiet) // switched off by the first read
	var stmts []stmt
	for _, i := range writing {
		c := calls[i]
		stmts = append(stmts, plain("CREATE ROLE "+ident(c.req.LoginName)+" LOGIN NOINHERIT PASSWORD "+quoteLiteral(c.verifier)+
			" VALID UNTIL "+quoteLiteral(c.until)+" IN ROLE "+ident(c.req.DbUser)+" ROLE "+ident(e.marker)))
	}
	if restore != "" {
		stmts = append(stmts, plain(restore))
	}
	type grant struct {
		db     dbState
		logins []string
	}
	var grants []*grant
	for _, i := range writing {
		c := calls[i]
		login := ident(c.req.LoginName)
		stmts = append(stmts, plain("ALTER ROLE "+login+" SET role = "+quoteLiteral(c.req.DbUser)))
		if c.req.Comment != "" {
			stmts = append(stmts, plain("COMMENT ON ROLE "+login+" IS "+quoteLiteral(c.req.Comment)))
		}
		resp := engine.IssueResponse{LoginName: c.req.LoginName, DbUser: c.req.DbUser, LogsSuppressed: suppressesLogs(quiet),
			ValidUntil: c.req.ValidUntil.UTC().Truncate(time.Microsecond)}
		for _, d := range plans[i].dbs {
			if !d.canGrant {
				continue
			}
			j := slices.IndexFunc(grants, func(g *grant) bool { return g.db.oid == d.oid })
			if j < 0 {
				grants = append(grants, &grant{db: d})
				j = len(grants) - 1
			}
			grants[j].logins = append(grants[j].logins, login)
			resp.ConnectGranted = append(resp.ConnectGranted, d.name)
		}
		results[i] = batchResult{done: true, resp: resp}
	}
	// The ACL rewrites come last, under the per-database locks (taken in
	// oid order), in their own round trip: the next batch is prepared
	// while this one holds the locks.
	slices.SortFunc(grants, func(a, b *grant) int { return cmp.Compare(a.db.oid, b.db.oid) })
	for _, g := range grants {
		stmts = append(stmts, plain(fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", lockKey(g.db.oid))))
	}
	var last []stmt
	for _, g := range grants {
		last = append(last, plain("GRANT CONNECT ON DATABASE "+ident(g.db.name)+" TO "+strings.Join(g.logins, ", ")))
	}
	last = append(last, plain("COMMIT"))
	secrets := make([]string, 0, 2*len(writing))
	for _, i := range writing {
		secrets = append(secrets, calls[i].verifier, calls[i].req.Password.Reveal())
	}
	if err := execAll(ctx, conn.Conn(), stmts); err != nil {
		return nil, nil, scrub(fmt.Errorf("batched issue of %d logins: %w", len(writing), err), secrets...)
	}
	locked()
	if err := execAll(ctx, conn.Conn(), last); err != nil {
		return nil, nil, scrub(fmt.Errorf("batched issue of %d logins: %w", len(writing), err), secrets...)
	}
	if e.observeBatch != nil {
		e.observeBatch(len(writing))
	}
	return results, single, nil
}
