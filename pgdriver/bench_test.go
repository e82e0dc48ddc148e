package pgdriver_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbiam/dbiam/pgdriver"
)

// connectTarget is a database, a role with a password and a fake broker
// that hands out that role's login, shared by the two benchmarks below so
// that they log in to the same server as the same role with the same
// authentication method (SCRAM-SHA-256).
func connectTarget(b *testing.B) (url string, role, password string, c *pgdriver.Connector) {
	b.Helper()
	db := newDatabase(b)
	role, password = db.newRole(b)
	br := newBroker(b, db, role, password)
	url = fmt.Sprintf("postgres://%s:%d/%s?sslmode=disable", db.host, db.port, db.name)
	c, err := pgdriver.NewConnector(url+"&cluster_id=dev&region=us-east-1&db_user=alice&endpoint_url="+br.srv.URL, brokerCreds)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return url, role, password, c
}

// BenchmarkConnectCached opens pgx connections through the driver with a
// warm credential cache.
func BenchmarkConnectCached(b *testing.B) {
	_, _, _, c := connectTarget(b)
	ctx := context.Background()
	warm, err := c.ConnectPgx(ctx) // fetches the credential
	if err != nil {
		b.Fatal(err)
	}
	_ = warm.Close(ctx)
	b.ResetTimer()
	for b.Loop() {
		conn, err := c.ConnectPgx(ctx)
		if err != nil {
			b.Fatal(err)
		}
		_ = conn.Close(ctx)
	}
}

// BenchmarkConnectPlain opens pgx connections with a static password: the
// baseline for BenchmarkConnectCached.
func BenchmarkConnectPlain(b *testing.B) {
	url, role, password, _ := connectTarget(b)
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	cfg.User, cfg.Password = role, password
	b.ResetTimer()
	for b.Loop() {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		_ = conn.Close(ctx)
	}
}

// BenchmarkConnectPaired alternates the two ways of connecting in one loop
// (cached, plain, plain, cached, …), timing each connect, and reports the
// median of each and the driver's overhead: on a shared machine the
// separate benchmarks above drift with the load, while pairs see the same
// load.
func BenchmarkConnectPaired(b *testing.B) {
	url, role, password, c := connectTarget(b)
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	cfg.User, cfg.Password = role, password
	warm, err := c.ConnectPgx(ctx)
	if err != nil {
		b.Fatal(err)
	}
	_ = warm.Close(ctx)
	cached := func() *pgx.Conn {
		conn, err := c.ConnectPgx(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return conn
	}
	plain := func() *pgx.Conn {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		return conn
	}
	var tc, tp []time.Duration
	timed := func(connect func() *pgx.Conn, into *[]time.Duration) {
		start := time.Now()
		conn := connect()
		*into = append(*into, time.Since(start))
		_ = conn.Close(ctx)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			timed(cached, &tc)
			timed(plain, &tp)
		} else {
			timed(plain, &tp)
			timed(cached, &tc)
		}
		i++
	}
	mc, mp := median(tc), median(tp)
	b.ReportMetric(float64(mc.Microseconds()), "cached-µs")
	b.ReportMetric(float64(mp.Microseconds()), "plain-µs")
	b.ReportMetric(100*(float64(mc)-float64(mp))/float64(mp), "overhead-%")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
