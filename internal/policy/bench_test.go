package policy

import (
	"fmt"
	goparser "go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func redshiftExampleRequest(tb testing.TB) (*Request, PolicySet) {
	tb.Helper()
	set := PolicySet{Identity: []*NamedPolicy{named("user/alice/inline/Redshift", mustParse(tb, Identity, redshiftD))}}
	req := &Request{
		Action:   "redshift:GetClusterCredentials",
		Resource: rsPrefix + "dbuser:examplecluster/alice",
		Context: ctxOf(
			"aws:userid=AIDIODR4TAW7CSEXAMPLE:alice@yourdomain.com",
			"redshift:DbUser=alice",
			"aws:username=alice",
			"aws:SourceIp=203.0.113.7",
			"aws:SecureTransport=true",
			"aws:CurrentTime=2024-05-01T12:00:00Z",
			"redshift:DurationSeconds=900",
		),
	}
	return req, set
}

// tenByTen builds 10 policies of 10 statements with wildcards and
// conditions; only the very last statement allows the request, so every
// statement is examined, and about a third match the action and go on to
// resources and conditions.
func tenByTen(tb testing.TB) PolicySet {
	tb.Helper()
	var set PolicySet
	for p := range 10 {
		var stmts []string
		for s := range 10 {
			n := p*10 + s
			var st string
			switch n % 3 {
			case 0: // action matches by wildcard, resource does not
				st = fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":["redshift:Get*","redshift:Describe*"],
					"Resource":["arn:aws:redshift:*:123456789012:dbuser:cluster%d/*","arn:aws:redshift:us-west-2:123456789012:dbname:*/db%d"],
					"Condition":{"StringLike":{"aws:userid":"*:${redshift:DbUser}@*"}}}`, n, n, n)
			case 1: // action and resource match, a condition fails
				st = fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":"redshift:*",
					"Resource":"arn:aws:redshift:us-west-2:123456789012:dbuser:examplecluster/${redshift:DbUser}",
					"Condition":{"IpAddress":{"aws:SourceIp":["10.%d.0.0/16","192.168.0.0/16"]},"Bool":{"aws:SecureTransport":"true"}}}`, n, n)
			default: // action does not match
				st = fmt.Sprintf(`{"Sid":"S%d","Effect":"Deny","Action":["s3:*","iam:*User*","ec2:?escribe*"],"Resource":"*",
					"Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"t%d"}}}`, n, n)
			}
			if p == 9 && s == 9 {
				st = `{"Sid":"Grant","Effect":"Allow","Action":"redshift:GetCluster*","Resource":"arn:aws:redshift:us-west-2:123456789012:dbuser:*/${redshift:DbUser}",
					"Condition":{"StringEquals":{"aws:userid":"AIDIODR4TAW7CSEXAMPLE:${redshift:DbUser}@yourdomain.com"},
					"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"NumericLessThanEquals":{"redshift:DurationSeconds":3600}}}`
			}
			stmts = append(stmts, st)
		}
		doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
		set.Identity = append(set.Identity, named("policy"+strconv.Itoa(p), mustParse(tb, Identity, doc)))
	}
	return set
}

func TestBenchmarkFixtures(t *testing.T) {
	req, set := redshiftExampleRequest(t)
	if d := Evaluate(req, set); d.Effect != Allowed || d.Matched[0].Sid != "GetClusterCredsStatement" {
		t.Fatalf("redshift example: %v %v", d.Effect, d.Matched)
	}
	set = tenByTen(t)
	req.Trace = true
	d := Evaluate(req, set)
	if d.Effect != Allowed || len(d.Matched) != 1 || d.Matched[0].Sid != "Grant" || len(d.Trace) != 100 {
		t.Fatalf("ten by ten: %v %v\n%s", d.Effect, d.Matched, d.Explain())
	}
	counts := map[Outcome]int{}
	for _, e := range d.Trace {
		counts[e.Outcome]++
	}
	if counts[ActionMismatch] < 30 || counts[ResourceMismatch] < 30 || counts[ConditionFalse] < 30 {
		t.Fatalf("fixture does not exercise all paths: %v", counts)
	}
}

// TestEvaluateAllocations: the hot path allocates only Decision.Matched.
func TestEvaluateAllocations(t *testing.T) {
	req, set := redshiftExampleRequest(t)
	if n := testing.AllocsPerRun(200, func() { _ = Evaluate(req, set) }); n > 1 {
		t.Fatalf("Evaluate allocates %v times per run, want at most 1", n)
	}
	req.Action = "redshift:JoinGroup"
	req.Resource = rsPrefix + "dbgroup:examplecluster/admins"
	if n := testing.AllocsPerRun(200, func() { _ = Evaluate(req, set) }); n != 0 {
		t.Fatalf("an implicit deny allocates %v times per run", n)
	}
}

func BenchmarkEvaluateRedshiftExample(b *testing.B) {
	req, set := redshiftExampleRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		if Evaluate(req, set).Effect != Allowed {
			b.Fatal("not allowed")
		}
	}
}

func BenchmarkEvaluateTenByTen(b *testing.B) {
	req, _ := redshiftExampleRequest(b)
	set := tenByTen(b)
	b.ReportAllocs()
	for b.Loop() {
		if Evaluate(req, set).Effect != Allowed {
			b.Fatal("not allowed")
		}
	}
}

func BenchmarkEvaluateTenByTenTraced(b *testing.B) {
	req, _ := redshiftExampleRequest(b)
	req.Trace = true
	set := tenByTen(b)
	b.ReportAllocs()
	for b.Loop() {
		if Evaluate(req, set).Effect != Allowed {
			b.Fatal("not allowed")
		}
	}
}

func BenchmarkParseRedshiftExample(b *testing.B) {
	doc := []byte(redshiftD)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCacheHit(b *testing.B) {
	c := NewCache(16)
	doc := []byte(redshiftD)
	if _, err := c.Parse(doc, Identity); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Parse(doc, Identity); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStdlibOnly enforces the package rule: non-test files import only the
// standard library (and dbiam's own pure internal/arn), and nothing that
// does I/O, reads the clock's current value or draws randomness.
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
		f, err := goparser.ParseFile(fset, name, src, goparser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "github.com/dbiam/dbiam/internal/arn" {
				continue
			}
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s; policy may import only the standard library", name, path)
			}
			switch path {
			case "os", "io/ioutil", "net/http", "math/rand", "math/rand/v2", "crypto/rand", "unsafe", "log", "log/slog":
				t.Errorf("%s imports %s; policy does no I/O and uses no randomness", name, path)
			}
		}
		if strings.Contains(string(src), "time.Now") || strings.Contains(string(src), "time.Since") {
			t.Errorf("%s reads the clock", name)
		}
	}
}
