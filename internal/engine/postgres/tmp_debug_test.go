package postgres

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/engine"
	"github.com/jackc/pgx/v5"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

func TestTmpSlow(t *testing.T) {
	u := pgtest.New(t)
	e := newEngine(t, Config{URL: u + "&log_min_duration_statement=3", KeepStatementLogging: true})
	dataDir := queryText(t, u, "SELECT current_setting('data_directory')")
	logPath := strings.TrimSuffix(dataDir, "/data") + "/postgres.log"
	var wg sync.WaitGroup
	start := time.Now()
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 750 {
				r := request("tmpslow")
				r.LoginName = fmt.Sprintf("IAM:tmpslow:%d:%d", w, i)
				r.AutoCreate = true
				if _, err := e.Issue(context.Background(), r); err != nil {
					t.Error(err)
				}
				if i%250 == 0 {
					fmt.Println(w, i, time.Since(start))
				}
			}
		}()
	}
	wg.Wait()
	q, _ := os.ReadFile("/tmp/q_generic.sql")
	for _, st := range strings.Split(string(q), ";\n") {
		if strings.TrimSpace(st) == "" { continue }
		fmt.Println("==", queryAll(t, u, st))
	}
	b, _ := os.ReadFile(logPath)
	b = nil
	lines := strings.Split(string(b), "\n")
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	fmt.Println(strings.Join(lines, "\n"))
	_ = engine.ErrInvalidName
}

func queryAll(t *testing.T, u, sql string) string {
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil { t.Fatal(err) }
	defer conn.Close(context.Background())
	conn.Exec(context.Background(), "SET plan_cache_mode = force_generic_plan")
	conn.Exec(context.Background(), "PREPARE r(text,text,text,text) AS " + strings.SplitN(sql, " AS ", 2)[1])
	rows, err := conn.Query(context.Background(), "EXPLAIN (ANALYZE) EXECUTE r('IAM:benchu:x','dbiam_managed','dbiam_managed_groups','tmpslow')", pgx.QueryExecModeSimpleProtocol)
	if err != nil { return err.Error() }
	out, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	return strings.Join(out, "\n")
}
