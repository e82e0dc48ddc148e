package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/dbiam/dbiam/internal/demo"
)

func newDemoCommand() *cobra.Command {
	var (
		cfg     demo.Config
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole story in one process and print it (IAM user, credentials, SAML federation)",
		Long: `Start an in-process dbiam with a local PostgreSQL (from the binaries on this
machine) in a temporary directory, and play the story, printing each step,
its AWS call and the result: an IAM user with a policy gets temporary
database credentials and connects; a request for another user is denied;
a user of the development SAML IdP signs in, AssumeRoleWithSAML, gets
credentials for her database user and connects.

Without --exit everything keeps running, and the endpoint and credentials to
try it are printed, until Ctrl-C. See docs/dev.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Stdout = cmd.OutOrStdout()
			cfg.Logs = io.Discard
			if verbose {
				cfg.Logs = cmd.ErrOrStderr()
			}
			return demo.Run(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&cfg.Exit, "exit", false, "stop after the transcript instead of running until Ctrl-C")
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:0", "dbiam's listen address")
	f.BoolVar(&verbose, "verbose", false, "print dbiam's log to stderr")
	return cmd
}
