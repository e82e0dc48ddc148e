package pgdriver

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// BenchmarkConnectOverhead is what the driver adds to a connect with a warm
// cache (credential lookup, config copy), without the connect itself.
func BenchmarkConnectOverhead(b *testing.B) {
	c, err := NewConnector("postgres://h/db?cluster_id=dev&db_user=a", WithRedshiftClient(&fakeAPI{}))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	noop := func(*pgx.ConnConfig) error { return nil }
	if err := c.withCredential(ctx, noop); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.withCredential(ctx, noop); err != nil {
			b.Fatal(err)
		}
	}
}
