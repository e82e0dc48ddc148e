package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbiam/dbiam/internal/config"
)

func TestBootstrapSection(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trust.json"), []byte(`{"Version":"2012-10-17"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dbiam.yaml")
	yml := `
bootstrap:
  policies:
    - name: ReadUsers
      document:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: iam:ListUsers
            Resource: "*"
  users:
    - name: alice
      groups: [readers]
      policies:
        inline: '{"Version":"2012-10-17","Statement":[]}'
  roles:
    - name: analyst
      trust_policy: {file: trust.json}
`
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := c.Bootstrap
	if got := b.Policies[0].Document.JSON; got != `{"Statement":[{"Action":"iam:ListUsers","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}` {
		t.Errorf("mapping document = %s", got)
	}
	if got := b.Users[0].Policies["inline"].JSON; got != `{"Version":"2012-10-17","Statement":[]}` {
		t.Errorf("string document = %s", got)
	}
	trust, err := b.Roles[0].TrustPolicy.Resolve(c.BaseDir)
	if err != nil || trust != `{"Version":"2012-10-17"}` {
		t.Errorf("file document = %q, %v", trust, err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestBootstrapValidation(t *testing.T) {
	c := config.Default()
	c.Bootstrap = config.Bootstrap{
		Policies:      []config.BootstrapPolicy{{Name: "p"}, {Name: "p", Document: config.PolicyDocument{JSON: "{}"}}},
		Users:         []config.BootstrapUser{{}},
		Roles:         []config.BootstrapRole{{Name: "r"}},
		SAMLProviders: []config.BootstrapSAMLProvider{{Name: "idp"}},
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("want problems")
	}
	for _, want := range []string{
		"bootstrap.policies[0].document: is required",
		`bootstrap.policies[1].name: duplicate name "p"`,
		"bootstrap.users[0].name: must not be empty",
		"bootstrap.roles[0].trust_policy: is required",
		"bootstrap.saml_providers[0].metadata_file: is required",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nlacks %q", err, want)
		}
	}
}
