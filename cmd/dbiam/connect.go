package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// psqlMissing is the error when psql cannot be found.
const psqlMissing = "psql not found on PATH: install the PostgreSQL client (Debian/Ubuntu: apt-get install postgresql-client; Fedora/RHEL: dnf install postgresql; macOS: brew install libpq) or pass --psql PATH"

// connectDropEnv are variables psql must not inherit: the ones connect sets
// (so the user's own cannot override the fresh credentials) and the
// secrets meant for dbiam only.
var connectDropEnv = []string{
	"PGUSER", "PGPASSWORD", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSSLMODE", "PGSSLROOTCERT",
	"PGSERVICE", "PGPASSFILE", envIdPPassword, envSAMLAssertion,
}

func newConnectCommand() *cobra.Command { return newConnectCommandWith(defaultCredsDeps()) }

func newConnectCommandWith(deps credsDeps) *cobra.Command {
	var (
		f    credsFlags
		psql string
	)
	cmd := &cobra.Command{
		Use:   "connect [flags] [-- psql arguments…]",
		Short: "Open psql with temporary database credentials (in its environment, never on its command line)",
		Long: `Get temporary database credentials exactly as 'dbiam creds' does, then
replace this process with psql, passing the credentials in PGUSER,
PGPASSWORD, PGHOST, PGPORT, PGDATABASE and PGSSLMODE. The password never
appears on a command line. Arguments after -- go to psql, e.g.

  dbiam connect --cluster-id dev --db-user alice -- -c 'select current_user'

See docs/cli.md.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path := psql
			if path == "" {
				p, err := deps.lookPath("psql")
				if err != nil {
					return errors.New(psqlMissing)
				}
				path = p
			} else if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("--psql %s: %w; %s", path, err, strings.TrimPrefix(psqlMissing, "psql not found on PATH: "))
			}
			c, err := fetchDBCredentials(cmd, &f, deps)
			if err != nil {
				return err
			}
			env := slices.DeleteFunc(deps.environ(), func(kv string) bool {
				name, _, _ := strings.Cut(kv, "=")
				return slices.Contains(connectDropEnv, name)
			})
			for _, kv := range pgEnv(c) {
				env = append(env, kv[0]+"="+kv[1])
			}
			argv := append([]string{"psql"}, args...)
			return deps.exec(path, argv, env)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&psql, "psql", "", "psql binary (default: psql on PATH)")
	return cmd
}

// execProcess replaces this process with path (Unix); on Windows, which
// has no exec, it runs path as a child with this process's standard
// streams and exits with its status.
func execProcess(path string, argv, env []string) error {
	if runtime.GOOS != "windows" {
		return syscall.Exec(path, argv, env)
	}
	c := exec.Command(path, argv[1:]...)
	c.Env, c.Stdin, c.Stdout, c.Stderr = env, os.Stdin, os.Stdout, os.Stderr
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			os.Exit(ee.ExitCode())
		}
		return err
	}
	os.Exit(0)
	return nil
}
