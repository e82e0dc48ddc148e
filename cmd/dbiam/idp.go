package main

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/dbiam/dbiam/internal/devidp"
)

func newIdPCommand() *cobra.Command {
	var cfg devidp.Config
	cmd := &cobra.Command{
		Use:   "idp",
		Short: "Run a development SAML identity provider (users from a file)",
		Long: `Run a small IdP-initiated SAML 2.0 identity provider for development, so
that federation (AssumeRoleWithSAML) can be tried without a corporate IdP.

Users, passwords, roles and Redshift attributes come from --users (see
examples/idp-users.yaml). The signing key is generated on first start and
kept in --data-dir, so the metadata stays the same across restarts. It
prints the metadata URL, the command that registers the provider with
dbiam, and the login URL. Never use it for real accounts. See docs/dev-idp.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			return devidp.Run(cmd.Context(), cfg, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.UsersFile, "users", "", "users file (YAML; see examples/idp-users.yaml)")
	f.StringVar(&cfg.Listen, "listen", devidp.DefaultListen, "listen address (loopback only unless --insecure)")
	f.StringVar(&cfg.DataDir, "data-dir", "dbiam-data/idp", "directory for the signing key and the metadata file")
	f.StringVar(&cfg.AccountID, "account-id", devidp.DefaultAccountID, "account ID in the ARNs of role names from the users file")
	f.StringVar(&cfg.ProviderName, "provider-name", devidp.DefaultProviderName, "IAM SAML provider name in the ARNs of role names")
	f.StringVar(&cfg.EntityID, "entity-id", "", "entity ID (default http://<listen address>/metadata)")
	f.StringVar(&cfg.ACSURL, "acs-url", devidp.DefaultACSURL, "Destination and Recipient of the responses")
	f.BoolVar(&cfg.Insecure, "insecure", false, "allow a non-loopback listen address (plain HTTP, passwords from a file)")
	_ = cmd.MarkFlagRequired("users")
	return cmd
}
