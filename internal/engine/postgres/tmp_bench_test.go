package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/engine"
	"github.com/dbiam/dbiam/internal/engine/enginetest"
	"github.com/dbiam/dbiam/internal/testutil/pgtest"
)

func BenchmarkTmpVariants(b *testing.B) {
	for name, keep := range map[string]bool{"suppress": false, "keep": true, "direct": true} {
		b.Run(name, func(b *testing.B) {
			u := pgtest.New(b)
			e, _ := New(Config{URL: u, MaxConns: 4, KeepStatementLogging: keep})
			defer e.Close()
			user := "bench_" + randomHex(4)
			first := engine.IssueRequest{LoginName: "IAM:" + user + ":first", DbUser: user, AutoCreate: true, Password: enginetest.NewPassword(), ValidUntil: time.Now().Add(time.Hour)}
			if _, err := e.Issue(context.Background(), first); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { dropLogins(b, u, "IAM:"+user+":%", user) })
			var seq atomic.Int64
			pw := enginetest.NewPassword()
			vu := time.Now().Add(time.Hour)
			b.SetParallelism(2)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := engine.IssueRequest{LoginName: fmt.Sprintf("IAM:%s:%d", user, seq.Add(1)), DbUser: user, Password: pw, ValidUntil: vu, Comment: "arn:aws:iam::123456789012:user/x"}
					var err error
					if name == "direct" {
						err = e.DirectDDL(context.Background(), req)
					} else {
						_, err = e.Issue(context.Background(), req)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}
