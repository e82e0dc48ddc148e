package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/engine"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

// noAlone is the alone function of queue tests whose batches hand nothing
// back.
func noAlone(t *testing.T) func(*issueCall) (engine.IssueResponse, error) {
	return func(c *issueCall) (engine.IssueResponse, error) {
		t.Errorf("call %s handed back", c.req.LoginName)
		return engine.IssueResponse{}, errors.New("unexpected")
	}
}

// waitPending waits until q holds n pending calls.
func waitPending(t *testing.T, q *issueQueue, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		q.mu.Lock()
		got := len(q.pending)
		q.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls pending, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// The queue's pipeline: at most one batch is prepared at a time, at most
// workers run, no batch exceeds maxBatch, calls that arrive while a batch
// is prepared are gathered into the next, and every caller gets its own
// result exactly once.
func TestIssueQueuePipeline(t *testing.T) {
	const calls, workers, maxBatch = 40, 2, 8
	q := newIssueQueue(workers, maxBatch)
	var (
		preparing, running, maxPreparing, maxRunning atomic.Int32
		mu                                           sync.Mutex
		sizes                                        []int
		served                                       = map[string]int{}
		firstBatch                                   = make(chan struct{})
		firstStarted                                 = make(chan struct{})
		firstOnce                                    sync.Once
	)
	run := func(batch []*issueCall, locked func()) {
		if n := preparing.Add(1); n > maxPreparing.Load() {
			maxPreparing.Store(n)
		}
		if n := running.Add(1); n > maxRunning.Load() {
			maxRunning.Store(n)
		}
		mu.Lock()
		sizes = append(sizes, len(batch))
		for _, c := range batch {
			served[c.req.LoginName]++
		}
		mu.Unlock()
		isFirst := false
		firstOnce.Do(func() { isFirst = true })
		if isFirst {
			close(firstStarted)
			<-firstBatch // hold the preparation stage until every call waits
		}
		time.Sleep(200 * time.Microsecond)
		preparing.Add(-1)
		locked()
		time.Sleep(500 * time.Microsecond)
		running.Add(-1)
		for _, c := range batch {
			q.finish(c, engine.IssueResponse{LoginName: c.req.LoginName}, nil)
		}
	}
	var wg sync.WaitGroup
	results := make([]*issueCall, calls)
	start := func(i int) {
		defer wg.Done()
		c := &issueCall{ctx: t.Context(), req: engine.IssueRequest{LoginName: fmt.Sprintf("login-%d", i)}}
		q.do(c, run, noAlone(t))
		results[i] = c
	}
	wg.Add(1)
	go start(0)
	<-firstStarted
	for i := 1; i < calls; i++ {
		wg.Add(1)
		go start(i)
	}
	waitPending(t, q, calls-1)
	close(firstBatch)
	wg.Wait()

	for i, c := range results {
		if want := fmt.Sprintf("login-%d", i); c.err != nil || c.resp.LoginName != want {
			t.Errorf("call %d: %+v, %v", i, c.resp, c.err)
		}
	}
	for name, n := range served {
		if n != 1 {
			t.Errorf("%s served %d times", name, n)
		}
	}
	if len(served) != calls {
		t.Errorf("%d calls served, want %d", len(served), calls)
	}
	if maxPreparing.Load() != 1 || maxRunning.Load() > workers {
		t.Errorf("at most %d batches prepared and %d running at once, want 1 and ≤ %d", maxPreparing.Load(), maxRunning.Load(), workers)
	}
	// The first batch held the one call there was; the 39 that waited
	// meanwhile went in full batches.
	if sizes[0] != 1 || sizes[1] != maxBatch {
		t.Errorf("batch sizes %v: want 1, then %d", sizes, maxBatch)
	}
	for _, s := range sizes {
		if s > maxBatch {
			t.Errorf("batch of %d > %d", s, maxBatch)
		}
	}
}

// A caller whose context ends while its call is still pending gets the
// context's error, and its call is never run.
func TestIssueQueueCancelledWhilePending(t *testing.T) {
	q := newIssueQueue(1, 4)
	release := make(chan struct{})
	var ran sync.Map
	run := func(batch []*issueCall, locked func()) {
		for _, c := range batch {
			ran.Store(c.req.LoginName, true)
		}
		<-release
		for _, c := range batch {
			q.finish(c, engine.IssueResponse{LoginName: c.req.LoginName}, nil)
		}
	}
	first := &issueCall{ctx: t.Context(), req: engine.IssueRequest{LoginName: "first"}}
	done := make(chan struct{})
	go func() { q.do(first, run, noAlone(t)); close(done) }()
	for {
		if _, ok := ran.Load("first"); ok {
			break
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(t.Context())
	second := &issueCall{ctx: ctx, req: engine.IssueRequest{LoginName: "second"}}
	secondDone := make(chan struct{})
	go func() { q.do(second, run, noAlone(t)); close(secondDone) }()
	waitPending(t, q, 1)
	cancel()
	select {
	case <-secondDone:
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled caller still waits")
	}
	if !errors.Is(second.err, context.Canceled) {
		t.Errorf("cancelled call: %v", second.err)
	}
	close(release)
	<-done
	if _, ok := ran.Load("second"); ok {
		t.Error("the cancelled call was run")
	}
	if first.err != nil || first.resp.LoginName != "first" {
		t.Errorf("first call: %+v, %v", first.resp, first.err)
	}
}

// A call the batch hands back is issued by its own caller; the other
// callers of the batch return as soon as their calls are done, without
// waiting for it.
func TestIssueQueueHandsBackSlowCalls(t *testing.T) {
	q := newIssueQueue(2, 8)
	hold := make(chan struct{})
	started := make(chan struct{})
	var once sync.Once
	run := func(batch []*issueCall, locked func()) {
		once.Do(func() { close(started); <-hold })
		locked()
		var back []*issueCall
		for _, c := range batch {
			if c.req.LoginName == "slow" {
				back = append(back, c)
				continue
			}
			q.finish(c, engine.IssueResponse{LoginName: c.req.LoginName}, nil)
		}
		q.handBack(back)
	}
	release := make(chan struct{})
	var aloneGoroutine atomic.Value
	alone := func(c *issueCall) (engine.IssueResponse, error) {
		aloneGoroutine.Store(c.req.LoginName)
		<-release
		return engine.IssueResponse{LoginName: c.req.LoginName + " (alone)"}, nil
	}
	call := func(name string) *issueCall {
		return &issueCall{ctx: t.Context(), req: engine.IssueRequest{LoginName: name}}
	}
	first, fast, slow := call("first"), call("fast"), call("slow")
	done := func(c *issueCall) chan struct{} {
		ch := make(chan struct{})
		go func() { q.do(c, run, alone); close(ch) }()
		return ch
	}
	firstDone := done(first)
	<-started // first's batch holds the preparation stage
	fastDone, slowDone := done(fast), done(slow)
	waitPending(t, q, 2)
	close(hold)
	<-firstDone
	select {
	case <-fastDone:
	case <-time.After(10 * time.Second):
		t.Fatal("a finished call waits for a call that was handed back")
	}
	select {
	case <-slowDone:
		t.Fatal("the handed-back call returned before it was issued")
	default:
	}
	close(release)
	<-slowDone
	if slow.err != nil || slow.resp.LoginName != "slow (alone)" || aloneGoroutine.Load() != "slow" {
		t.Errorf("handed-back call: %+v, %v", slow.resp, slow.err)
	}
	if fast.resp.LoginName != "fast" || first.resp.LoginName != "first" {
		t.Errorf("batched calls: %+v, %+v", fast.resp, first.resp)
	}
}

// A batch that panics (a bug) fails its calls, panics up its runner's
// stack only, and leaves the queue working.
func TestIssueQueueSurvivesAPanic(t *testing.T) {
	q := newIssueQueue(2, 8)
	release := make(chan struct{})
	var runs atomic.Int32
	run := func(batch []*issueCall, locked func()) {
		if runs.Add(1) == 1 {
			<-release
			panic("boom")
		}
		for _, c := range batch {
			q.finish(c, engine.IssueResponse{LoginName: c.req.LoginName}, nil)
		}
	}
	call := func(name string) *issueCall {
		return &issueCall{ctx: t.Context(), req: engine.IssueRequest{LoginName: name}}
	}
	first := call("first")
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		q.do(first, run, noAlone(t))
	}()
	for runs.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	if p := <-panicked; p != "boom" {
		t.Fatalf("the runner's caller recovered %v, want the panic", p)
	}
	if first.err == nil || !strings.Contains(first.err.Error(), "internal error") {
		t.Errorf("the call of the panicking batch: %v", first.err)
	}
	done := make(chan struct{})
	after := call("after")
	go func() { q.do(after, run, noAlone(t)); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the queue is stuck after a panic")
	}
	if after.err != nil || after.resp.LoginName != "after" {
		t.Errorf("a call after the panic: %+v, %v", after.resp, after.err)
	}
}

// A batch whose DDL fails (here: another session creates one of its login
// names between the catalog read and the DDL) is rolled back, and each of
// its calls is issued alone: the one whose name was taken fails with
// ErrLoginExists, the others succeed.
func TestBatchFailureFallsBackToSingleIssues(t *testing.T) {
	u := pgtest.New(t)
	e := newEngine(t, Config{URL: u, IssueWorkers: 1, MaxBatch: 8})
	user := "batch_" + randomHex(4)
	first := request(user)
	first.AutoCreate = true
	if _, err := e.Issue(t.Context(), first); err != nil { // creates the user and the marker
		t.Fatal(err)
	}
	admin, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())

	const n = 5
	reqs := make([]engine.IssueRequest, n)
	for i := range reqs {
		reqs[i] = request(user)
	}
	victim := reqs[2].LoginName
	hold := make(chan struct{})
	var batches atomic.Int32
	e.afterBatchRead = func() {
		switch batches.Add(1) {
		case 1: // hold the first batch until the others wait behind it
			<-hold
		case 2:
			if _, err := admin.Exec(context.Background(), "CREATE ROLE "+ident(victim)+" NOLOGIN"); err != nil {
				t.Errorf("create the conflicting role: %v", err)
			}
		}
	}
	var wg sync.WaitGroup
	resps := make([]engine.IssueResponse, n)
	errs := make([]error, n)
	issue := func(i int) {
		defer wg.Done()
		resps[i], errs[i] = e.Issue(t.Context(), reqs[i])
	}
	wg.Add(1)
	go issue(0)
	for batches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := 1; i < n; i++ {
		wg.Add(1)
		go issue(i)
	}
	waitPending(t, e.queue, n-1)
	close(hold)
	wg.Wait()

	for i, err := range errs {
		switch {
		case reqs[i].LoginName == victim:
			if !errors.Is(err, engine.ErrLoginExists) {
				t.Errorf("the call whose name was taken: %v, want ErrLoginExists", err)
			}
		case err != nil:
			t.Errorf("call %d: %v", i, err)
		case resps[i].LoginName != reqs[i].LoginName || resps[i].ValidUntil.IsZero():
			t.Errorf("call %d: response %+v", i, resps[i])
		default:
			conn, err := pgx.ConnectConfig(t.Context(), loginConfig(t, u, reqs[i].LoginName, reqs[i].Password))
			if err != nil {
				t.Errorf("call %d: log in: %v", i, err)
				continue
			}
			conn.Close(t.Context())
		}
	}
	if got := batches.Load(); got != 2 {
		t.Errorf("%d batches, want 2 (one held, one with the four others)", got)
	}
}

// With batching on, an idle engine still issues one login per call, and
// the unbatched configuration works too.
func TestBatchingConfig(t *testing.T) {
	if _, err := New(Config{URL: "postgres://localhost/x", MaxBatch: -1}); err == nil {
		t.Error("negative MaxBatch accepted")
	}
	e := newEngine(t, Config{URL: "postgres://localhost/x", MaxBatch: 1})
	if e.queue != nil {
		t.Error("MaxBatch 1 still batches")
	}
	e = newEngine(t, Config{URL: "postgres://localhost/x"})
	if e.queue == nil || e.queue.workers != DefaultIssueWorkers || e.queue.maxBatch != DefaultMaxBatch {
		t.Errorf("default queue %+v", e.queue)
	}
}

// Batches keep statement logging off for every statement that carries a
// verifier, and on for the rest: with log_statement = all, many concurrent
// issues leave their comments in the server log and no verifier, password
// or CREATE ROLE … PASSWORD statement.
func TestBatchedIssuesNeverLogVerifiers(t *testing.T) {
	u := pgtest.New(t)
	e := newEngine(t, Config{URL: u + "&log_statement=all&log_min_error_statement=error", IssueWorkers: 1})
	logPath := serverLogPath(t, u)
	before, err := os.ReadFile(logPath)
	if err != nil {
		t.Skipf("cannot read the server log: %v", err)
	}
	user := "batchlog_" + randomHex(4)
	first := request(user)
	first.AutoCreate = true
	if _, err := e.Issue(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	reqs := make([]engine.IssueRequest, 24)
	var wg sync.WaitGroup
	errs := make([]error, len(reqs))
	for i := range reqs {
		reqs[i] = request(user)
		reqs[i].Comment = "batchlog-comment-" + randomHex(6)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.Issue(t.Context(), reqs[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	log := waitForLog(t, logPath, len(before), reqs[len(reqs)-1].Comment)
	for _, r := range append(reqs, first) {
		if strings.Contains(log, r.Password.Reveal()) {
			t.Fatalf("a password is in the server log")
		}
	}
	if strings.Contains(log, "SCRAM-SHA-256$") || strings.Contains(log, "PASSWORD") {
		t.Errorf("a statement with a verifier was logged")
	}
	for _, r := range reqs {
		if !strings.Contains(log, r.Comment) {
			t.Errorf("the COMMENT of %s was not logged: logging was not restored", r.LoginName)
		}
	}
	if !strings.Contains(log, "GRANT CONNECT") && !strings.Contains(log, "ALTER ROLE") {
		t.Errorf("the statements after the verifiers were not logged")
	}
}
