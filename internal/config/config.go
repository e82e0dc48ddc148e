package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dbiam/dbiam/internal/secret"
)

// Defaults.
const (
	DefaultListen          = "127.0.0.1:8439"
	DefaultRegion          = "us-east-1"
	DefaultAccountID       = "000000000000"
	DefaultDataDir         = "./dbiam-data"
	DefaultShutdownTimeout = 15 * time.Second
	DefaultClusterPort     = 5432

	// GlobalSigningRegion is always accepted in SigV4 scopes unless
	// signing_regions is set explicitly: IAM is a global service that
	// clients sign for us-east-1.
	GlobalSigningRegion = "us-east-1"
	// AnyRegion in signing_regions accepts every region.
	AnyRegion = "*"

	// Store types.
	StoreSQLite   = "sqlite"
	StorePostgres = "postgres"
	// Cluster engines.
	EnginePostgres = "postgres"
)

// Config is the server configuration.
type Config struct {
	// Listen is the HTTP listen address, host:port. Plain HTTP is only
	// allowed on a loopback host unless TLS is configured or Insecure is set.
	Listen string `yaml:"listen"`
	// MetricsListen, when set, is the host:port of a second, plain-HTTP
	// listener serving Prometheus metrics at /metrics (no secrets, bounded
	// labels). Empty: no metrics listener.
	MetricsListen string `yaml:"metrics_listen"`
	// Region is this server's region, used in ARNs and endpoints.
	Region string `yaml:"region"`
	// AccountID is the 12-digit account id used in ARNs. The default
	// "000000000000" is for development; production configs should set it.
	AccountID string `yaml:"account_id"`
	// SigningRegions are the regions accepted in SigV4 credential scopes;
	// "*" accepts any region. Empty means [Region, "us-east-1"]: Load fills
	// that in, and AcceptedSigningRegions computes it.
	SigningRegions []string `yaml:"signing_regions"`
	// Insecure allows plain HTTP on a non-loopback listen address.
	Insecure bool  `yaml:"insecure"`
	TLS      TLS   `yaml:"tls"`
	Store    Store `yaml:"store"`
	// DataDir holds the SQLite database and, in dev mode, the generated
	// master key.
	DataDir string `yaml:"data_dir"`
	// MasterKeyFile is the keyring file; empty means <data_dir>/master.key
	// (filled in by Load; see MasterKeyPath and SetDataDir).
	MasterKeyFile string `yaml:"master_key_file"`
	// MasterKey is the keyring text from DBIAM_MASTER_KEY (see
	// keyring.ParseKeys). When set it is used instead of MasterKeyFile.
	// Never read from the file.
	MasterKey secret.String `yaml:"-"`
	Root      Root          `yaml:"root"`
	Log       Log           `yaml:"log"`
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// Clusters are the PostgreSQL databases dbiam issues credentials for.
	Clusters []Cluster `yaml:"clusters"`
	// Bootstrap declares IAM entities applied idempotently at start.
	Bootstrap Bootstrap `yaml:"bootstrap"`
	// Reaper drops expired database logins.
	Reaper Reaper `yaml:"reaper"`
	// SAML tunes AssumeRoleWithSAML's validation of SAML responses.
	SAML SAML `yaml:"saml"`
	// BaseDir is the directory of the configuration file; relative file
	// names in bootstrap resolve against it. Set by Load.
	BaseDir string `yaml:"-"`
}

// SAML configures the validation of SAML responses. The defaults are
// AWS's, so IdP applications already configured for AWS work unchanged.
type SAML struct {
	// Recipients are the accepted SubjectConfirmationData Recipient (ACS)
	// URLs; empty means AWS's sign-in URLs. "{region}" matches any region.
	Recipients []string `yaml:"recipients"`
	// Audiences are the accepted Audience values; empty means
	// urn:amazon:webservices.
	Audiences []string `yaml:"audiences"`
	// ClockSkew tolerated between dbiam and the IdP (default 2m).
	ClockSkew Duration `yaml:"clock_skew"`
}

// Reaper configures the background job that drops expired logins.
type Reaper struct {
	// Interval between passes (default 15s).
	Interval Duration `yaml:"interval"`
	// TerminateSessionsAtExpiry ends the sessions of expired logins (off by
	// default, as in Redshift: sessions outlive their credential, and the
	// login is dropped when they end).
	TerminateSessionsAtExpiry bool `yaml:"terminate_sessions_at_expiry"`
}

// TLS names the server certificate and key (PEM files). Both or neither.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Enabled reports whether a certificate and key are configured.
func (t TLS) Enabled() bool { return t.CertFile != "" && t.KeyFile != "" }

// Store selects the metadata store.
type Store struct {
	// Type is "sqlite" (default) or "postgres".
	Type string `yaml:"type"`
	// Path is the SQLite database file; empty means <data_dir>/dbiam.db
	// (filled in by Load for type sqlite; see Config.SQLitePath and
	// SetDataDir). Ignored for postgres.
	Path string `yaml:"path"`
	// URL is the PostgreSQL URL (postgres://user@host/db?sslmode=...). In the
	// file it must not contain a password; a URL with a password comes from
	// DBIAM_STORE_URL or URLFile.
	URL secret.String `yaml:"url"`
	// URLFile is a file holding the PostgreSQL URL (read by StoreURL).
	URLFile string `yaml:"url_file"`
}

// Root holds the account root's credentials, which bootstrap everything
// else. Optional: without them nothing can authenticate until a dev mode or
// the caller supplies some.
type Root struct {
	// AccessKeyID is 16 to 128 characters of A-Z and 0-9 (AWS style, e.g.
	// starting with AKIA).
	AccessKeyID string `yaml:"access_key_id"`
	// SecretAccessKeyFile is a file holding the secret access key (read by
	// RootSecret).
	SecretAccessKeyFile string `yaml:"secret_access_key_file"`
	// SecretAccessKey comes from DBIAM_ROOT_SECRET_ACCESS_KEY, never from
	// the file.
	SecretAccessKey secret.String `yaml:"-"`
}

// Log configures logging.
type Log struct {
	Format string `yaml:"format"` // "text" (default) or "json"
	Level  string `yaml:"level"`  // "debug", "info" (default), "warn" or "error"
}

// Cluster is a PostgreSQL database registered with dbiam, addressed by its
// Redshift-style cluster identifier.
type Cluster struct {
	// Identifier is the Redshift-style cluster id: 1-63 lowercase letters,
	// digits and hyphens, starting with a letter.
	Identifier string `yaml:"identifier"`
	// Engine is "postgres" (the default and only engine).
	Engine string `yaml:"engine"`
	// Endpoint is what clients connect to (returned by DescribeClusters and
	// used by drivers).
	Endpoint Endpoint `yaml:"endpoint"`
	// AdminURL is how dbiam connects to manage roles: a postgres:// URL
	// without a password (use AdminPasswordFile, a pgpass file or
	// certificates).
	AdminURL string `yaml:"admin_url"`
	// AdminPasswordFile holds the admin password (read by
	// AdminURLWithPassword).
	AdminPasswordFile string `yaml:"admin_password_file"`
}

// Endpoint is a host and port.
type Endpoint struct {
	Address string `yaml:"address"`
	Port    int    `yaml:"port"` // default 5432
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Listen:          DefaultListen,
		Region:          DefaultRegion,
		AccountID:       DefaultAccountID,
		Store:           Store{Type: StoreSQLite},
		DataDir:         DefaultDataDir,
		Log:             Log{Format: "text", Level: "info"},
		ShutdownTimeout: Duration(DefaultShutdownTimeout),
	}
}

// SQLitePath is the SQLite database file: Store.Path, or dbiam.db in the
// data directory.
func (c Config) SQLitePath() string {
	if c.Store.Path != "" {
		return c.Store.Path
	}
	return filepath.Join(c.DataDir, "dbiam.db")
}

// MasterKeyPath is the master key file: MasterKeyFile, or master.key in the
// data directory. (A non-empty MasterKey takes precedence over any file.)
func (c Config) MasterKeyPath() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "master.key")
}

// AcceptedSigningRegions returns SigningRegions, or [Region, "us-east-1"]
// (deduplicated) when it is empty.
func (c Config) AcceptedSigningRegions() []string {
	if len(c.SigningRegions) > 0 {
		return slices.Clone(c.SigningRegions)
	}
	if c.Region == GlobalSigningRegion || c.Region == "" {
		return []string{GlobalSigningRegion}
	}
	return []string{c.Region, GlobalSigningRegion}
}

// SigningRegionAllowed reports whether a SigV4 scope's region is accepted.
func (c Config) SigningRegionAllowed(region string) bool {
	for _, r := range c.AcceptedSigningRegions() {
		if r == AnyRegion || r == region {
			return true
		}
	}
	return false
}

// Load reads the YAML file at path on top of Default(), then applies the
// environment overlay (see Overlay) read through getenv, then fills the
// derived defaults: store.path = <data_dir>/dbiam.db (sqlite),
// master_key_file = <data_dir>/master.key, signing_regions = [region,
// us-east-1]. An empty path means no file; a nil getenv means no
// environment. Unknown keys, duplicate
// keys and inline secrets are errors naming their key path and line (as a
// *ValidationError). Load does not validate values (call Validate) and does
// not read the secret files the configuration refers to.
func Load(path string, getenv func(string) string) (Config, error) {
	c := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: read file: %w", err)
		}
		if err := c.decode(path, data); err != nil {
			return Config{}, err
		}
		c.BaseDir = filepath.Dir(path)
	}
	if getenv != nil {
		if err := c.Overlay(getenv); err != nil {
			return Config{}, err
		}
	}
	c.fillDerived()
	return c, nil
}

// fillDerived sets the defaults that depend on other fields, when unset:
// store.path (type sqlite) and master_key_file under data_dir, and
// signing_regions from region.
func (c *Config) fillDerived() {
	if c.Store.Type == StoreSQLite && c.Store.Path == "" {
		c.Store.Path = c.SQLitePath()
	}
	if c.MasterKeyFile == "" {
		c.MasterKeyFile = c.MasterKeyPath()
	}
	if len(c.SigningRegions) == 0 {
		c.SigningRegions = c.AcceptedSigningRegions()
	}
}

// SetDataDir changes the data directory (e.g. from a --data-dir flag after
// Load) and moves store.path and master_key_file along with it when they
// were derived from the old data directory (or are unset); explicitly
// configured paths stay.
func (c *Config) SetDataDir(dir string) {
	old := *c
	c.DataDir = dir
	if c.Store.Type == StoreSQLite && (c.Store.Path == "" || c.Store.Path == filepath.Join(old.DataDir, "dbiam.db")) {
		c.Store.Path = filepath.Join(dir, "dbiam.db")
	}
	if c.MasterKeyFile == "" || c.MasterKeyFile == filepath.Join(old.DataDir, "master.key") {
		c.MasterKeyFile = filepath.Join(dir, "master.key")
	}
}

// decode parses YAML data into c (keeping values the data does not set).
func (c *Config) decode(file string, data []byte) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil // empty file: defaults
	case err != nil:
		return fmt.Errorf("config: %s: %w", file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: %s: holds more than one YAML document", file)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" {
		return nil // only comments
	}

	l := linter{}
	l.walk(&doc, reflect.TypeFor[Config](), "", "")
	if len(l.problems) > 0 {
		return &ValidationError{Source: file, Problems: l.problems}
	}

	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(c); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			ve := &ValidationError{Source: file}
			for _, msg := range te.Errors {
				ve.Problems = append(ve.Problems, typeProblem(msg))
			}
			return ve
		}
		return fmt.Errorf("config: %s: %w", file, err)
	}
	for i := range c.Clusters {
		cl := &c.Clusters[i]
		if cl.Engine == "" {
			cl.Engine = EnginePostgres
		}
		if cl.Endpoint.Port == 0 {
			cl.Endpoint.Port = DefaultClusterPort
		}
	}
	return nil
}

// typeProblem turns a yaml decoder message ("line 3: cannot unmarshal
// ...") into a Problem with its line.
func typeProblem(msg string) Problem {
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				return Problem{Line: n, Message: tail}
			}
		}
	}
	return Problem{Message: msg}
}

// inlineHints answers keys that look like inline secrets (or features not
// in this version) with advice instead of "unknown key". Keys are paths
// with [] for any list index.
var inlineHints = map[string]string{
	"root.secret_access_key":    "secrets are never accepted inline; put the secret in a file named by root.secret_access_key_file, or set DBIAM_ROOT_SECRET_ACCESS_KEY",
	"store.password":            "secrets are never accepted inline; put the whole URL in a file named by store.url_file, or set DBIAM_STORE_URL",
	"clusters[].admin_password": "secrets are never accepted inline; put the password in a file named by admin_password_file",
	"master_key":                "master keys are never accepted inline; use master_key_file or DBIAM_MASTER_KEY",
}

// scalarChecks inspect scalar values in the file that must not carry
// secrets. They return a problem message or "".
var scalarChecks = map[string]func(string) string{
	"store.url": func(v string) string {
		if urlHasPassword(v) {
			return "contains a password; secrets are never accepted inline: put the URL in a file named by store.url_file, or set DBIAM_STORE_URL"
		}
		return ""
	},
	"clusters[].admin_url": func(v string) string {
		if urlHasPassword(v) {
			return "contains a password; secrets are never accepted inline: use admin_password_file"
		}
		return ""
	},
}

// linter walks the YAML tree against the Config type and reports unknown
// and duplicate keys and inline secrets, with paths and lines. Type errors
// are left to the decoder.
type linter struct{ problems []Problem }

func (l *linter) add(path string, line int, format string, args ...any) {
	l.problems = append(l.problems, Problem{Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func (l *linter) walk(n *yaml.Node, t reflect.Type, path, pat string) {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 100 {
			return
		}
		n = n.Alias
	}
	if n == nil {
		return
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			l.walk(c, t, path, pat)
		}
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		fields := yamlFields(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				if v.Kind == yaml.SequenceNode {
					for _, m := range v.Content {
						l.walk(m, t, path, pat)
					}
				} else {
					l.walk(v, t, path, pat)
				}
				continue
			}
			name := k.Value
			fp, fpat := join(path, name), join(pat, name)
			if first, dup := seen[name]; dup {
				l.add(fp, k.Line, "duplicate key (first defined on line %d)", first)
				continue
			}
			seen[name] = k.Line
			f, ok := fields[name]
			if !ok {
				if hint, ok := inlineHints[fpat]; ok {
					l.add(fp, k.Line, "%s", hint)
				} else {
					l.add(fp, k.Line, "unknown key; known keys%s: %s", inWhere(path), strings.Join(sortedKeys(fields), ", "))
				}
				continue
			}
			if check, ok := scalarChecks[fpat]; ok && v.Kind == yaml.ScalarNode {
				if msg := check(v.Value); msg != "" {
					l.add(fp, v.Line, "%s", msg)
				}
			}
			l.walk(v, f.Type, fp, fpat)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			l.walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), pat+"[]")
		}
	}
}

func inWhere(path string) string {
	if path == "" {
		return " at the top level"
	}
	return " in " + path
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// yamlFields maps the YAML keys of struct type t to their fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	m := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f
	}
	return m
}

func sortedKeys(m map[string]reflect.StructField) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
