package postgres_test

import (
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/store/postgres"
	"github.com/dbiam/dbiam/internal/store/storetest"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(t.Context(), pgtest.New(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	url := pgtest.New(t)
	const replicas = 4
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, replicas)
	errs := make([]error, replicas)
	start := make(chan struct{})
	for i := range replicas {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(t.Context(), url)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		defer stores[i].Close()
	}
	// Open once more, sequentially: nothing to do.
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()

	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	rows, err := conn.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var want []int32
	for i := range entries {
		want = append(want, int32(i+1))
	}
	if !slices.Equal(got, want) {
		t.Errorf("schema_migrations versions = %v, want %v", got, want)
	}

	// Every replica's store works on the shared schema.
	if err := stores[0].CreateUser(t.Context(), store.User{Name: "alice", Path: "/", ID: "AIDA1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[replicas-1].GetUser(t.Context(), "ALICE"); err != nil {
		t.Errorf("another replica does not see the user: %v", err)
	}
}

func TestOpenRejectsSimpleProtocol(t *testing.T) {
	url := pgtest.New(t)
	s, err := postgres.Open(t.Context(), url+"&default_query_exec_mode=simple_protocol")
	if err == nil {
		s.Close()
		t.Fatal("Open accepted default_query_exec_mode=simple_protocol")
	}
}

func TestOpenErrorHidesPassword(t *testing.T) {
	const secret = "s3cr3t-pass"
	_, err := postgres.Open(t.Context(), "postgres://user:"+secret+"@127.0.0.1:1/db?sslmode=disable&connect_timeout=1")
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, secret) {
		t.Errorf("error shows the password: %s", msg)
	}
}
