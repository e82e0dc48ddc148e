package pgdriver_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbiam/dbiam/credcache"
	"github.com/dbiam/dbiam/pgdriver"
)

// broker is a fake Redshift API: it answers GetClusterCredentials with the
// login it is told to hand out and DescribeClusters with the test
// database's address, in the Query protocol's XML, and counts the calls.
type broker struct {
	srv *httptest.Server

	mu       sync.Mutex
	user     string
	password string
	host     string
	port     int
	life     time.Duration
	fail     string // error code to answer GetClusterCredentials with
	calls    map[string]int
	unsigned int
}

func newBroker(t testing.TB, db database, user, password string) *broker {
	b := &broker{user: user, password: password, host: db.host, port: db.port, life: 15 * time.Minute, calls: map[string]int{}}
	b.srv = httptest.NewServer(b)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	action := r.PostForm.Get("Action")
	b.calls[action]++
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDBROKER/") {
		b.unsigned++
	}
	w.Header().Set("Content-Type", "text/xml")
	const ns = `xmlns="http://redshift.amazonaws.com/doc/2012-12-01/"`
	switch {
	case action == "GetClusterCredentials" && b.fail != "":
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<ErrorResponse %s><Error><Type>Sender</Type><Code>%s</Code><Message>no</Message></Error><RequestId>r</RequestId></ErrorResponse>`, ns, b.fail)
	case action == "GetClusterCredentials":
		fmt.Fprintf(w, `<GetClusterCredentialsResponse %s><GetClusterCredentialsResult><DbUser>%s</DbUser><DbPassword>%s</DbPassword><Expiration>%s</Expiration></GetClusterCredentialsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetClusterCredentialsResponse>`,
			ns, b.user, b.password, time.Now().Add(b.life).UTC().Format(time.RFC3339))
	case action == "DescribeClusters":
		fmt.Fprintf(w, `<DescribeClustersResponse %s><DescribeClustersResult><Clusters><Cluster><ClusterIdentifier>dev</ClusterIdentifier><Endpoint><Address>%s</Address><Port>%d</Port></Endpoint></Cluster></Clusters></DescribeClustersResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeClustersResponse>`,
			ns, b.host, b.port)
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<ErrorResponse %s><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>%s</Message></Error><RequestId>r</RequestId></ErrorResponse>`, ns, action)
	}
}

func (b *broker) count(action string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[action]
}

func (b *broker) setPassword(p string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.password = p
}

// dsn is a DSN without a host (so DescribeClusters is asked) for the broker.
func (b *broker) dsn(db database, extra string) string {
	return fmt.Sprintf("postgres:///%s?sslmode=disable&cluster_id=dev&region=us-east-1&endpoint_url=%s&db_user=alice%s", db.name, b.srv.URL, extra)
}

var brokerCreds = pgdriver.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDBROKER", "broker-secret", ""))

// counting counts the connections database/sql asks for.
type counting struct {
	*pgdriver.Connector
	n atomic.Int64
}

func (c *counting) Connect(ctx context.Context) (driver.Conn, error) {
	c.n.Add(1)
	return c.Connector.Connect(ctx)
}

// openConns opens n new connections through db from workers goroutines
// (the pool keeps no idle connection, so each is a new login) and checks
// that each runs as role.
func openConns(t *testing.T, db *sql.DB, n, workers int, role string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				conn, err := db.Conn(t.Context())
				if err != nil {
					errs <- err
					continue
				}
				var user string
				if err := conn.QueryRowContext(t.Context(), "SELECT current_user").Scan(&user); err != nil {
					errs <- err
				} else if user != role {
					errs <- fmt.Errorf("current_user %q, want %q", user, role)
				}
				_ = conn.Close()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestOneCredentialForManyConnections: 200 connections through a
// database/sql pool within one credential lifetime cause exactly one
// GetClusterCredentials call; a password changed behind the driver's back
// (the login is refused with 28P01) causes exactly one refresh, and the
// connections succeed with the new credential.
func TestOneCredentialForManyConnections(t *testing.T) {
	for _, mode := range []string{"refresh-ahead", "lazy"} {
		t.Run(mode, func(t *testing.T) {
			db := newDatabase(t)
			role, password := db.newRole(t)
			b := newBroker(t, db, role, password)
			c, err := pgdriver.NewConnector(b.dsn(db, "&cache="+mode), brokerCreds)
			if err != nil {
				t.Fatal(err)
			}
			cc := &counting{Connector: c}
			sdb := sql.OpenDB(cc)
			defer sdb.Close()
			sdb.SetMaxIdleConns(0) // every db.Conn is a new connection

			openConns(t, sdb, 200, 20, role)
			if n := cc.n.Load(); n != 200 {
				t.Fatalf("%d connections opened, want 200", n)
			}
			if n := b.count("GetClusterCredentials"); n != 1 {
				t.Fatalf("%d GetClusterCredentials calls for 200 connections, want 1", n)
			}
			if n := b.count("DescribeClusters"); n != 1 {
				t.Fatalf("%d DescribeClusters calls, want 1", n)
			}

			// The password changes behind the driver's back; the broker now
			// hands out the new one.
			newPassword := randomHex(16)
			db.exec(t, fmt.Sprintf("ALTER ROLE %s PASSWORD '%s'", role, newPassword))
			b.setPassword(newPassword)
			openConns(t, sdb, 20, 10, role)
			if n := b.count("GetClusterCredentials"); n != 2 {
				t.Fatalf("%d GetClusterCredentials calls after the rejected login, want 2", n)
			}
			openConns(t, sdb, 20, 10, role)
			if n := b.count("GetClusterCredentials"); n != 2 {
				t.Fatalf("%d GetClusterCredentials calls, want still 2", n)
			}
			if b.unsigned != 0 {
				t.Errorf("%d requests not signed with the configured credentials", b.unsigned)
			}
		})
	}
}

func TestPgxpoolRefusedLoginInvalidates(t *testing.T) {
	db := newDatabase(t)
	role, password := db.newRole(t)
	b := newBroker(t, db, role, password)
	c, err := pgdriver.NewConnector(b.dsn(db, "&pool_max_conns=4"), brokerCreds)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pc, err := c.PoolConfig()
	if err != nil {
		t.Fatal(err)
	}
	if pc.MaxConns != 4 {
		t.Errorf("pool_max_conns: MaxConns = %d", pc.MaxConns)
	}
	pool, err := pgxpool.NewWithConfig(t.Context(), pc)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx := t.Context()
	query := func() error {
		var user string
		if err := pool.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil {
			return err
		}
		if user != role {
			return fmt.Errorf("current_user %q", user)
		}
		return nil
	}
	for range 10 {
		if err := query(); err != nil {
			t.Fatal(err)
		}
	}
	newPassword := randomHex(16)
	db.exec(t, fmt.Sprintf("ALTER ROLE %s PASSWORD '%s'", role, newPassword))
	b.setPassword(newPassword)
	pool.Reset() // drop the connections that logged in before
	err = query()
	if !pgdriver.IsAuthFailure(err) {
		t.Fatalf("first query after the password change: %v, want a refused login", err)
	}
	if err := query(); err != nil {
		t.Fatalf("second query: %v", err)
	}
	if n := b.count("GetClusterCredentials"); n != 2 {
		t.Errorf("%d GetClusterCredentials calls, want 2", n)
	}
}

func TestConnectPgxRetriesOnce(t *testing.T) {
	db := newDatabase(t)
	role, password := db.newRole(t)
	b := newBroker(t, db, role, password)
	c, err := pgdriver.NewConnector(strings.Replace(b.dsn(db, ""), ":///", fmt.Sprintf("://%s:%d/", db.host, db.port), 1), brokerCreds)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := c.ConnectPgx(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(t.Context())
	if n := b.count("DescribeClusters"); n != 0 {
		t.Errorf("DescribeClusters called %d times although the DSN names the host", n)
	}

	// The broker keeps handing out a password the database refuses: one
	// retry, then the refusal.
	b.setPassword("wrong-" + randomHex(8))
	db.exec(t, fmt.Sprintf("ALTER ROLE %s PASSWORD '%s'", role, randomHex(16)))
	_, err = c.ConnectPgx(t.Context())
	if !pgdriver.IsAuthFailure(err) {
		t.Fatalf("ConnectPgx with a refused password: %v", err)
	}
	if strings.Contains(err.Error(), password) {
		t.Error("the error shows the password")
	}
	if n := b.count("GetClusterCredentials"); n != 2 {
		t.Errorf("%d GetClusterCredentials calls, want 2 (one retry)", n)
	}
}

func TestFetchErrors(t *testing.T) {
	db := newDatabase(t)
	b := newBroker(t, db, "nobody", "x")
	b.fail = "AccessDenied"
	c, err := pgdriver.NewConnector(b.dsn(db, "&cache=lazy"), brokerCreds)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.ConnectPgx(t.Context())
	var fe *credcache.FetchError
	if !errors.As(err, &fe) || fe.Temporary || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("ConnectPgx: %v, want a permanent fetch error with AccessDenied", err)
	}
	b.mu.Lock()
	b.fail = "Throttling"
	b.mu.Unlock()
	noRetries := pgdriver.WithAWSConfig(aws.Config{Retryer: func() aws.Retryer { return aws.NopRetryer{} }})
	c2, err := pgdriver.NewConnector(b.dsn(db, "&cache=lazy"), brokerCreds, noRetries)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_, err = c2.ConnectPgx(t.Context())
	if !errors.As(err, &fe) || !fe.Temporary || !credcache.IsTemporary(err) {
		t.Fatalf("ConnectPgx: %v, want a temporary fetch error", err)
	}
}
