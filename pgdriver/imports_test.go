package pgdriver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dbiam/dbiam/internal/testutil/importcheck"
)

// TestNoInternalImports: pgdriver is public and must not import dbiam's
// internal packages (tests may use the test infrastructure).
func TestNoInternalImports(t *testing.T) {
	for _, imp := range importcheck.Imports(t, ".") {
		if strings.HasPrefix(imp.Path, "github.com/dbiam/dbiam/internal") {
			t.Errorf("%s imports %s", imp.File, imp.Path)
		}
	}
}

func TestDriverOpenKeepsOneConnectorPerDSN(t *testing.T) {
	api := &fakeAPI{}
	d := NewDriver(WithRedshiftClient(api))
	dsn := "postgres://127.0.0.1:1/db?cluster_id=dev&db_user=a&connect_timeout=2&sslmode=disable"
	for range 2 {
		if _, err := d.Open(dsn); err == nil {
			t.Fatal("connected to port 1")
		}
	}
	if len(d.byDSN) != 1 || len(api.gcc) != 1 {
		t.Fatalf("%d connectors, %d GetClusterCredentials calls", len(d.byDSN), len(api.gcc))
	}
	if m := d.byDSN[dsn].s.cacheMode; m != CacheLazy {
		t.Errorf("cache mode %s", m)
	}
	c, err := d.OpenConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.(*Connector).Close()
	if c.Driver() != d || c.(*Connector).s.cacheMode != CacheRefreshAhead {
		t.Error("OpenConnector: wrong driver or cache mode")
	}
}

func TestConnectorPrintsNoSecrets(t *testing.T) {
	isolateAWS(t)
	c, err := NewConnector("postgres://jdoe:IDP-PASSWORD@h/db?cluster_id=dev&region=us-east-1&plugin_name=saml-form&idp_url=https://idp.example.com/login")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, err := NewConnector("postgres://h/db?cluster_id=dev&region=us-east-1&plugin_name=saml-assertion&saml_assertion=SECRET-ASSERTION")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, v := range []any{c, a, []*Connector{c, a}, struct{ C *Connector }{c}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, "IDP-PASSWORD") || strings.Contains(out, "SECRET-ASSERTION") {
				t.Errorf("%s shows a secret: %s", verb, out)
			}
		}
	}
	if c.dsn.urlPass != "" || a.s.samlAssertion != "" {
		t.Error("the Connector keeps a secret")
	}
	if got := c.String(); !strings.Contains(got, `plugin: "saml-form"`) || !strings.Contains(got, `host: "h"`) {
		t.Errorf("String() = %s", got)
	}
}
