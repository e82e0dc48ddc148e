package sts_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/testutil/awstest"
)

// BenchmarkAssumeRole measures AssumeRole end to end on loopback: an
// aws-sdk-go-v2 client signing with an IAM user's key, the HTTP server,
// SigV4 verification, the user's policies and the role's trust policy from
// the SQLite store, and a sealed session token. It runs the calls in
// parallel; calls/s = 1e9 / ns/op.
func BenchmarkAssumeRole(b *testing.B) {
	srv := awstest.Start(b, awstest.WithConfig(func(c *config.Config) { c.Log.Level = "warn" }))
	keyID, secret := newUser(b, srv, "bench", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	newRole(b, srv, "reader", trustAccount, "")
	client := srv.STS(keyID, secret, "")
	in := &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/reader"), RoleSessionName: aws.String("bench")}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := client.AssumeRole(b.Context(), in); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
