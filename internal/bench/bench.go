package bench

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/smithy-go"

	"github.com/dbiam/dbiam/internal/engine"
	pgengine "github.com/dbiam/dbiam/internal/engine/postgres"
	"github.com/dbiam/dbiam/internal/secret"
)

// Credentials are the AWS credentials of one principal.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey secret.String
	SessionToken    secret.String
}

// Config configures Run.
type Config struct {
	// Endpoint is dbiam's URL; Region the region requests are signed for.
	Endpoint string
	Region   string
	// Principals sign the requests, in turn (one request each, round
	// robin). At least one.
	Principals []Credentials
	// Cluster, DbUser and DbName are the GetClusterCredentials parameters
	// (DbName may be empty). AutoCreate is set on the warm-up request
	// only, which creates DbUser if needed.
	Cluster string
	DbUser  string
	DbName  string
	// DurationSeconds of the credentials (default 900, the minimum: they
	// expire soonest).
	DurationSeconds int
	// Concurrency is the number of concurrent clients (default 4), in both
	// phases.
	Concurrency int
	// Duration of each phase (default 10s), unless Count is set: then each
	// phase makes Count requests.
	Duration time.Duration
	Count    int
	// AdminURL (without password) and AdminPassword reach the cluster as
	// dbiam's admin role, for the ceiling phase and the cleanup. Empty:
	// no ceiling (the report says so).
	AdminURL      string
	AdminPassword secret.String
	// SCRAMIterations of the ceiling's verifiers: the same as dbiam's
	// engine (default postgres.DefaultSCRAMIterations, which dbiam uses).
	SCRAMIterations int
	// Out receives the progress and the report (default: discarded).
	Out io.Writer
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CPU, when set, reads the CPU time used so far by this process
	// (dbiam and the client, with --self) and by the database server; each
	// phase then reports its CPU time per operation, which other load on
	// the machine does not change the way it changes throughput.
	CPU func() Usage
	// PhaseHook, when set, is called at the start (start true) and end of
	// each measured phase ("ceiling", "dbiam"), for example to profile one.
	PhaseHook func(phase string, start bool)
}

// Usage is CPU time used by this process and by the database server.
type Usage struct {
	Process, Database time.Duration
}

// Phase is what one phase measured.
type Phase struct {
	Name      string
	OK        int
	Errors    map[string]int // by AWS error code or error text
	Elapsed   time.Duration
	Latencies []time.Duration // of successful requests, sorted
	CPU       *Usage          // used during the phase (Config.CPU)
}

// CPUPerOp is the CPU time per successful operation (zero without CPU).
func (p Phase) CPUPerOp() Usage {
	if p.CPU == nil || p.OK == 0 {
		return Usage{}
	}
	return Usage{Process: p.CPU.Process / time.Duration(p.OK), Database: p.CPU.Database / time.Duration(p.OK)}
}

// Rate is successful operations per second.
func (p Phase) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.OK) / p.Elapsed.Seconds()
}

// Percentile returns the q-th latency quantile (0 < q ≤ 1), nearest rank.
func (p Phase) Percentile(q float64) time.Duration {
	n := len(p.Latencies)
	if n == 0 {
		return 0
	}
	i := int(float64(n)*q+0.999999) - 1
	return p.Latencies[min(max(i, 0), n-1)]
}

// Failed is the number of failed requests.
func (p Phase) Failed() int {
	n := 0
	for _, c := range p.Errors {
		n += c
	}
	return n
}

// Report is the result of Run.
type Report struct {
	DBIAM   Phase
	Ceiling *Phase // nil without AdminURL
	// Cleanup says what happened to the logins created.
	Cleanup string
}

// Ratio is dbiam's throughput as a fraction of the ceiling's (0 without
// a ceiling).
func (r Report) Ratio() float64 {
	if r.Ceiling == nil || r.Ceiling.Rate() == 0 {
		return 0
	}
	return r.DBIAM.Rate() / r.Ceiling.Rate()
}

func (c *Config) hook(phase string, start bool) {
	if c.PhaseHook != nil {
		c.PhaseHook(phase, start)
	}
}

func (c *Config) defaults() error {
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.Duration <= 0 && c.Count <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.DurationSeconds == 0 {
		c.DurationSeconds = 900
	}
	if c.SCRAMIterations == 0 {
		c.SCRAMIterations = pgengine.DefaultSCRAMIterations
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	switch {
	case c.Endpoint == "":
		return errors.New("bench: no endpoint (--endpoint or AWS_ENDPOINT_URL)")
	case c.Region == "":
		return errors.New("bench: no region (--region or AWS_REGION)")
	case len(c.Principals) == 0 || c.Principals[0].AccessKeyID == "":
		return errors.New("bench: no credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	case c.Cluster == "" || c.DbUser == "":
		return errors.New("bench: --cluster and --db-user are required")
	}
	return nil
}

// Run measures dbiam's GetClusterCredentials throughput and latency and, in
// the same run, the ceiling: the login DDL sent straight to the database
// with the same concurrency, for the same number of logins, from the same
// catalog. See the package documentation.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.defaults(); err != nil {
		return Report{}, err
	}
	out := cfg.Out
	mode := fmt.Sprintf("%v", cfg.Duration)
	if cfg.Count > 0 {
		mode = fmt.Sprintf("%d requests", cfg.Count)
	}
	fmt.Fprintf(out, "dbiam bench creds: %s, cluster %s, db user %s, db name %q, concurrency %d, %s, %d principal(s)\n",
		cfg.Endpoint, cfg.Cluster, cfg.DbUser, cfg.DbName, cfg.Concurrency, mode, len(cfg.Principals))

	var eng *pgengine.Engine
	if cfg.AdminURL != "" {
		var err error
		eng, err = pgengine.New(pgengine.Config{URL: cfg.AdminURL, Password: cfg.AdminPassword,
			MaxConns: int32(cfg.Concurrency), SCRAMIterations: cfg.SCRAMIterations})
		if err != nil {
			return Report{}, err
		}
		defer eng.Close()
	}

	// Warm-up: creates the db user (AutoCreate) and the marker role, which
	// the ceiling's DDL needs, and opens connections on both sides.
	clients := newClients(cfg)
	warm := &loginList{}
	for i := range max(len(clients), 2*cfg.Concurrency) {
		if _, err := getCredentials(ctx, clients[i%len(clients)], cfg, true, warm); err != nil {
			return Report{}, fmt.Errorf("bench: warm-up request: %w", err)
		}
	}
	if eng != nil {
		if err := warmCeiling(ctx, eng, cfg); err != nil {
			return Report{}, err
		}
		if _, err := dropLogins(ctx, eng, cfg, warm.all()); err != nil {
			return Report{}, fmt.Errorf("bench: drop the warm-up logins: %w", err)
		}
	}

	var report Report
	fmt.Fprintf(out, "dbiam: GetClusterCredentials over HTTP (SigV4, IAM policy, store, engine)…\n")
	issued := &loginList{}
	var next atomic.Uint64
	cfg.hook("dbiam", true)
	report.DBIAM = runPhase(ctx, "dbiam", cfg, func(ctx context.Context, _ int) error {
		c := clients[next.Add(1)%uint64(len(clients))]
		_, err := getCredentials(ctx, c, cfg, false, issued)
		return err
	})
	cfg.hook("dbiam", false)
	fmt.Fprintf(out, "  %d credentials in %.2fs\n", report.DBIAM.OK, report.DBIAM.Elapsed.Seconds())
	if ctx.Err() != nil {
		return report, ctx.Err()
	}

	if eng == nil {
		expiry := cfg.Now().Add(time.Duration(cfg.DurationSeconds) * time.Second).UTC().Format(time.TimeOnly)
		report.Cleanup = fmt.Sprintf("the %d logins dbiam issued expire by %s UTC (DurationSeconds %d) and are dropped by dbiam's reaper",
			len(issued.all())+len(warm.all()), expiry, cfg.DurationSeconds)
		PrintReport(out, cfg, report)
		return report, nil
	}

	// The ceiling makes as many logins as dbiam did, from the same catalog:
	// the cost of a login grows with the number of live ones (each CONNECT
	// grant rewrites the database's ACL), so equal work is the fair
	// comparison. dbiam's logins are dropped first.
	t0 := time.Now()
	n, err := dropLogins(ctx, eng, cfg, issued.all())
	if err != nil {
		return report, fmt.Errorf("bench: drop dbiam's logins: %w", err)
	}
	cleanup := fmt.Sprintf("dropped the %d logins dbiam issued to the bench in %.1fs (their records in dbiam's store stay until the reaper reconciles them)",
		n+len(warm.all()), time.Since(t0).Seconds())
	fmt.Fprintf(out, "ceiling: %d logins with the same DDL straight to the database (engine DirectDDL, SCRAM iterations %d)…\n", report.DBIAM.OK, cfg.SCRAMIterations)
	ceilingLogins := &loginList{}
	ccfg := cfg
	ccfg.Count = report.DBIAM.OK
	cfg.hook("ceiling", true)
	p := runPhase(ctx, "ceiling (direct DDL)", ccfg, func(ctx context.Context, _ int) error {
		return directDDL(ctx, eng, cfg, ceilingLogins)
	})
	cfg.hook("ceiling", false)
	fmt.Fprintf(out, "  %d logins in %.2fs\n", p.OK, p.Elapsed.Seconds())
	report.Ceiling = &p
	t0 = time.Now()
	n, err = dropLogins(ctx, eng, cfg, ceilingLogins.all())
	if err != nil {
		return report, fmt.Errorf("bench: drop the ceiling's roles: %w", err)
	}
	report.Cleanup = cleanup + fmt.Sprintf("; dropped the %d roles of the ceiling in %.1fs", n, time.Since(t0).Seconds())
	PrintReport(out, cfg, report)
	return report, nil
}

// PrintReport prints the figures.
func PrintReport(w io.Writer, cfg Config, r Report) {
	fmt.Fprintln(w)
	line := func(p Phase, unit string) {
		fmt.Fprintf(w, "%-22s %8.1f %s  (%d in %.2fs)  latency p50 %s  p90 %s  p99 %s  max %s",
			p.Name+":", p.Rate(), unit, p.OK, p.Elapsed.Seconds(), ms(p.Percentile(0.50)), ms(p.Percentile(0.90)), ms(p.Percentile(0.99)), ms(p.Percentile(1)))
		if f := p.Failed(); f > 0 {
			keys := make([]string, 0, len(p.Errors))
			for k := range p.Errors {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%s ×%d", k, p.Errors[k]))
			}
			fmt.Fprintf(w, "  errors %d: %s", f, strings.Join(parts, ", "))
		}
		fmt.Fprintln(w)
	}
	line(r.DBIAM, "creds/s")
	if r.Ceiling == nil {
		fmt.Fprintf(w, "ceiling: not measured (no --admin-url)\n")
	} else {
		line(*r.Ceiling, "logins/s")
		fmt.Fprintf(w, "ratio:                 %.1f%% of the ceiling\n", 100*r.Ratio())
	}
	if r.DBIAM.CPU != nil && r.Ceiling != nil && r.Ceiling.CPU != nil {
		d, c := r.DBIAM.CPUPerOp(), r.Ceiling.CPUPerOp()
		fmt.Fprintf(w, "CPU per login:         dbiam %s (this process %s + PostgreSQL %s), ceiling %s (%s + %s): %.1f%%\n",
			ms2(d.Process+d.Database), ms2(d.Process), ms2(d.Database), ms2(c.Process+c.Database), ms2(c.Process), ms2(c.Database),
			100*float64(c.Process+c.Database)/float64(max(d.Process+d.Database, 1)))
	}
	if n := r.DBIAM.Errors["Throttling"]; n > 0 {
		fmt.Fprintf(w, "note: %d requests were throttled: dbiam limits each principal to 50 requests/s; spread the load over more principals (--principals N)\n", n)
	}
	fmt.Fprintf(w, "cleanup: %s\n", r.Cleanup)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func ms2(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// runPhase runs op with cfg.Concurrency workers for cfg.Duration or
// cfg.Count operations.
func runPhase(ctx context.Context, name string, cfg Config, op func(ctx context.Context, worker int) error) Phase {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      = map[string]int{}
		wg        sync.WaitGroup
		remaining atomic.Int64
	)
	remaining.Store(int64(cfg.Count))
	var before Usage
	if cfg.CPU != nil {
		before = cfg.CPU()
	}
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil {
				if cfg.Count > 0 {
					if remaining.Add(-1) < 0 {
						break
					}
				} else if !time.Now().Before(deadline) {
					break
				}
				t0 := time.Now()
				err := op(ctx, w)
				d := time.Since(t0)
				if err != nil {
					mu.Lock()
					errs[errorKey(err)]++
					mu.Unlock()
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	p := Phase{Name: name, OK: len(latencies), Errors: errs, Elapsed: elapsed, Latencies: latencies}
	if cfg.CPU != nil {
		after := cfg.CPU()
		p.CPU = &Usage{Process: after.Process - before.Process, Database: after.Database - before.Database}
	}
	slices.Sort(p.Latencies)
	return p
}

func errorKey(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "cancelled"
	}
	msg := err.Error()
	if len(msg) > 80 {
		msg = msg[:80] + "…"
	}
	return msg
}

// newClients makes one Redshift client per principal, sharing one HTTP
// client with enough idle connections for the concurrency.
func newClients(cfg Config) []*redshift.Client {
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4 * cfg.Concurrency,
		MaxIdleConnsPerHost: 4 * cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	clients := make([]*redshift.Client, len(cfg.Principals))
	for i, p := range cfg.Principals {
		clients[i] = redshift.NewFromConfig(aws.Config{
			Region:       cfg.Region,
			BaseEndpoint: aws.String(cfg.Endpoint),
			Credentials:  credentials.NewStaticCredentialsProvider(p.AccessKeyID, p.SecretAccessKey.Reveal(), p.SessionToken.Reveal()),
			Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
			HTTPClient:   hc,
		})
	}
	return clients
}

func getCredentials(ctx context.Context, c *redshift.Client, cfg Config, autoCreate bool, issued *loginList) (string, error) {
	in := &redshift.GetClusterCredentialsInput{
		ClusterIdentifier: aws.String(cfg.Cluster), DbUser: aws.String(cfg.DbUser),
		DurationSeconds: aws.Int32(int32(cfg.DurationSeconds)),
	}
	if cfg.DbName != "" {
		in.DbName = aws.String(cfg.DbName)
	}
	if autoCreate {
		in.AutoCreate = aws.Bool(true)
	}
	out, err := c.GetClusterCredentials(ctx, in)
	if err != nil {
		return "", err
	}
	login := aws.ToString(out.DbUser)
	if aws.ToString(out.DbPassword) == "" || login == "" {
		return "", errors.New("empty credentials in the response")
	}
	issued.add(login)
	return login, nil
}

// ceilingPasswordLen is the length of dbiam's passwords (256 bits in
// base64url).
const ceilingPasswordLen = 43

// directDDL issues one login with the statements Issue writes, straight.
func directDDL(ctx context.Context, eng *pgengine.Engine, cfg Config, logins *loginList) error {
	name, password, err := newLogin(cfg.DbUser)
	if err != nil {
		return err
	}
	err = eng.DirectDDL(ctx, engine.IssueRequest{
		LoginName: name, DbUser: cfg.DbUser, DbName: cfg.DbName, Password: password,
		ValidUntil: cfg.Now().Add(time.Duration(cfg.DurationSeconds) * time.Second),
		// As long as the attribution comment dbiam writes.
		Comment: "dbiam credential cred-xxxxxxxxxx for arn:aws:iam::000000000000:user/bench-01 (request 00000000-0000-0000-0000-000000000000)",
	})
	if err != nil {
		return err
	}
	logins.add(name)
	return nil
}

// warmCeiling opens the ceiling's connections with a first login each.
func warmCeiling(ctx context.Context, eng *pgengine.Engine, cfg Config) error {
	logins := &loginList{}
	var wg sync.WaitGroup
	errs := make([]error, cfg.Concurrency)
	for i := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = directDDL(ctx, eng, cfg, logins)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bench: ceiling warm-up: %w", err)
	}
	_, err := dropLogins(ctx, eng, cfg, logins.all())
	return err
}

// newLogin returns a login name shaped like dbiam's (IAM:<user>:<10
// characters>) and a random password.
func newLogin(dbUser string) (string, secret.String, error) {
	var b [6 + 32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	suffix := strings.ToLower(enc.EncodeToString(b[:6]))[:10]
	pw := enc.EncodeToString(b[6:])
	return "IAM:" + dbUser + ":" + suffix, secret.String(pw[:min(len(pw), ceilingPasswordLen)]), nil
}

// loginList collects login names from concurrent workers.
type loginList struct {
	mu    sync.Mutex
	names []string
}

func (l *loginList) add(name string) {
	l.mu.Lock()
	l.names = append(l.names, name)
	l.mu.Unlock()
}

func (l *loginList) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.names)
}
