package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/dbiam/dbiam/samlauth"
)

// Environment variables the credential commands read.
const (
	envIdPPassword   = "DBIAM_IDP_PASSWORD"
	envSAMLAssertion = "DBIAM_SAML_ASSERTION"
)

// credsFlags are the options `dbiam creds` and `dbiam connect` share: the
// Redshift drivers' IAM options, in flag form.
type credsFlags struct {
	clusterID, region, endpointURL, stsEndpointURL, profile string
	dbUser, dbName                                          string
	dbGroups                                                []string
	autoCreate, forceLowercase                              bool
	duration                                                string
	host                                                    string
	port                                                    int
	sslMode, sslRootCert                                    string

	plugin, idpURL, idpUser, preferredRole, assertionFile, listen string
	samlDuration                                                  int
	loginTimeout                                                  time.Duration
}

// credsDeps are what the commands take from the process; tests replace them.
type credsDeps struct {
	getenv func(string) string
	// promptPassword asks for the IdP password on the terminal, without echo.
	promptPassword func(prompt string) (string, error)
	// openBrowser is saml-browser's browser (nil: the system browser).
	openBrowser func(url string) error
	// exec replaces the process with path (connect); argv[0] is the name.
	exec     func(path string, argv, env []string) error
	lookPath func(file string) (string, error)
	environ  func() []string
}

func defaultCredsDeps() credsDeps {
	return credsDeps{
		getenv:         os.Getenv,
		promptPassword: promptTTYPassword,
		exec:           execProcess,
		lookPath:       exec.LookPath,
		environ:        os.Environ,
	}
}

func (f *credsFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.clusterID, "cluster-id", "", "cluster identifier (required; the drivers' ClusterID)")
	fl.StringVar(&f.region, "region", "", "AWS region (default: AWS_REGION or the profile's region)")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "dbiam's URL for the Redshift and STS APIs (default: AWS_ENDPOINT_URL or the profile's endpoint_url)")
	fl.StringVar(&f.stsEndpointURL, "sts-endpoint-url", "", "STS URL for AssumeRoleWithSAML when it differs from --endpoint-url")
	fl.StringVar(&f.profile, "profile", "", "AWS shared config profile (default: AWS_PROFILE or default)")
	fl.StringVar(&f.dbUser, "db-user", "", "database user (DbUser); with --plugin, the SAML DbUser attribute is used when this is not given")
	fl.StringVar(&f.dbName, "db-name", "", "database (DbName; default: the cluster's database)")
	fl.StringSliceVar(&f.dbGroups, "db-groups", nil, "database groups to join for the session, comma-separated (DbGroups)")
	fl.BoolVar(&f.autoCreate, "auto-create", false, "create the database user if it does not exist (AutoCreate; sent only when given)")
	fl.BoolVar(&f.forceLowercase, "force-lowercase", false, "lowercase the database groups (ForceLowercase)")
	fl.StringVar(&f.duration, "duration", "", "lifetime of the database password: seconds or a duration, 900s to 1h (default 900s)")
	fl.StringVar(&f.host, "host", "", "database host (default: from DescribeClusters)")
	fl.IntVar(&f.port, "port", 0, "database port (default: from DescribeClusters)")
	fl.StringVar(&f.sslMode, "sslmode", "", "PGSSLMODE for the connection (default: PGSSLMODE, else verify-full with --sslrootcert, prefer on loopback, require elsewhere)")
	fl.StringVar(&f.sslRootCert, "sslrootcert", "", "CA certificate file for verify-ca/verify-full (PGSSLROOTCERT)")

	fl.StringVar(&f.plugin, "plugin", "", "sign in with SAML instead of AWS credentials: saml-assertion, saml-form or saml-browser")
	fl.StringVar(&f.idpURL, "idp-url", "", "IdP login URL (saml-form, saml-browser), e.g. http://127.0.0.1:8440/login")
	fl.StringVar(&f.idpUser, "user", "", "IdP user name (saml-form); the password comes from "+envIdPPassword+" or a prompt")
	fl.StringVar(&f.preferredRole, "preferred-role", "", "role ARN to assume when the SAML response lists several")
	fl.StringVar(&f.assertionFile, "saml-assertion-file", "", "file with the base64 SAMLResponse (saml-assertion; - for stdin; default: "+envSAMLAssertion+")")
	fl.StringVar(&f.listen, "listen", samlauth.DefaultListenAddr, "loopback address saml-browser receives the SAML response on")
	fl.IntVar(&f.samlDuration, "saml-duration", 0, "DurationSeconds for AssumeRoleWithSAML (900-43200; default: the role's)")
	fl.DurationVar(&f.loginTimeout, "login-timeout", samlauth.DefaultTimeout, "how long saml-browser waits for the sign-in")
}

// dbCredentials are the temporary credentials and where to use them.
type dbCredentials struct {
	DbUser      string    `json:"DbUser"`
	DbPassword  string    `json:"DbPassword"`
	Expiration  time.Time `json:"Expiration"`
	Host        string    `json:"Host"`
	Port        int       `json:"Port"`
	Database    string    `json:"Database,omitempty"`
	SSLMode     string    `json:"SSLMode"`
	SSLRootCert string    `json:"SSLRootCert,omitempty"`
}

func newCredsCommand() *cobra.Command { return newCredsCommandWith(defaultCredsDeps()) }

func newCredsCommandWith(deps credsDeps) *cobra.Command {
	var (
		f      credsFlags
		format string
	)
	cmd := &cobra.Command{
		Use:   "creds",
		Short: "Print temporary database credentials (GetClusterCredentials) as JSON, PG* variables or a .pgpass line",
		Long: `Get temporary database credentials from dbiam's GetClusterCredentials and
print them: as JSON (default), as PGUSER/PGPASSWORD/PGHOST/… lines
(--format env; load them with: set -a; eval "$(dbiam creds … --format env)"; set +a),
or as a .pgpass line (--format pgpass).

AWS credentials come from the standard chain (environment, shared config
and credentials files, --profile with role_arn, credential_process or SSO),
or from a SAML sign-in with --plugin (saml-assertion, saml-form,
saml-browser). With SAML, DbUser/DbGroups/AutoCreate default to the
response's Redshift attributes, as the Redshift drivers do. The IdP password
is read from ` + envIdPPassword + ` or asked on the terminal; it is never a flag.
See docs/cli.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "json", "env", "pgpass":
			default:
				return fmt.Errorf("--format %q: want json, env or pgpass", format)
			}
			c, err := fetchDBCredentials(cmd, &f, deps)
			if err != nil {
				return err
			}
			return writeCredentials(cmd.OutOrStdout(), c, format)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&format, "format", "json", "output: json, env or pgpass")
	return cmd
}

// fetchDBCredentials does what the Redshift drivers do before connecting:
// AWS credentials (standard chain or SAML plugin), DescribeClusters when
// host or port is unknown, then GetClusterCredentials.
func fetchDBCredentials(cmd *cobra.Command, f *credsFlags, deps credsDeps) (*dbCredentials, error) {
	ctx := cmd.Context()
	if f.clusterID == "" {
		return nil, errors.New("--cluster-id is required")
	}
	var durationSeconds *int32
	if f.duration != "" {
		d, err := parseSeconds(f.duration)
		if err != nil {
			return nil, fmt.Errorf("--duration: %w", err)
		}
		durationSeconds = aws.Int32(d)
	}

	var loadOpts []func(*awsconfig.LoadOptions) error
	if f.profile != "" {
		loadOpts = append(loadOpts, awsconfig.WithSharedConfigProfile(f.profile))
	}
	if f.region != "" {
		loadOpts = append(loadOpts, awsconfig.WithRegion(f.region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: pass --region or set AWS_REGION (or region in the profile)")
	}

	given := samlauth.DbOptions{DbUser: f.dbUser, DbGroups: f.dbGroups}
	if cmd.Flags().Changed("auto-create") {
		given.AutoCreate = aws.Bool(f.autoCreate)
	}
	if cmd.Flags().Changed("force-lowercase") {
		given.ForceLowercase = aws.Bool(f.forceLowercase)
	}
	// Without SAML, Resolve only applies ForceLowercase to the groups.
	opts := samlauth.Attributes{}.Resolve(given)

	if f.plugin != "" {
		p, err := newSAMLProvider(cmd, f, deps, cfg)
		if err != nil {
			return nil, err
		}
		attrs, err := p.Attributes(ctx) // signs in
		if err != nil {
			return nil, err
		}
		cfg.Credentials = aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = samlauth.ExpiryWindow })
		opts = attrs.Resolve(given)
	}
	if opts.DbUser == "" {
		if f.plugin != "" {
			return nil, errors.New("no DbUser: the SAML response has neither a DbUser nor a RoleSessionName attribute; pass --db-user")
		}
		return nil, errors.New("--db-user is required (or sign in with --plugin and use the SAML DbUser attribute)")
	}

	rs := redshift.NewFromConfig(cfg, func(o *redshift.Options) {
		if f.endpointURL != "" {
			o.BaseEndpoint = aws.String(f.endpointURL)
		}
	})
	out := &dbCredentials{Host: f.host, Port: f.port, Database: f.dbName, SSLRootCert: f.sslRootCert}
	if out.Host == "" || out.Port == 0 {
		dc, err := rs.DescribeClusters(ctx, &redshift.DescribeClustersInput{ClusterIdentifier: aws.String(f.clusterID)})
		if err != nil {
			return nil, fmt.Errorf("DescribeClusters (pass --host and --port to skip it): %w", err)
		}
		if len(dc.Clusters) == 0 || dc.Clusters[0].Endpoint == nil {
			return nil, fmt.Errorf("DescribeClusters: cluster %s has no endpoint", f.clusterID)
		}
		c := dc.Clusters[0]
		if out.Host == "" {
			out.Host = aws.ToString(c.Endpoint.Address)
		}
		if out.Port == 0 {
			out.Port = int(aws.ToInt32(c.Endpoint.Port))
		}
		if out.Database == "" {
			out.Database = aws.ToString(c.DBName)
		}
	}
	in := &redshift.GetClusterCredentialsInput{
		ClusterIdentifier: aws.String(f.clusterID),
		DbUser:            aws.String(opts.DbUser),
		DbGroups:          opts.DbGroups,
		AutoCreate:        opts.AutoCreate,
		DurationSeconds:   durationSeconds,
	}
	if f.dbName != "" {
		in.DbName = aws.String(f.dbName)
	}
	gc, err := rs.GetClusterCredentials(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("GetClusterCredentials: %w", err)
	}
	out.DbUser = aws.ToString(gc.DbUser)
	out.DbPassword = aws.ToString(gc.DbPassword)
	out.Expiration = aws.ToTime(gc.Expiration).UTC()
	out.SSLMode = sslModeFor(f, out.Host, deps.getenv)
	return out, nil
}

// newSAMLProvider builds the samlauth provider of --plugin.
func newSAMLProvider(cmd *cobra.Command, f *credsFlags, deps credsDeps, cfg aws.Config) (*samlauth.Provider, error) {
	sc := samlauth.Config{
		Plugin:          f.plugin,
		IdPURL:          f.idpURL,
		Username:        f.idpUser,
		PreferredRole:   f.preferredRole,
		DurationSeconds: f.samlDuration,
		ListenAddr:      f.listen,
		Timeout:         f.loginTimeout,
		OpenBrowser:     deps.openBrowser,
	}
	if sc.OpenBrowser == nil && runtime.GOOS != "windows" {
		if b := deps.getenv("BROWSER"); b != "" {
			sc.OpenBrowser = browserCommand(b, cmd.ErrOrStderr())
		}
	}
	endpoint := f.stsEndpointURL
	if endpoint == "" {
		endpoint = f.endpointURL
	}
	sc.STS = sts.NewFromConfig(cfg, func(o *sts.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	switch f.plugin {
	case samlauth.PluginAssertion:
		a, err := readAssertion(cmd, f.assertionFile, deps)
		if err != nil {
			return nil, err
		}
		sc.Assertion = a
	case samlauth.PluginForm:
		if f.idpUser == "" {
			return nil, errors.New("saml-form needs --user (the IdP user name)")
		}
		pw := deps.getenv(envIdPPassword)
		if pw == "" {
			var err error
			if pw, err = deps.promptPassword(fmt.Sprintf("IdP password for %s: ", f.idpUser)); err != nil {
				return nil, err
			}
		}
		sc.Password = pw
	case samlauth.PluginBrowser:
		fmt.Fprintf(cmd.ErrOrStderr(), "Opening the browser to sign in at %s (waiting up to %s on %s)…\n", f.idpURL, f.loginTimeout, f.listen)
	}
	return samlauth.NewCredentialsProvider(sc)
}

// browserCommand runs the BROWSER environment variable's command with the
// URL (in place of %s, else as the last argument), through sh so that the
// command may carry quoted arguments; the URL is passed as "$1", never
// interpolated into the script. It waits for the command: a failure ends
// the login at once, and the plugin stops waiting for it once the SAML
// response has arrived.
func browserCommand(browser string, stderr io.Writer) func(string) error {
	script := browser + ` "$1"`
	if strings.Contains(browser, "%s") {
		script = strings.ReplaceAll(browser, "%s", `"$1"`)
	}
	return func(u string) error {
		c := exec.Command("sh", "-c", script, "sh", u)
		c.Stdout, c.Stderr = stderr, stderr
		if err := c.Run(); err != nil {
			return fmt.Errorf("the BROWSER command failed: %w", err)
		}
		return nil
	}
}

// readAssertion reads saml-assertion's response from --saml-assertion-file
// (- for stdin) or DBIAM_SAML_ASSERTION.
func readAssertion(cmd *cobra.Command, file string, deps credsDeps) (string, error) {
	var (
		b   []byte
		err error
	)
	switch file {
	case "":
		if v := deps.getenv(envSAMLAssertion); v != "" {
			return v, nil
		}
		return "", errors.New("saml-assertion needs --saml-assertion-file or " + envSAMLAssertion)
	case "-":
		b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 4*samlauth.MaxResponseChars))
	default:
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return "", fmt.Errorf("read the SAML assertion: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// parseSeconds reads "900", "900s" or "15m" as whole seconds.
func parseSeconds(s string) (int32, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 43200 {
			return 0, fmt.Errorf("%d seconds is out of range", n)
		}
		return int32(n), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d%time.Second != 0 || d > 12*time.Hour {
		return 0, fmt.Errorf("%q is not a whole number of seconds or a duration such as 15m", s)
	}
	return int32(d / time.Second), nil
}

// sslModeFor picks PGSSLMODE: the flag, else the environment's PGSSLMODE,
// else verify-full with a CA, else prefer on loopback (the dev cluster has
// no TLS) and require anywhere else.
func sslModeFor(f *credsFlags, host string, getenv func(string) string) string {
	switch {
	case f.sslMode != "":
		return f.sslMode
	case getenv("PGSSLMODE") != "":
		return getenv("PGSSLMODE")
	case f.sslRootCert != "":
		return "verify-full"
	}
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost") || strings.HasPrefix(host, "/") {
		return "prefer"
	}
	return "require"
}

// pgEnv returns the libpq environment variables for c, in a fixed order.
func pgEnv(c *dbCredentials) [][2]string {
	env := [][2]string{
		{"PGUSER", c.DbUser}, {"PGPASSWORD", c.DbPassword}, {"PGHOST", c.Host}, {"PGPORT", strconv.Itoa(c.Port)},
	}
	if c.Database != "" {
		env = append(env, [2]string{"PGDATABASE", c.Database})
	}
	env = append(env, [2]string{"PGSSLMODE", c.SSLMode})
	if c.SSLRootCert != "" {
		env = append(env, [2]string{"PGSSLROOTCERT", c.SSLRootCert})
	}
	return env
}

func writeCredentials(w io.Writer, c *dbCredentials, format string) error {
	switch format {
	case "env":
		var b strings.Builder
		for _, kv := range pgEnv(c) {
			b.WriteString(kv[0] + "=" + shellQuote(kv[1]) + "\n")
		}
		_, err := io.WriteString(w, b.String())
		return err
	case "pgpass":
		db := c.Database
		if db == "" {
			db = "*"
		} else {
			db = pgpassEscape(db)
		}
		_, err := fmt.Fprintf(w, "%s:%d:%s:%s:%s\n", pgpassEscape(c.Host), c.Port, db, pgpassEscape(c.DbUser), pgpassEscape(c.DbPassword))
		return err
	default:
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(c)
	}
}

// shellQuote quotes s for POSIX shells when it has anything but safe
// characters.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// pgpassEscape escapes a .pgpass field: backslash and colon.
func pgpassEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(s)
}

// promptTTYPassword reads a line from the terminal with echo off (stty).
func promptTTYPassword(prompt string) (string, error) {
	noTTY := errors.New("no terminal to ask for the IdP password: set " + envIdPPassword)
	if runtime.GOOS == "windows" {
		return "", noTTY
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", noTTY
	}
	defer tty.Close()
	off := exec.Command("stty", "-echo")
	off.Stdin = tty
	if err := off.Run(); err != nil {
		return "", fmt.Errorf("cannot turn off echo on the terminal (stty): set %s instead", envIdPPassword)
	}
	defer func() {
		on := exec.Command("stty", "echo")
		on.Stdin = tty
		_ = on.Run()
		fmt.Fprintln(tty)
	}()
	fmt.Fprint(tty, prompt)
	line, err := bufio.NewReader(tty).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read the IdP password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("empty IdP password")
	}
	return pw, nil
}

// compile-time check that the plugin satisfies the SDK's interface.
var _ aws.CredentialsProvider = (*samlauth.Provider)(nil)
