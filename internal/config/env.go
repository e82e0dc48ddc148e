package config

import (
	"strconv"
	"strings"

	"github.com/dbiam/dbiam/internal/keyring"
	"github.com/dbiam/dbiam/internal/secret"
)

// Overlay applies the environment, read through getenv, on top of c. An
// unset or empty variable changes nothing. The variables are:
//
//	DBIAM_LISTEN                        listen
//	DBIAM_REGION                        region
//	DBIAM_ACCOUNT_ID                    account_id
//	DBIAM_SIGNING_REGIONS               signing_regions (comma-separated)
//	DBIAM_INSECURE                      insecure (true/false/1/0)
//	DBIAM_TLS_CERT_FILE                 tls.cert_file
//	DBIAM_TLS_KEY_FILE                  tls.key_file
//	DBIAM_DATA_DIR                      data_dir
//	DBIAM_STORE_TYPE                    store.type
//	DBIAM_STORE_PATH                    store.path
//	DBIAM_STORE_URL                     store.url (may hold a password; clears store.url_file)
//	DBIAM_STORE_URL_FILE                store.url_file (clears store.url)
//	DBIAM_MASTER_KEY_FILE               master_key_file
//	DBIAM_MASTER_KEY                    the master key itself (keyring.ParseKeys format); wins over any file
//	DBIAM_ROOT_ACCESS_KEY_ID            root.access_key_id
//	DBIAM_ROOT_SECRET_ACCESS_KEY        the root secret itself (clears root.secret_access_key_file)
//	DBIAM_ROOT_SECRET_ACCESS_KEY_FILE   root.secret_access_key_file (clears an inherited secret)
//	DBIAM_LOG_FORMAT                    log.format
//	DBIAM_LOG_LEVEL                     log.level
//	DBIAM_SHUTDOWN_TIMEOUT              shutdown_timeout ("15s")
//
// Each value is checked as it is read; every bad one is reported at once in
// a *ValidationError whose problem paths are the variable names (secrets
// are never echoed). On error c may be partly updated. Cross-field rules
// (TLS pairing, the loopback rule, ...) are left to Validate.
func (c *Config) Overlay(getenv func(string) string) error {
	var ps problems
	set := func(name string, dst *string, check func(string) string) bool {
		v := getenv(name)
		if v == "" {
			return false
		}
		if check != nil {
			if msg := check(v); msg != "" {
				ps.add(name, "%s", msg)
				return false
			}
		}
		*dst = v
		return true
	}

	set("DBIAM_LISTEN", &c.Listen, checkListen)
	set("DBIAM_METRICS_LISTEN", &c.MetricsListen, checkListen)
	set("DBIAM_REGION", &c.Region, checkRegion)
	set("DBIAM_ACCOUNT_ID", &c.AccountID, checkAccountID)
	if v := getenv("DBIAM_SIGNING_REGIONS"); v != "" {
		var regions []string
		bad := false
		for _, r := range strings.Split(v, ",") {
			r = strings.TrimSpace(r)
			if r == "" {
				continue
			}
			if msg := checkSigningRegion(r); msg != "" {
				ps.add("DBIAM_SIGNING_REGIONS", "%s", msg)
				bad = true
			}
			regions = append(regions, r)
		}
		switch {
		case bad:
		case len(regions) == 0:
			ps.add("DBIAM_SIGNING_REGIONS", "no region in %q", v)
		default:
			c.SigningRegions = regions
		}
	}
	if v := getenv("DBIAM_INSECURE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			ps.add("DBIAM_INSECURE", "must be true or false, got %q", v)
		} else {
			c.Insecure = b
		}
	}
	set("DBIAM_TLS_CERT_FILE", &c.TLS.CertFile, nil)
	set("DBIAM_TLS_KEY_FILE", &c.TLS.KeyFile, nil)
	set("DBIAM_DATA_DIR", &c.DataDir, nil)
	set("DBIAM_STORE_TYPE", &c.Store.Type, checkStoreType)
	set("DBIAM_STORE_PATH", &c.Store.Path, nil)

	storeURL, storeURLFile := getenv("DBIAM_STORE_URL"), getenv("DBIAM_STORE_URL_FILE")
	switch {
	case storeURL != "" && storeURLFile != "":
		ps.add("DBIAM_STORE_URL", "set together with DBIAM_STORE_URL_FILE; use one")
	case storeURL != "":
		if msg := checkPostgresURL(storeURL); msg != "" {
			ps.add("DBIAM_STORE_URL", "%s", msg)
		} else {
			c.Store.URL, c.Store.URLFile = secret.String(storeURL), ""
		}
	case storeURLFile != "":
		c.Store.URLFile, c.Store.URL = storeURLFile, ""
	}

	set("DBIAM_MASTER_KEY_FILE", &c.MasterKeyFile, nil)
	if v := getenv("DBIAM_MASTER_KEY"); v != "" {
		if _, err := keyring.ParseKeys(v); err != nil {
			// keyring errors never contain key material.
			ps.add("DBIAM_MASTER_KEY", "%v", err)
		} else {
			c.MasterKey = secret.String(v)
		}
	}

	set("DBIAM_ROOT_ACCESS_KEY_ID", &c.Root.AccessKeyID, checkAccessKeyID)
	rootSecret, rootSecretFile := getenv("DBIAM_ROOT_SECRET_ACCESS_KEY"), getenv("DBIAM_ROOT_SECRET_ACCESS_KEY_FILE")
	switch {
	case rootSecret != "" && rootSecretFile != "":
		ps.add("DBIAM_ROOT_SECRET_ACCESS_KEY", "set together with DBIAM_ROOT_SECRET_ACCESS_KEY_FILE; use one")
	case rootSecret != "":
		if msg := checkSecretAccessKey(rootSecret); msg != "" {
			ps.add("DBIAM_ROOT_SECRET_ACCESS_KEY", "%s", msg)
		} else {
			c.Root.SecretAccessKey, c.Root.SecretAccessKeyFile = secret.String(rootSecret), ""
		}
	case rootSecretFile != "":
		c.Root.SecretAccessKeyFile, c.Root.SecretAccessKey = rootSecretFile, ""
	}

	set("DBIAM_LOG_FORMAT", &c.Log.Format, checkLogFormat)
	set("DBIAM_LOG_LEVEL", &c.Log.Level, checkLogLevel)
	if v := getenv("DBIAM_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := parseDuration(v)
		switch {
		case err != nil:
			ps.add("DBIAM_SHUTDOWN_TIMEOUT", "%v", err)
		case d <= 0:
			ps.add("DBIAM_SHUTDOWN_TIMEOUT", "must be positive, got %s", d)
		default:
			c.ShutdownTimeout = d
		}
	}
	return ps.err("environment")
}
