package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Bootstrap declares IAM entities that dbiam applies idempotently at start
// (see docs/bootstrap.md). Entities not named here are never touched; for
// the ones named here the file is the source of truth for the listed
// attributes, inline policies, attachments and group memberships.
type Bootstrap struct {
	// Policies are customer managed policies, referenced by name elsewhere.
	Policies      []BootstrapPolicy       `yaml:"policies"`
	Groups        []BootstrapGroup        `yaml:"groups"`
	Users         []BootstrapUser         `yaml:"users"`
	Roles         []BootstrapRole         `yaml:"roles"`
	SAMLProviders []BootstrapSAMLProvider `yaml:"saml_providers"`
}

// BootstrapPolicy is a managed policy. A changed document becomes a new
// default version.
type BootstrapPolicy struct {
	Name        string         `yaml:"name"`
	Path        string         `yaml:"path"`
	Description string         `yaml:"description"`
	Document    PolicyDocument `yaml:"document"`
}

// BootstrapGroup is an IAM group with its inline and attached policies.
type BootstrapGroup struct {
	Name            string                    `yaml:"name"`
	Path            string                    `yaml:"path"`
	Policies        map[string]PolicyDocument `yaml:"policies"`
	ManagedPolicies []string                  `yaml:"managed_policies"`
}

// BootstrapUser is an IAM user. Access keys are never declared: create them
// with the API (their secrets must not live in a config file).
type BootstrapUser struct {
	Name                string                    `yaml:"name"`
	Path                string                    `yaml:"path"`
	Groups              []string                  `yaml:"groups"`
	Policies            map[string]PolicyDocument `yaml:"policies"`
	ManagedPolicies     []string                  `yaml:"managed_policies"`
	PermissionsBoundary string                    `yaml:"permissions_boundary"`
	Tags                map[string]string         `yaml:"tags"`
}

// BootstrapRole is an IAM role with its trust policy.
type BootstrapRole struct {
	Name                string                    `yaml:"name"`
	Path                string                    `yaml:"path"`
	Description         string                    `yaml:"description"`
	MaxSessionDuration  int                       `yaml:"max_session_duration"`
	TrustPolicy         PolicyDocument            `yaml:"trust_policy"`
	Policies            map[string]PolicyDocument `yaml:"policies"`
	ManagedPolicies     []string                  `yaml:"managed_policies"`
	PermissionsBoundary string                    `yaml:"permissions_boundary"`
	Tags                map[string]string         `yaml:"tags"`
}

// BootstrapSAMLProvider registers an identity provider from its metadata.
type BootstrapSAMLProvider struct {
	Name         string `yaml:"name"`
	MetadataFile string `yaml:"metadata_file"`
}

// PolicyDocument is a policy given in the YAML either as a mapping (written
// as YAML, converted to JSON), as a string of JSON, or as {file: PATH}.
type PolicyDocument struct {
	JSON string // the document, when given inline
	File string // the file holding the document, when given as {file: PATH}
}

// IsZero reports whether no document was given.
func (d PolicyDocument) IsZero() bool { return d.JSON == "" && d.File == "" }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *PolicyDocument) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		d.JSON = n.Value
		return nil
	case yaml.MappingNode:
		if len(n.Content) == 2 && n.Content[0].Value == "file" {
			d.File = n.Content[1].Value
			return nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: policy document cannot be written as JSON: %w", n.Line, err)
		}
		d.JSON = string(b)
		return nil
	default:
		return fmt.Errorf("line %d: a policy document is a mapping, a JSON string or {file: PATH}", n.Line)
	}
}

// Resolve returns the document text, reading File relative to baseDir.
func (d PolicyDocument) Resolve(baseDir string) (string, error) {
	if d.File == "" {
		return d.JSON, nil
	}
	p := d.File
	if !filepath.IsAbs(p) {
		p = filepath.Join(baseDir, p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("read policy document: %w", err)
	}
	return string(b), nil
}

func (b Bootstrap) validate(ps *problems) {
	names := func(kind string, i int, name string, seen map[string]int) {
		p := fmt.Sprintf("bootstrap.%s[%d].name", kind, i)
		if name == "" {
			ps.add(p, "must not be empty")
			return
		}
		if first, dup := seen[name]; dup {
			ps.add(p, "duplicate name %q (also bootstrap.%s[%d])", name, kind, first)
			return
		}
		seen[name] = i
	}
	seen := map[string]int{}
	for i, p := range b.Policies {
		names("policies", i, p.Name, seen)
		if p.Document.IsZero() {
			ps.add(fmt.Sprintf("bootstrap.policies[%d].document", i), "is required")
		}
	}
	seen = map[string]int{}
	for i, g := range b.Groups {
		names("groups", i, g.Name, seen)
	}
	seen = map[string]int{}
	for i, u := range b.Users {
		names("users", i, u.Name, seen)
	}
	seen = map[string]int{}
	for i, r := range b.Roles {
		names("roles", i, r.Name, seen)
		if r.TrustPolicy.IsZero() {
			ps.add(fmt.Sprintf("bootstrap.roles[%d].trust_policy", i), "is required")
		}
	}
	seen = map[string]int{}
	for i, s := range b.SAMLProviders {
		names("saml_providers", i, s.Name, seen)
		if s.MetadataFile == "" {
			ps.add(fmt.Sprintf("bootstrap.saml_providers[%d].metadata_file", i), "is required")
		}
	}
}
