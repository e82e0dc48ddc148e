package main

import (
	"crypto/rand"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbiam/dbiam/internal/app"
	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/keyring"
)

func newRootCommand(getenv func(string) string) *cobra.Command {
	root := &cobra.Command{
		Use:           "dbiam",
		Short:         "IAM database credentials for PostgreSQL, over the AWS APIs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(getenv), newKeyringCommand(), newPolicyCommand(), newVersionCommand())
	root.AddCommand(newIdPCommand())
	root.AddCommand(newDemoCommand())
	root.AddCommand(newBenchCommand(getenv))
	root.AddCommand(newCredsCommand(), newConnectCommand())
	return root
}

func newServeCommand(getenv func(string) string) *cobra.Command {
	var (
		configPath, listen, dataDir string
		dev, insecure               bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the IAM, STS and Redshift APIs",
		Long: `Serve the IAM, STS and Redshift Query APIs on one listener.

Configuration comes from --config (YAML), then DBIAM_* environment variables,
then these flags. --dev keeps everything in the data dir: an embedded SQLite
store, a generated master key and generated root credentials, and prints the
commands to try.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath, getenv)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("listen") {
				cfg.Listen = listen
			}
			if cmd.Flags().Changed("data-dir") {
				cfg.SetDataDir(dataDir)
			}
			if cmd.Flags().Changed("insecure") {
				cfg.Insecure = insecure
			}
			return app.Run(cmd.Context(), cfg, app.Options{
				Dev:    dev,
				Getenv: getenv,
				Stdout: cmd.OutOrStdout(),
				Stderr: cmd.ErrOrStderr(),
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "YAML config file (default: built-in defaults and DBIAM_* variables)")
	f.StringVar(&listen, "listen", "", "listen address (default 127.0.0.1:8439)")
	f.StringVar(&dataDir, "data-dir", "", "directory for the embedded store and dev files (default ./dbiam-data)")
	f.BoolVar(&dev, "dev", false, "development mode: generated master key and root credentials, banner with commands")
	f.BoolVar(&insecure, "insecure", false, "allow plain HTTP on a non-loopback address")
	return cmd
}

func newKeyringCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "keyring", Short: "Manage the master key file that seals secrets at rest"}
	var file string
	gen := &cobra.Command{
		Use:   "generate",
		Short: "Create a new master key file (mode 0600); fails if it exists",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := keyring.GenerateFile(file, rand.Reader, time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s\n", file)
			return nil
		},
	}
	rot := &cobra.Command{
		Use:   "rotate",
		Short: "Add a new primary key; older keys stay to open existing secrets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := keyring.RotateFile(file, rand.Reader, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new primary key %s in %s; restart every replica with the new file\n", id, file)
			return nil
		},
	}
	for _, c := range []*cobra.Command{gen, rot} {
		c.Flags().StringVar(&file, "file", "", "master key file")
		_ = c.MarkFlagRequired("file")
		cmd.AddCommand(c)
	}
	return cmd
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			v := "(devel)"
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
				v = bi.Main.Version
			}
			fmt.Fprintln(cmd.OutOrStdout(), "dbiam", v)
		},
	}
}
