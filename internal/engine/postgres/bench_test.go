package postgres

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/engine"
	"github.com/dbiam/dbiam/internal/engine/enginetest"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

// benchClients is the number of concurrent clients, as in architecture
// decision 8's measurement (4 clients on 2 cores).
var benchClients = envInt("BENCH_CLIENTS", 4)

// BenchmarkIssue measures Issue (catalog checks, log suppression, the DDL,
// one transaction) with 4 concurrent clients, for SCRAM verifiers of 1 and
// 4096 iterations, and (restricted) with DbName on a database where PUBLIC
// lacks CONNECT, so that every login rewrites its ACL: there the engine's
// batching counts. Compare with BenchmarkDirectDDL.
func BenchmarkIssue(b *testing.B) {
	issue := func(e *Engine, req engine.IssueRequest) error {
		_, err := e.Issue(context.Background(), req)
		return err
	}
	for _, iter := range []int{1, 4096} {
		b.Run(fmt.Sprintf("iterations=%d", iter), func(b *testing.B) { benchIssue(b, iter, false, issue) })
	}
	b.Run("restricted", func(b *testing.B) { benchIssue(b, 1, true, issue) })
}

// BenchmarkDirectDDL measures the same CREATE ROLE transaction sent
// straight to the database (Engine.DirectDDL: no catalog reads, no retries,
// one round trip, one login per transaction): the ceiling for
// BenchmarkIssue.
func BenchmarkDirectDDL(b *testing.B) {
	direct := func(e *Engine, req engine.IssueRequest) error {
		return e.DirectDDL(context.Background(), req)
	}
	for _, iter := range []int{1, 4096} {
		b.Run(fmt.Sprintf("iterations=%d", iter), func(b *testing.B) { benchIssue(b, iter, false, direct) })
	}
	b.Run("restricted", func(b *testing.B) { benchIssue(b, 1, true, direct) })
}

func benchIssue(b *testing.B, iterations int, restricted bool, issue func(*Engine, engine.IssueRequest) error) {
	u := pgtest.New(b)
	dbName := ""
	if restricted {
		conn, err := pgx.Connect(context.Background(), u)
		if err != nil {
			b.Fatal(err)
		}
		if err := conn.QueryRow(context.Background(), "SELECT current_database()::text").Scan(&dbName); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Exec(context.Background(), "REVOKE CONNECT ON DATABASE "+ident(dbName)+" FROM PUBLIC"); err != nil {
			b.Fatal(err)
		}
		conn.Close(context.Background())
	}
	e, err := New(Config{URL: u, SCRAMIterations: iterations, MaxConns: int32(benchClients)})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	user := "bench_" + randomHex(4)
	first := engine.IssueRequest{
		LoginName: "IAM:" + user + ":first", DbUser: user, AutoCreate: true, DbName: dbName,
		Password: enginetest.NewPassword(), ValidUntil: time.Now().Add(time.Hour),
	}
	if _, err := e.Issue(context.Background(), first); err != nil { // creates the user and the marker
		b.Fatal(err)
	}
	b.Cleanup(func() { dropLogins(b, u, "IAM:"+user+":%", user) })
	password := enginetest.NewPassword()
	validUntil := time.Now().Add(time.Hour)
	var seq atomic.Int64
	b.SetParallelism((benchClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := engine.IssueRequest{
				LoginName:  fmt.Sprintf("IAM:%s:%d", user, seq.Add(1)),
				DbUser:     user,
				DbName:     dbName,
				Password:   password,
				ValidUntil: validUntil,
				Comment:    "arn:aws:iam::123456789012:user/" + user,
			}
			if err := issue(e, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	dropLogins(b, u, "IAM:"+user+":%", "")
}

// dropLogins drops the benchmark's logins (and user) server-side and
// vacuums the catalogs.
func dropLogins(b *testing.B, u, like, user string) {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `
		DO $$DECLARE r record; n int := 0; BEGIN
			FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE `+quoteLiteral(like)+` LOOP
				EXECUTE format('DROP OWNED BY %I', r.rolname);
				EXECUTE format('DROP ROLE %I', r.rolname);
				n := n + 1;
				IF n % 200 = 0 THEN COMMIT; END IF;
			END LOOP;
		END$$`); err != nil {
		b.Fatal(err)
	}
	if user != "" && !strings.ContainsAny(user, `"'\`) {
		_, _ = conn.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{user}.Sanitize())
	}
	// The test server runs without autovacuum: clean the catalogs so that
	// the next run does not wade through the dead rows of this one.
	if _, err := conn.Exec(ctx, "VACUUM pg_authid, pg_auth_members, pg_db_role_setting, pg_shdescription, pg_shdepend, pg_database"); err != nil {
		b.Fatal(err)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkListManaged lists 1,000 live logins that each hold CONNECT on a
// restricted database (as on a dev cluster, where CONNECT is revoked from
// PUBLIC): what the reaper's reconciliation reads.
func BenchmarkListManaged(b *testing.B) {
	u := pgtest.New(b)
	db := ""
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		b.Fatal(err)
	}
	if err := conn.QueryRow(context.Background(), "SELECT current_database()::text").Scan(&db); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), "REVOKE CONNECT ON DATABASE "+pgx.Identifier{db}.Sanitize()+" FROM PUBLIC"); err != nil {
		b.Fatal(err)
	}
	conn.Close(context.Background())
	e, err := New(Config{URL: u, MaxConns: int32(benchClients)})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	user := "list_" + randomHex(4)
	b.Cleanup(func() { dropLogins(b, u, "IAM:"+user+":%", user) })
	var wg sync.WaitGroup
	var seq atomic.Int64
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := seq.Add(1); n <= 1000; n = seq.Add(1) {
				req := engine.IssueRequest{LoginName: fmt.Sprintf("IAM:%s:%d", user, n), DbUser: user, AutoCreate: true,
					Password: enginetest.NewPassword(), ValidUntil: time.Now().Add(time.Hour)}
				if _, err := e.Issue(context.Background(), req); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ResetTimer()
	for b.Loop() {
		m, err := e.ListManaged(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Logins) < 1000 {
			b.Fatalf("%d logins", len(m.Logins))
		}
	}
}
