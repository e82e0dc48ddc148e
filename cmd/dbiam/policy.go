package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dbiam/dbiam/internal/policy"
	"github.com/dbiam/dbiam/internal/policylint"
)

func newPolicyCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Check and simulate IAM policy documents offline"}
	cmd.AddCommand(newPolicyCheckCommand(), newPolicySimulateCommand())
	return cmd
}

var policyKinds = map[string]policy.PolicyKind{
	"identity": policy.Identity, "trust": policy.Trust, "resource": policy.Resource, "session": policy.Session, "boundary": policy.Boundary,
}

func newPolicyCheckCommand() *cobra.Command {
	var kind string
	var strict bool
	cmd := &cobra.Command{
		Use:   "check FILE...",
		Short: "Lint policy documents: parse errors, unknown actions, unreachable statements, dangerous wildcards",
		Long: `Lint policy documents with the same strict parser the IAM API uses, then
review them: actions that no service dbiam serves knows, Allow statements an
unconditional Deny always overrides, and wildcards that grant more than
intended. Exits 1 when a document does not parse (or, with --strict, on any
warning).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			k, ok := policyKinds[kind]
			if !ok {
				return fmt.Errorf("--kind %q: want identity, trust, resource, session or boundary", kind)
			}
			failed := false
			for _, f := range files {
				doc, err := os.ReadFile(f)
				if err != nil {
					return err
				}
				findings := policylint.Check(doc, k)
				for _, fd := range findings {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", f, fd)
					if fd.Severity == policylint.Error || strict {
						failed = true
					}
				}
				if len(findings) == 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", f)
				}
			}
			if failed {
				return fmt.Errorf("policy check failed")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "identity", "policy kind: identity, trust, resource, session or boundary")
	cmd.Flags().BoolVar(&strict, "strict", false, "fail on warnings too")
	return cmd
}

func newPolicySimulateCommand() *cobra.Command {
	var (
		policies, boundaries, contexts []string
		action, resource               string
		trace                          bool
	)
	cmd := &cobra.Command{
		Use:   "simulate --policy FILE --action ACTION [--resource ARN] [--context KEY=VALUE]...",
		Short: "Evaluate an action against policy files and explain the decision",
		Long: `Evaluate one request against identity policies (and optional permissions
boundaries) exactly as the server does, and print the decision, the
statements that decided it, the context keys the policies wanted but did not
get, and (with --trace) what happened to every statement.

A context key may be given several times for a multi-valued key:
  --context aws:userid=AROAEXAMPLE:alice@example.com --context redshift:DbUser=alice`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var set policy.PolicySet
			for _, f := range policies {
				p, err := parseFile(f, policy.Identity)
				if err != nil {
					return err
				}
				set.Identity = append(set.Identity, &policy.NamedPolicy{Name: f, Policy: p})
			}
			for _, f := range boundaries {
				p, err := parseFile(f, policy.Boundary)
				if err != nil {
					return err
				}
				set.Boundaries = append(set.Boundaries, &policy.NamedPolicy{Name: f, Policy: p})
			}
			var c policy.Context
			for _, kv := range contexts {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return fmt.Errorf("--context %q: want KEY=VALUE", kv)
				}
				c.Add(k, v)
			}
			d := policy.Evaluate(&policy.Request{Action: action, Resource: resource, Context: c, Trace: trace}, set)
			fmt.Fprint(cmd.OutOrStdout(), d.Explain())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&policies, "policy", nil, "identity policy file (repeatable)")
	f.StringArrayVar(&boundaries, "boundary", nil, "permissions boundary file (repeatable)")
	f.StringVar(&action, "action", "", "action, e.g. redshift:GetClusterCredentials")
	f.StringVar(&resource, "resource", "*", "resource ARN")
	f.StringArrayVar(&contexts, "context", nil, "condition key and value, KEY=VALUE (repeatable)")
	f.BoolVar(&trace, "trace", false, "show the outcome of every statement")
	_ = cmd.MarkFlagRequired("policy")
	_ = cmd.MarkFlagRequired("action")
	return cmd
}

func parseFile(path string, kind policy.PolicyKind) (*policy.Policy, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := policy.ParseKind(doc, kind)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
