package config_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbiam/dbiam/internal/config"
	"github.com/dbiam/dbiam/internal/secret"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeYAML(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dbiam.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func problemPaths(t *testing.T, err error) []string {
	t.Helper()
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v (%T), want *ValidationError", err, err)
	}
	var paths []string
	for _, p := range ve.Problems {
		paths = append(paths, p.Path)
	}
	return paths
}

func TestDefaults(t *testing.T) {
	c := config.Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"listen", c.Listen, "127.0.0.1:8439"},
		{"region", c.Region, "us-east-1"},
		{"account_id", c.AccountID, "000000000000"},
		{"store.type", c.Store.Type, "sqlite"},
		{"data_dir", c.DataDir, "./dbiam-data"},
		{"sqlite path", c.SQLitePath(), filepath.Join("dbiam-data", "dbiam.db")},
		{"master key path", c.MasterKeyPath(), filepath.Join("dbiam-data", "master.key")},
		{"log.format", c.Log.Format, "text"},
		{"log.level", c.Log.Level, "info"},
		{"shutdown_timeout", c.ShutdownTimeout.String(), "15s"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if got := c.AcceptedSigningRegions(); !slices.Equal(got, []string{"us-east-1"}) {
		t.Errorf("AcceptedSigningRegions = %q", got)
	}
	// Derived values follow later changes (e.g. --data-dir, --region).
	c.DataDir = "/srv/dbiam"
	c.Region = "eu-west-1"
	if got := c.SQLitePath(); got != filepath.Join("/srv/dbiam", "dbiam.db") {
		t.Errorf("SQLitePath after data_dir change = %q", got)
	}
	if got := c.MasterKeyPath(); got != filepath.Join("/srv/dbiam", "master.key") {
		t.Errorf("MasterKeyPath after data_dir change = %q", got)
	}
	if got := c.AcceptedSigningRegions(); !slices.Equal(got, []string{"eu-west-1", "us-east-1"}) {
		t.Errorf("AcceptedSigningRegions = %q", got)
	}
	if !c.SigningRegionAllowed("us-east-1") || c.SigningRegionAllowed("ap-south-1") {
		t.Error("SigningRegionAllowed wrong for default list")
	}
	c.SigningRegions = []string{"*"}
	if !c.SigningRegionAllowed("ap-south-1") {
		t.Error(`"*" does not accept any region`)
	}

	loaded, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded, loadedDefaults()) {
		t.Errorf("Load(\"\", nil) = %+v, want %+v", loaded, loadedDefaults())
	}
	if err := loaded.Validate(); err != nil {
		t.Fatal(err)
	}
}

// loadedDefaults is what Load returns without file or environment: the
// defaults plus the derived values.
func loadedDefaults() config.Config {
	c := config.Default()
	c.Store.Path = filepath.Join("dbiam-data", "dbiam.db")
	c.MasterKeyFile = filepath.Join("dbiam-data", "master.key")
	c.SigningRegions = []string{"us-east-1"}
	return c
}

func TestLoadFillsDerivedDefaults(t *testing.T) {
	c, err := config.Load(writeYAML(t, "region: eu-west-1\ndata_dir: /srv/d\n"), env(map[string]string{"DBIAM_DATA_DIR": "/env/d"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Path != filepath.Join("/env/d", "dbiam.db") || c.MasterKeyFile != filepath.Join("/env/d", "master.key") ||
		!slices.Equal(c.SigningRegions, []string{"eu-west-1", "us-east-1"}) {
		t.Errorf("derived values: path %q, master key %q, signing regions %q", c.Store.Path, c.MasterKeyFile, c.SigningRegions)
	}
	// Explicit values are kept; postgres gets no sqlite path.
	c, err = config.Load(writeYAML(t, "store: {type: postgres, url_file: /u}\nmaster_key_file: /k\nsigning_regions: ['*']\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Path != "" || c.MasterKeyFile != "/k" || !slices.Equal(c.SigningRegions, []string{"*"}) {
		t.Errorf("explicit values changed: %+v", c)
	}
}

func TestSetDataDir(t *testing.T) {
	c, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDataDir("/flag/d")
	if c.DataDir != "/flag/d" || c.Store.Path != filepath.Join("/flag/d", "dbiam.db") || c.MasterKeyFile != filepath.Join("/flag/d", "master.key") {
		t.Errorf("derived paths did not follow: %+v", c)
	}
	c.Store.Path = "/explicit/db"
	c.MasterKeyFile = "/explicit/key"
	c.SetDataDir("/other")
	if c.Store.Path != "/explicit/db" || c.MasterKeyFile != "/explicit/key" {
		t.Errorf("explicit paths moved: %+v", c)
	}
	var zero config.Config
	zero.Store.Type = "sqlite"
	zero.SetDataDir("/z")
	if zero.Store.Path != filepath.Join("/z", "dbiam.db") || zero.MasterKeyFile != filepath.Join("/z", "master.key") {
		t.Errorf("unset paths not derived: %+v", zero)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	c, err := config.Load("../../examples/dbiam.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:8439" || c.Region != "us-west-2" || c.AccountID != "210987654321" ||
		c.Store.Type != "postgres" || c.Store.URLFile == "" || c.Log.Format != "json" ||
		!c.TLS.Enabled() || c.Root.AccessKeyID == "" || c.Root.SecretAccessKeyFile == "" ||
		c.MasterKeyFile == "" || len(c.SigningRegions) == 0 || c.MetricsListen != "0.0.0.0:9439" {
		t.Errorf("example config not loaded as expected: %+v", c)
	}
	if len(c.Clusters) != 1 || c.Clusters[0].Identifier != "analytics" || c.Clusters[0].Endpoint.Port != 5432 {
		t.Errorf("clusters = %+v", c.Clusters)
	}
	if c.ShutdownTimeout.Duration() != 20*time.Second {
		t.Errorf("shutdown_timeout = %s", c.ShutdownTimeout)
	}
}

func TestLoadFileAndDefaults(t *testing.T) {
	p := writeYAML(t, `
region: eu-central-1
store:
  path: /data/x.db
clusters:
  - identifier: dev
    endpoint: {address: localhost}
    admin_url: postgres://postgres@localhost/postgres
`)
	c, err := config.Load(p, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "eu-central-1" || c.Listen != config.DefaultListen || c.Store.Type != "sqlite" || c.SQLitePath() != "/data/x.db" {
		t.Errorf("got %+v", c)
	}
	if cl := c.Clusters[0]; cl.Engine != "postgres" || cl.Endpoint.Port != 5432 {
		t.Errorf("cluster defaults not applied: %+v", cl)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadAccountIDUnquoted(t *testing.T) {
	// YAML would read 012345678901 as a number; the text is kept.
	c, err := config.Load(writeYAML(t, "account_id: 012345678901\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.AccountID != "012345678901" {
		t.Fatalf("account_id = %q", c.AccountID)
	}
}

func TestLoadEmptyFiles(t *testing.T) {
	for name, content := range map[string]string{"empty": "", "comments": "# nothing here\n\n# at all\n", "document marker": "---\n"} {
		t.Run(name, func(t *testing.T) {
			c, err := config.Load(writeYAML(t, content), nil)
			if err != nil {
				t.Fatal(err)
			}
			c.BaseDir = ""
			if !reflect.DeepEqual(c, loadedDefaults()) {
				t.Errorf("got %+v, want defaults", c)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		yaml    string
		want    []string // substrings of the error
		notWant []string // must not appear (secrets)
	}{
		{
			name: "unknown top-level key",
			yaml: "listen: 127.0.0.1:1\nlistne: x\n",
			want: []string{"listne", "line 2", "unknown key", "listen"},
		},
		{
			name: "unknown nested key",
			yaml: "region: us-east-1\ntls:\n  cert_file: a\n  cert: b\n",
			want: []string{"tls.cert", "line 4", "cert_file, key_file"},
		},
		{
			name: "unknown key in list element",
			yaml: "clusters:\n  - identifier: a\n    endpoint: {address: h, prot: 1}\n",
			want: []string{"clusters[0].endpoint.prot", "line 3"},
		},
		{
			name: "several unknown keys at once",
			yaml: "foo: 1\nlog:\n  colour: red\n",
			want: []string{"2 problems", "foo (line 1)", "log.colour (line 3)"},
		},
		{
			name: "duplicate key",
			yaml: "listen: 127.0.0.1:1\nregion: us-east-1\nlisten: 127.0.0.1:2\n",
			want: []string{"listen", "line 3", "duplicate", "line 1"},
		},
		{
			name: "duplicate nested key",
			yaml: "log:\n  level: info\n  level: debug\n",
			want: []string{"log.level", "line 3", "duplicate"},
		},
		{
			name:    "inline root secret",
			yaml:    "root:\n  access_key_id: AKIAEXAMPLE000001\n  secret_access_key: wJalrXUtnFEMI/K7MDENG\n",
			want:    []string{"root.secret_access_key", "line 3", "never accepted inline", "secret_access_key_file", "DBIAM_ROOT_SECRET_ACCESS_KEY"},
			notWant: []string{"wJalrXUtnFEMI"},
		},
		{
			name:    "store url with password",
			yaml:    "store:\n  type: postgres\n  url: postgres://dbiam:hunter2pass@db/dbiam\n",
			want:    []string{"store.url", "line 3", "password", "url_file", "DBIAM_STORE_URL"},
			notWant: []string{"hunter2pass"},
		},
		{
			name:    "store url with password parameter",
			yaml:    "store:\n  type: postgres\n  url: postgres://db/dbiam?user=x&password=hunter2pass\n",
			want:    []string{"store.url", "password"},
			notWant: []string{"hunter2pass"},
		},
		{
			name:    "cluster admin url with password",
			yaml:    "clusters:\n  - identifier: a\n    admin_url: postgres://admin:hunter2pass@db/postgres\n",
			want:    []string{"clusters[0].admin_url", "line 3", "admin_password_file"},
			notWant: []string{"hunter2pass"},
		},
		{
			name: "bootstrap unknown key",
			yaml: "bootstrap:\n  roles:\n    - name: r\n      trust: {}\n",
			want: []string{"bootstrap.roles[0].trust", "unknown key"},
		},
		{
			name: "wrong type",
			yaml: "insecure: maybe\n",
			want: []string{"line 1", "bool"},
		},
		{
			name: "bad duration",
			yaml: "shutdown_timeout: 15\n",
			want: []string{"line 1", "unit"},
		},
		{
			name: "type errors are all reported",
			yaml: "insecure: maybe\nshutdown_timeout: soon\nsigning_regions: us-east-1\nclusters:\n  - endpoint: {port: x}\n",
			want: []string{"4 problems", "(line 1): cannot unmarshal", "(line 2): invalid duration", "(line 3)", "(line 5)"},
		},
		{
			name: "syntax error",
			yaml: "listen: [\n",
			want: []string{"dbiam.yaml"},
		},
		{
			name: "two documents",
			yaml: "listen: a:1\n---\nlisten: b:2\n",
			want: []string{"more than one YAML document"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(writeYAML(t, tc.yaml), env(nil))
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			for _, nw := range tc.notWant {
				if strings.Contains(err.Error(), nw) {
					t.Errorf("error leaks %q:\n%v", nw, err)
				}
			}
		})
	}
	if _, err := config.Load(filepath.Join(t.TempDir(), "missing.yaml"), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadProblemLines(t *testing.T) {
	_, err := config.Load(writeYAML(t, "region: us-east-1\n\ntls:\n  cret_file: x\n"), nil)
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	if len(ve.Problems) != 1 || ve.Problems[0].Path != "tls.cret_file" || ve.Problems[0].Line != 4 {
		t.Fatalf("problems = %+v", ve.Problems)
	}
	if !strings.HasSuffix(ve.Source, "dbiam.yaml") {
		t.Errorf("Source = %q", ve.Source)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*config.Config)
		paths []string // expected problem paths, in order
		want  []string // substrings of the error
	}{
		{"defaults", func(*config.Config) {}, nil, nil},
		{"three problems", func(c *config.Config) {
			c.AccountID = "12"
			c.TLS.CertFile = "cert.pem"
			c.Store.Type = "mysql"
		}, []string{"account_id", "tls.cert_file", "store.type"}, []string{
			"config: 3 problems:\n  account_id: must be 12 digits, got \"12\"\n  tls.cert_file: set without tls.key_file\n  store.type: must be sqlite or postgres, got \"mysql\"",
		}},
		{"key without cert", func(c *config.Config) { c.TLS.KeyFile = "k" }, []string{"tls.key_file"}, []string{"set without tls.cert_file"}},
		{"bad listen", func(c *config.Config) { c.Listen = "8439" }, []string{"listen"}, []string{"host:port"}},
		{"bad port", func(c *config.Config) { c.Listen = "127.0.0.1:http" }, []string{"listen"}, []string{"port"}},
		{"port too big", func(c *config.Config) { c.Listen = "127.0.0.1:70000" }, []string{"listen"}, []string{"0-65535"}},
		{"bad region", func(c *config.Config) { c.Region = "moon" }, []string{"region"}, []string{"AWS region"}},
		{"govcloud region", func(c *config.Config) { c.Region = "us-gov-west-1" }, nil, nil},
		{"bad signing region", func(c *config.Config) { c.SigningRegions = []string{"us-east-1", "x"} }, []string{"signing_regions[1]"}, nil},
		{"empty data dir", func(c *config.Config) { c.DataDir = "" }, []string{"data_dir"}, nil},
		{"log", func(c *config.Config) { c.Log = config.Log{Format: "xml", Level: "loud"} }, []string{"log.format", "log.level"}, nil},
		{"shutdown", func(c *config.Config) { c.ShutdownTimeout = 0 }, []string{"shutdown_timeout"}, nil},
		{"postgres without url", func(c *config.Config) { c.Store.Type = "postgres" }, []string{"store.url"}, []string{"required"}},
		{"postgres with url", func(c *config.Config) {
			c.Store.Type = "postgres"
			c.Store.URL = "postgres://u:pw@h/db"
		}, nil, nil},
		{"postgres with url file", func(c *config.Config) {
			c.Store.Type = "postgres"
			c.Store.URLFile = "/x"
		}, nil, nil},
		{"postgres with both and path", func(c *config.Config) {
			c.Store = config.Store{Type: "postgres", URL: "postgres://h/db", URLFile: "/x", Path: "/y"}
		}, []string{"store.url"}, []string{"use one"}},
		{"postgres bad scheme", func(c *config.Config) {
			c.Store = config.Store{Type: "postgres", URL: "mysql://u:sekritpw@h/db"}
		}, []string{"store.url"}, []string{`scheme "mysql"`}},
		{"sqlite with url", func(c *config.Config) { c.Store.URL = "postgres://h/db"; c.Store.URLFile = "f" }, []string{"store.url", "store.url_file"}, nil},
		{"root id without secret", func(c *config.Config) { c.Root.AccessKeyID = "AKIAEXAMPLE000001" }, []string{"root.secret_access_key_file"}, nil},
		{"root secret without id", func(c *config.Config) { c.Root.SecretAccessKeyFile = "/x" }, []string{"root.access_key_id"}, nil},
		{"root ok", func(c *config.Config) {
			c.Root = config.Root{AccessKeyID: "AKIAEXAMPLE000001", SecretAccessKey: "0123456789abcdef0123"}
		}, nil, nil},
		{"root bad id", func(c *config.Config) {
			c.Root = config.Root{AccessKeyID: "akia-lower", SecretAccessKeyFile: "/x"}
		}, []string{"root.access_key_id"}, []string{"A-Z and 0-9"}},
		{"root short secret", func(c *config.Config) {
			c.Root = config.Root{AccessKeyID: "AKIAEXAMPLE000001", SecretAccessKey: "sekrit"}
		}, []string{"root.secret_access_key"}, []string{"at least 16"}},
		{"clusters", func(c *config.Config) {
			c.Clusters = []config.Cluster{
				{Identifier: "ok-1", Engine: "postgres", Endpoint: config.Endpoint{Address: "h", Port: 5432}, AdminURL: "postgres://a@h/p"},
				{Identifier: "ok-1", Engine: "mysql", Endpoint: config.Endpoint{Port: 0}, AdminURL: "http://h"},
				{Identifier: "Bad--id-", Engine: "postgres", Endpoint: config.Endpoint{Address: "h", Port: 5432}},
			}
		}, []string{
			"clusters[1].identifier", "clusters[1].engine", "clusters[1].endpoint.address", "clusters[1].endpoint.port", "clusters[1].admin_url",
			"clusters[2].identifier", "clusters[2].admin_url",
		}, []string{"duplicate cluster identifier"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default()
			tc.edit(&c)
			err := c.Validate()
			if tc.paths == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if got := problemPaths(t, err); !slices.Equal(got, tc.paths) {
				t.Errorf("problem paths = %q, want %q\n%v", got, tc.paths, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			for _, secretText := range []string{"sekrit", "pw@", "0123456789abcdef0123"} {
				if strings.Contains(err.Error(), secretText) {
					t.Errorf("error leaks %q:\n%v", secretText, err)
				}
			}
		})
	}
}

func TestListenLoopbackRule(t *testing.T) {
	for _, tc := range []struct {
		listen string
		ok     bool
	}{
		{"127.0.0.1:8439", true},
		{"127.1.2.3:8439", true},
		{"[::1]:8439", true},
		{"localhost:8439", true},
		{"LOCALHOST:0", true},
		{"0.0.0.0:8439", false},
		{"[::]:8439", false},
		{":8439", false},
		{"10.0.0.5:8439", false},
		{"dbiam.internal:8439", false},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			c := config.Default()
			c.Listen = tc.listen
			err := c.Validate()
			if tc.ok {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if got := problemPaths(t, err); !slices.Equal(got, []string{"listen"}) {
				t.Fatalf("paths = %q", got)
			}
			if !strings.Contains(err.Error(), "plain HTTP is only allowed on loopback") || !strings.Contains(err.Error(), "insecure: true") {
				t.Errorf("unexpected message: %v", err)
			}
			// TLS or insecure lifts the rule.
			c.TLS = config.TLS{CertFile: "c", KeyFile: "k"}
			if err := c.Validate(); err != nil {
				t.Errorf("with TLS: %v", err)
			}
			c.TLS = config.TLS{}
			c.Insecure = true
			if err := c.Validate(); err != nil {
				t.Errorf("with insecure: %v", err)
			}
			// Half a TLS pair does not count as TLS.
			c.Insecure = false
			c.TLS = config.TLS{CertFile: "c"}
			if got := problemPaths(t, c.Validate()); !slices.Equal(got, []string{"listen", "tls.cert_file"}) {
				t.Errorf("half TLS: paths = %q", got)
			}
		})
	}
}

func TestOverlayPrecedence(t *testing.T) {
	p := writeYAML(t, `
listen: 127.0.0.1:1000
region: eu-west-1
account_id: "111111111111"
signing_regions: [eu-west-1]
data_dir: /file/data
store:
  type: postgres
  url_file: /file/store-url
master_key_file: /file/master.key
root:
  access_key_id: AKIAFROMFILE00001
  secret_access_key_file: /file/root-secret
log: {format: json, level: warn}
`)
	c, err := config.Load(p, env(map[string]string{
		"DBIAM_LISTEN":                 "0.0.0.0:2000",
		"DBIAM_REGION":                 "ap-southeast-2",
		"DBIAM_ACCOUNT_ID":             "222222222222",
		"DBIAM_SIGNING_REGIONS":        " ap-southeast-2, us-east-1 ,",
		"DBIAM_INSECURE":               "true",
		"DBIAM_DATA_DIR":               "/env/data",
		"DBIAM_STORE_URL":              "postgres://u:envpassword@h/db",
		"DBIAM_MASTER_KEY_FILE":        "/env/master.key",
		"DBIAM_ROOT_ACCESS_KEY_ID":     "AKIAFROMENV000001",
		"DBIAM_ROOT_SECRET_ACCESS_KEY": "envsecretenvsecret",
		"DBIAM_LOG_FORMAT":             "text",
		"DBIAM_LOG_LEVEL":              "debug",
		"DBIAM_SHUTDOWN_TIMEOUT":       "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Config{
		Listen:          "0.0.0.0:2000",
		Region:          "ap-southeast-2",
		AccountID:       "222222222222",
		SigningRegions:  []string{"ap-southeast-2", "us-east-1"},
		Insecure:        true,
		Store:           config.Store{Type: "postgres", URL: "postgres://u:envpassword@h/db"},
		DataDir:         "/env/data",
		MasterKeyFile:   "/env/master.key",
		Root:            config.Root{AccessKeyID: "AKIAFROMENV000001", SecretAccessKey: "envsecretenvsecret"},
		Log:             config.Log{Format: "text", Level: "debug"},
		ShutdownTimeout: config.Duration(3 * time.Second),
	}
	c.BaseDir = ""
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %#v\nwant %#v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// The env secret wins over the file and needs no file read.
	s, err := c.RootSecret()
	if err != nil || s.Reveal() != "envsecretenvsecret" {
		t.Errorf("RootSecret = %v, %v", s.Reveal(), err)
	}

	// The _FILE variants replace an env-less secret from the file.
	c2, err := config.Load(p, env(map[string]string{
		"DBIAM_STORE_URL_FILE":              "/env/store-url",
		"DBIAM_ROOT_SECRET_ACCESS_KEY_FILE": "/env/root-secret",
		"DBIAM_TLS_CERT_FILE":               "/env/cert",
		"DBIAM_TLS_KEY_FILE":                "/env/key",
		"DBIAM_STORE_TYPE":                  "sqlite",
		"DBIAM_STORE_PATH":                  "/env/db",
		"DBIAM_INSECURE":                    "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c2.Store.URLFile != "/env/store-url" || c2.Root.SecretAccessKeyFile != "/env/root-secret" ||
		c2.TLS != (config.TLS{CertFile: "/env/cert", KeyFile: "/env/key"}) || c2.Store.Type != "sqlite" || c2.Store.Path != "/env/db" || c2.Insecure {
		t.Errorf("got %+v", c2)
	}
}

func TestOverlayMasterKey(t *testing.T) {
	key := "k1 " + strings.Repeat("QUFB", 10) // 30 bytes: invalid
	c := config.Default()
	err := c.Overlay(env(map[string]string{"DBIAM_MASTER_KEY": key}))
	if got := problemPaths(t, err); !slices.Equal(got, []string{"DBIAM_MASTER_KEY"}) {
		t.Fatalf("paths = %q (%v)", got, err)
	}
	if strings.Contains(err.Error(), "QUFB") {
		t.Fatalf("error leaks key material: %v", err)
	}
	good := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" // 32 bytes
	if err := c.Overlay(env(map[string]string{"DBIAM_MASTER_KEY": good})); err != nil {
		t.Fatal(err)
	}
	if c.MasterKey.Reveal() != good {
		t.Fatal("MasterKey not set")
	}
}

func TestOverlayBadValues(t *testing.T) {
	vars := map[string]string{
		"DBIAM_LISTEN":                 "nope",
		"DBIAM_REGION":                 "Mars",
		"DBIAM_ACCOUNT_ID":             "12",
		"DBIAM_SIGNING_REGIONS":        "us-east-1,bad region",
		"DBIAM_INSECURE":               "yes please",
		"DBIAM_STORE_TYPE":             "mysql",
		"DBIAM_STORE_URL":              "mysql://root:toppassword@h/db",
		"DBIAM_ROOT_ACCESS_KEY_ID":     "short",
		"DBIAM_ROOT_SECRET_ACCESS_KEY": "tiny-sekrit",
		"DBIAM_LOG_FORMAT":             "xml",
		"DBIAM_LOG_LEVEL":              "trace",
		"DBIAM_SHUTDOWN_TIMEOUT":       "15",
	}
	c := config.Default()
	err := c.Overlay(env(vars))
	got := problemPaths(t, err)
	var want []string
	for k := range vars {
		want = append(want, k)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("problem paths = %q\nwant %q", got, want)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "config: environment: 12 problems:") {
		t.Errorf("message starts %q", msg[:min(60, len(msg))])
	}
	for _, leak := range []string{"toppassword", "tiny-sekrit"} {
		if strings.Contains(msg, leak) {
			t.Errorf("error leaks %q:\n%s", leak, msg)
		}
	}
	// Both a secret and its file variant is ambiguous.
	c = config.Default()
	err = c.Overlay(env(map[string]string{
		"DBIAM_STORE_URL": "postgres://h/db", "DBIAM_STORE_URL_FILE": "/f",
		"DBIAM_ROOT_SECRET_ACCESS_KEY": "0123456789abcdef", "DBIAM_ROOT_SECRET_ACCESS_KEY_FILE": "/g",
	}))
	if got := problemPaths(t, err); !slices.Equal(got, []string{"DBIAM_STORE_URL", "DBIAM_ROOT_SECRET_ACCESS_KEY"}) {
		t.Errorf("paths = %q", got)
	}
	// Empty values are unset.
	c = config.Default()
	if err := c.Overlay(env(map[string]string{"DBIAM_LISTEN": "", "DBIAM_INSECURE": ""})); err != nil || !reflect.DeepEqual(c, config.Default()) {
		t.Errorf("empty env changed config: %v %+v", err, c)
	}
}

func TestLoadReportsEnvProblems(t *testing.T) {
	_, err := config.Load("", env(map[string]string{"DBIAM_ACCOUNT_ID": "x"}))
	if got := problemPaths(t, err); !slices.Equal(got, []string{"DBIAM_ACCOUNT_ID"}) {
		t.Fatalf("paths = %q", got)
	}
}

func writeSecret(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRootSecret(t *testing.T) {
	c := config.Default()
	if s, err := c.RootSecret(); err != nil || s != "" {
		t.Fatalf("no root: RootSecret = %v, %v; want empty, nil", s, err)
	}
	c.Root.SecretAccessKeyFile = writeSecret(t, "  wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
	s, err := c.RootSecret()
	if err != nil || s.Reveal() != "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" {
		t.Fatalf("RootSecret = %q, %v", s.Reveal(), err)
	}
	c.Root.SecretAccessKeyFile = writeSecret(t, "sekrit\n")
	if _, err := c.RootSecret(); err == nil || strings.Contains(err.Error(), "sekrit") {
		t.Fatalf("short secret: err = %v", err)
	}
	c.Root.SecretAccessKeyFile = writeSecret(t, "\n")
	if _, err := c.RootSecret(); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty file: err = %v", err)
	}
	c.Root.SecretAccessKeyFile = filepath.Join(t.TempDir(), "missing")
	if _, err := c.RootSecret(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: err = %v", err)
	}
	c.Root.SecretAccessKey = secret.String("fromenvfromenvfromenv")
	if s, err := c.RootSecret(); err != nil || s.Reveal() != "fromenvfromenvfromenv" {
		t.Fatalf("env secret not preferred: %v", err)
	}
}

func TestStoreURL(t *testing.T) {
	c := config.Default()
	if _, err := c.StoreURL(); err == nil {
		t.Fatal("StoreURL without URL succeeded")
	}
	c.Store.URLFile = writeSecret(t, "postgres://dbiam:filepassword@db/dbiam\n")
	u, err := c.StoreURL()
	if err != nil || u.Reveal() != "postgres://dbiam:filepassword@db/dbiam" {
		t.Fatalf("StoreURL = %v", err)
	}
	c.Store.URLFile = writeSecret(t, "mysql://root:filepassword@db/x")
	if _, err := c.StoreURL(); err == nil || strings.Contains(err.Error(), "filepassword") {
		t.Fatalf("bad scheme: err = %v", err)
	}
	c.Store.URL = "postgres://env@db/x"
	if u, _ := c.StoreURL(); u.Reveal() != "postgres://env@db/x" {
		t.Fatal("Store.URL not preferred")
	}
}

func TestAdminURLWithPassword(t *testing.T) {
	cl := config.Cluster{Identifier: "a", AdminURL: "postgres://admin@db:5432/postgres?sslmode=require"}
	u, err := cl.AdminURLWithPassword()
	if err != nil || u.Reveal() != cl.AdminURL {
		t.Fatalf("no file: %q, %v", u.Reveal(), err)
	}
	cl.AdminPasswordFile = writeSecret(t, "p@ss:w/rd\n")
	u, err = cl.AdminURLWithPassword()
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgres://admin:p%40ss%3Aw%2Frd@db:5432/postgres?sslmode=require"; u.Reveal() != want {
		t.Fatalf("got %q, want %q", u.Reveal(), want)
	}
	cl.AdminURL = "postgres://db/postgres"
	if _, err := cl.AdminURLWithPassword(); err == nil || strings.Contains(err.Error(), "p@ss") {
		t.Fatalf("no user: err = %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@h:5432/db?sslmode=require": "postgres://u:xxxxx@h:5432/db?sslmode=require",
		"postgres://u@h/db":                         "postgres://u@h/db",
		"postgres://h/db?password=pw&user=u":        "postgres://h/db?password=xxxxx&user=u",
		"postgres://u:pw@h/db?sslpassword=pw":       "postgres://u:xxxxx@h/db?sslpassword=xxxxx",
		"postgres://u:p w@h:bad port/%zz":           "[unparsable URL redacted]",
	} {
		if got := config.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	var d config.Duration
	if err := d.UnmarshalText([]byte("1m30s")); err != nil || d.Duration() != 90*time.Second {
		t.Fatalf("d = %v, %v", d, err)
	}
	if err := d.UnmarshalText([]byte("90")); err == nil {
		t.Fatal("bare number accepted")
	}
	b, _ := d.MarshalText()
	if string(b) != "1m30s" {
		t.Fatalf("MarshalText = %s", b)
	}
}

func TestLogSlogLevel(t *testing.T) {
	for level, want := range map[string]string{"debug": "DEBUG", "info": "INFO", "warn": "WARN", "error": "ERROR", "": "INFO"} {
		if got := (config.Log{Level: level}).SlogLevel().String(); got != want {
			t.Errorf("SlogLevel(%q) = %s, want %s", level, got, want)
		}
	}
}

func TestConfigFormattingHidesSecrets(t *testing.T) {
	c := config.Default()
	c.Store.URL = "postgres://u:storepassword@h/db"
	c.Root.SecretAccessKey = "rootsecretrootsecret"
	c.MasterKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	for _, s := range []string{fmtV(c), fmtPlusV(c), fmtSharpV(c)} {
		for _, leak := range []string{"storepassword", "rootsecret", "AAECAwQF"} {
			if strings.Contains(s, leak) {
				t.Errorf("formatted config leaks %q: %s", leak, s)
			}
		}
	}
}
