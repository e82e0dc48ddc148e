package awstest

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dbiam/dbiam/internal/config"
)

// Target is the database a test cluster points at, for logging in with
// issued credentials.
type Target struct {
	Host string
	Port int
	DB   string
}

// Cluster returns the config of a cluster named id whose admin is the
// user of adminURL (a pgtest URL with its password): the URL without the
// password, the password in a 0600 file of the test, and the endpoint. The
// Target says where to log in.
func Cluster(t testing.TB, id, adminURL string) (config.Cluster, Target) {
	t.Helper()
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("awstest: admin URL: %v", err)
	}
	pw, _ := u.User.Password()
	pwFile := filepath.Join(t.TempDir(), "admin-password")
	if err := os.WriteFile(pwFile, []byte(pw), 0o600); err != nil {
		t.Fatal(err)
	}
	u.User = url.User(u.User.Username())
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatalf("awstest: admin URL port: %v", err)
	}
	target := Target{Host: u.Hostname(), Port: port, DB: strings.TrimPrefix(u.Path, "/")}
	return config.Cluster{Identifier: id, Engine: config.EnginePostgres,
		Endpoint: config.Endpoint{Address: target.Host, Port: target.Port}, AdminURL: u.String(), AdminPasswordFile: pwFile}, target
}
