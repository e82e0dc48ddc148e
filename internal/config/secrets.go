package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/dbiam/dbiam/internal/secret"
)

// maxSecretFile bounds what is read from a secret file.
const maxSecretFile = 64 << 10

// readSecretFile returns the file's content without surrounding whitespace
// (a trailing newline is the norm). Errors never quote the content.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", err
	}
	defer clear(b)
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("%s: larger than %d bytes", path, maxSecretFile)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s: empty", path)
	}
	return s, nil
}

// RootSecret returns the root secret access key: Root.SecretAccessKey (from
// DBIAM_ROOT_SECRET_ACCESS_KEY) if set, else the trimmed content of
// Root.SecretAccessKeyFile, else "" with a nil error (no root credentials
// configured; what to do then is the caller's policy). The file's
// permissions are not checked.
func (c Config) RootSecret() (secret.String, error) {
	if c.Root.SecretAccessKey != "" {
		return c.Root.SecretAccessKey, nil
	}
	if c.Root.SecretAccessKeyFile == "" {
		return "", nil
	}
	s, err := readSecretFile(c.Root.SecretAccessKeyFile)
	if err != nil {
		return "", fmt.Errorf("config: root.secret_access_key_file: %w", err)
	}
	if msg := checkSecretAccessKey(s); msg != "" {
		return "", fmt.Errorf("config: root.secret_access_key_file %s: secret %s", c.Root.SecretAccessKeyFile, msg)
	}
	return secret.String(s), nil
}

// StoreURL returns the PostgreSQL store URL: Store.URL if set, else the
// trimmed content of Store.URLFile. Errors never contain the URL.
func (c Config) StoreURL() (secret.String, error) {
	if c.Store.URL != "" {
		return c.Store.URL, nil
	}
	if c.Store.URLFile == "" {
		return "", errors.New("config: store.url: not set")
	}
	s, err := readSecretFile(c.Store.URLFile)
	if err != nil {
		return "", fmt.Errorf("config: store.url_file: %w", err)
	}
	if msg := checkPostgresURL(s); msg != "" {
		return "", fmt.Errorf("config: store.url_file %s: %s", c.Store.URLFile, msg)
	}
	return secret.String(s), nil
}

// AdminURLWithPassword returns AdminURL with the password from
// AdminPasswordFile set in its userinfo (AdminURL unchanged when no file is
// configured). Errors never contain the password.
func (cl Cluster) AdminURLWithPassword() (secret.String, error) {
	if cl.AdminPasswordFile == "" {
		return secret.String(cl.AdminURL), nil
	}
	u, err := url.Parse(cl.AdminURL)
	if err != nil {
		return "", fmt.Errorf("config: cluster %q: admin_url: not a valid URL", cl.Identifier)
	}
	pw, err := readSecretFile(cl.AdminPasswordFile)
	if err != nil {
		return "", fmt.Errorf("config: cluster %q: admin_password_file: %w", cl.Identifier, err)
	}
	user := ""
	if u.User != nil {
		user = u.User.Username()
	}
	if user == "" {
		return "", fmt.Errorf("config: cluster %q: admin_url needs a user name to go with admin_password_file", cl.Identifier)
	}
	u.User = url.UserPassword(user, pw)
	return secret.String(u.String()), nil
}

// SlogLevel returns the slog level for Level (info when unknown).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
