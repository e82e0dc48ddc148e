package sigv4

import (
	"context"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// BenchmarkVerifyFormPOST verifies a typical signed STS/Redshift form POST:
// session credentials, eight signed headers, ~200-byte body.
func BenchmarkVerifyFormPOST(b *testing.B) {
	at := time.Date(2026, 3, 1, 10, 20, 30, 0, time.UTC)
	body := "Action=GetClusterCredentials&Version=2012-12-01&ClusterIdentifier=examplecluster" +
		"&DbUser=alice&DbName=dev&DurationSeconds=900&AutoCreate=true&DbGroups.member.1=analysts"
	r := stsFormPOST(b, body)
	r.Header.Set("X-Amz-User-Agent", "aws-sdk-go-v2/1.48.0")
	creds := aws.Credentials{AccessKeyID: oracleASIA, SecretAccessKey: oracleSecret, SessionToken: oracleToken}
	sr, sbody := signSDK(b, r, []byte(body), creds, "redshift", "us-east-1", at)
	sr.Body = nil

	lookup := LookupFunc(func(_ context.Context, req LookupRequest) (Credential, error) {
		return Credential{SecretAccessKey: oracleSecret}, nil
	})
	v := &Verifier{Lookup: lookup, Now: func() time.Time { return at }}
	res, err := v.Verify(b.Context(), sr, sbody)
	if err != nil {
		b.Fatal(err)
	}
	if len(res.SignedHeaders) != 8 {
		b.Fatalf("signed headers %q", res.SignedHeaders)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, sr, sbody); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStdlibOnly enforces the package rule: non-test files import only the
// standard library.
func TestStdlibOnly(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s; sigv4 may import only the standard library", name, path)
			}
		}
	}
}
