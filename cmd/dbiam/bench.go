package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/dbiam/dbiam/internal/bench"
	"github.com/dbiam/dbiam/internal/demo"
	pgengine "github.com/dbiam/dbiam/internal/engine/postgres"
	"github.com/dbiam/dbiam/internal/secret"
)

func newBenchCommand(getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Load generators"}
	cmd.AddCommand(newBenchCredsCommand(getenv))
	return cmd
}

func newBenchCredsCommand(getenv func(string) string) *cobra.Command {
	var (
		cfg                   bench.Config
		self, verbose         bool
		principals            int
		cpuProfile, profPhase string
	)
	cmd := &cobra.Command{
		Use:   "creds",
		Short: "Measure GetClusterCredentials throughput and latency against the direct-DDL ceiling",
		Long: `Load a running dbiam with GetClusterCredentials requests (--concurrency
clients, for --duration or --count requests) and print the throughput and the
latency percentiles. In the same run it measures the ceiling: the same login
DDL sent straight to the database as dbiam's admin role (--admin-url, password
from PGPASSWORD), with the same concurrency and SCRAM iteration count, and
prints dbiam's throughput as a percentage of it.

Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_SESSION_TOKEN; the endpoint from --endpoint or AWS_ENDPOINT_URL.

dbiam limits each principal to 50 requests/s: --principals N creates N IAM
users with the AWS_* credentials (which must be allowed to), spreads the
requests over them and deletes them at the end.

--self starts an in-process dbiam with a local PostgreSQL in a temporary
directory (and 16 principals), so that one command gives the whole picture.
See docs/bench.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg.Out = cmd.OutOrStdout()
			logs := io.Discard
			if verbose {
				logs = cmd.ErrOrStderr()
			}
			if self {
				if principals <= 0 {
					principals = 16
				}
				s, err := bench.StartSelf(ctx, &cfg, principals, logs)
				if err != nil {
					return err
				}
				defer s.Close(ctx)
				fmt.Fprintf(cfg.Out, "--self: dbiam %s (SQLite store), PostgreSQL %s:%d, %d IAM users\n", s.Server.URL(), s.Cluster.Host, s.Cluster.Port, len(cfg.Principals))
			} else {
				if cfg.Endpoint == "" {
					cfg.Endpoint = getenv("AWS_ENDPOINT_URL")
				}
				if cfg.Region == "" {
					cfg.Region = firstNonEmpty(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
				}
				cfg.Principals = []bench.Credentials{{
					AccessKeyID: getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: secret.String(getenv("AWS_SECRET_ACCESS_KEY")),
					SessionToken: secret.String(getenv("AWS_SESSION_TOKEN")),
				}}
				cfg.AdminPassword = secret.String(getenv("PGPASSWORD"))
				if principals > 0 && cfg.Region != "" && cfg.Endpoint != "" {
					admin := demo.AWSConfig(cfg.Endpoint, cfg.Region, cfg.Principals[0].AccessKeyID,
						cfg.Principals[0].SecretAccessKey.Reveal(), cfg.Principals[0].SessionToken.Reveal())
					prefix := bench.RandomPrefix()
					creds, cleanup, err := bench.CreatePrincipals(ctx, admin, cfg, prefix, principals)
					if err != nil {
						return fmt.Errorf("--principals: %w", err)
					}
					defer func() {
						if err := cleanup(context.WithoutCancel(ctx)); err != nil {
							fmt.Fprintf(cmd.ErrOrStderr(), "dbiam bench: delete the IAM users %s-*: %v\n", prefix, err)
						}
					}()
					fmt.Fprintf(cfg.Out, "created %d IAM users %s-01… (deleted at the end)\n", len(creds), prefix)
					cfg.Principals = creds
				}
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				cfg.PhaseHook = func(phase string, start bool) {
					if phase != profPhase {
						return
					}
					if start {
						_ = pprof.StartCPUProfile(f)
					} else {
						pprof.StopCPUProfile()
					}
				}
			}
			_, err := bench.Run(ctx, cfg)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Endpoint, "endpoint", "", "dbiam's URL (default $AWS_ENDPOINT_URL)")
	f.StringVar(&cfg.Region, "region", "", "signing region (default $AWS_REGION, $AWS_DEFAULT_REGION)")
	f.StringVar(&cfg.Cluster, "cluster", "dev", "cluster identifier")
	f.StringVar(&cfg.DbUser, "db-user", "bench", "database user (created on the first request if missing)")
	f.StringVar(&cfg.DbName, "db-name", "dev", "database the credentials are restricted to (\"\" for none)")
	f.IntVar(&cfg.DurationSeconds, "duration-seconds", 900, "DurationSeconds of the credentials")
	f.IntVar(&cfg.Concurrency, "concurrency", 4, "concurrent clients (in both phases)")
	f.DurationVar(&cfg.Duration, "duration", 0, "length of each phase (default 10s)")
	f.IntVar(&cfg.Count, "count", 0, "requests per phase instead of --duration")
	f.StringVar(&cfg.AdminURL, "admin-url", "", "dbiam's admin connection to the cluster, for the ceiling (password from $PGPASSWORD)")
	f.IntVar(&cfg.SCRAMIterations, "scram-iterations", pgengine.DefaultSCRAMIterations, "SCRAM iterations of the ceiling's verifiers (dbiam's engine uses 1)")
	f.BoolVar(&self, "self", false, "start an in-process dbiam and local PostgreSQL (temporary) and bench it")
	f.IntVar(&principals, "principals", 0, "IAM users to create and spread the requests over (default 16 with --self; otherwise none: the requests are signed with the AWS_* credentials)")
	f.BoolVar(&verbose, "verbose", false, "with --self: print dbiam's log (warnings) to stderr")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process during one phase (with --self: server and client)")
	f.StringVar(&profPhase, "profile-phase", "dbiam", "phase to profile: dbiam or ceiling")
	cmd.MarkFlagsMutuallyExclusive("duration", "count")
	return cmd
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
