package pgdriver

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		name    string
		dsn     string
		check   func(t *testing.T, s settings)
		hasHost bool
		pgx     url.Values // expected query of the URL pgx gets
		pgxHost string
	}{
		{
			name: "snake case",
			dsn:  "postgres://db.internal:6432/sales?cluster_id=dev&region=us-west-2&endpoint_url=http://127.0.0.1:8439&db_user=alice&db_groups=b,%20a,,&auto_create=true&force_lowercase=1&iam_duration=1800&profile=p&role_arn=arn:aws:iam::123456789012:role/r&role_session_name=s&duration=3600&cache=lazy&application_name=app",
			check: func(t *testing.T, s settings) {
				if s.clusterID != "dev" || s.region != "us-west-2" || s.endpointURL != "http://127.0.0.1:8439" || s.dbUser != "alice" ||
					!slices.Equal(s.dbGroups, []string{"b", "a"}) || !*s.autoCreate || !*s.forceLowercase || s.iamDuration != 30*time.Minute ||
					s.profile != "p" || s.roleARN != "arn:aws:iam::123456789012:role/r" || s.roleSessionName != "s" || s.stsDuration != time.Hour || s.cacheMode != CacheLazy {
					t.Errorf("settings %+v", s)
				}
			},
			hasHost: true,
			pgx:     url.Values{"application_name": {"app"}, "sslmode": {"require"}},
			pgxHost: "db.internal:6432",
		},
		{
			name: "Redshift JDBC spellings",
			dsn:  "postgresql://h/db?ClusterID=dev&Region=eu-west-1&DbUser=bob&DbGroups=x&AutoCreate=false&IAMDuration=900&EndpointUrl=https://e&StsEndpointUrl=https://s&IAMDisableCache=true&plugin_name=saml-form&login_url=https://idp/login&preferred_role=arn:r&listen_port=7891&idp_response_timeout=30",
			check: func(t *testing.T, s settings) {
				if s.clusterID != "dev" || s.region != "eu-west-1" || s.dbUser != "bob" || !slices.Equal(s.dbGroups, []string{"x"}) || *s.autoCreate ||
					s.iamDuration != 15*time.Minute || s.endpointURL != "https://e" || s.stsEndpointURL != "https://s" || s.cacheMode != CacheNone ||
					s.plugin != "saml-form" || s.idpURL != "https://idp/login" || s.preferredRole != "arn:r" || s.listenPort != 7891 || s.idpTimeout != 30*time.Second {
					t.Errorf("settings %+v", s)
				}
			},
			hasHost: true,
			pgx:     url.Values{"sslmode": {"require"}},
			pgxHost: "h",
		},
		{
			name:  "no host",
			dsn:   "postgres:///dev?cluster_id=dev&sslmode=disable",
			check: func(t *testing.T, s settings) {},
			pgx:   url.Values{"sslmode": {"disable"}},
		},
		{
			name:    "host parameter",
			dsn:     "postgres:///dev?cluster_id=dev&host=db1",
			check:   func(t *testing.T, s settings) {},
			hasHost: true,
			pgx:     url.Values{"host": {"db1"}, "sslmode": {"require"}},
		},
		{
			name:    "a CA makes verify-full the default",
			dsn:     "postgres://h/db?cluster_id=dev&sslrootcert=/etc/ca.pem",
			check:   func(t *testing.T, s settings) {},
			hasHost: true,
			pgx:     url.Values{"sslmode": {"verify-full"}, "sslrootcert": {"/etc/ca.pem"}},
			pgxHost: "h",
		},
		{
			name: "Redshift host names the cluster and region",
			dsn:  "postgres://examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com:5439/dev?db_user=u",
			check: func(t *testing.T, s settings) {
				if s.clusterID != "examplecluster" || s.region != "us-west-2" {
					t.Errorf("cluster %q region %q", s.clusterID, s.region)
				}
			},
			hasHost: true,
			pgx:     url.Values{"sslmode": {"require"}},
			pgxHost: "examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com:5439",
		},
		{
			name:    "user name in the URL, pool parameters dropped for database/sql",
			dsn:     "postgres://alice@h/db?cluster_id=dev&pool_max_conns=4&user=x",
			check:   func(t *testing.T, s settings) {},
			hasHost: true,
			pgx:     url.Values{"sslmode": {"require"}},
			pgxHost: "h",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseDSN(tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			var s settings
			if err := s.applyDSN(d); err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
			if d.hasHost() != tt.hasHost {
				t.Errorf("hasHost = %v", d.hasHost())
			}
			u, err := url.Parse(d.pgxURL("", false))
			if err != nil {
				t.Fatal(err)
			}
			if u.User != nil || u.Host != tt.pgxHost || u.Query().Encode() != tt.pgx.Encode() {
				t.Errorf("pgx URL %s: want host %q and query %s", u, tt.pgxHost, tt.pgx.Encode())
			}
		})
	}
}

func TestPgxURLWithResolvedHost(t *testing.T) {
	d, err := parseDSN("postgres:///sales?cluster_id=dev&port=1&pool_max_conns=3")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.pgxURL("10.0.0.5:5433", false), "postgres://10.0.0.5:5433/sales?sslmode=require"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := d.pgxURL("", true), "postgres:///sales?pool_max_conns=3&port=1&sslmode=require"; got != want {
		t.Errorf("pool: got %s, want %s", got, want)
	}
}

func TestDSNErrors(t *testing.T) {
	tests := map[string]struct{ dsn, msg string }{
		"keyword form":       {"host=h dbname=d cluster_id=dev", "postgres://"},
		"twice":              {"postgres://h/d?cluster_id=a&ClusterID=b", "more than once"},
		"bad boolean":        {"postgres://h/d?cluster_id=a&auto_create=maybe", "not a boolean"},
		"short duration":     {"postgres://h/d?cluster_id=a&iam_duration=60", "900 to 3600"},
		"long duration":      {"postgres://h/d?cluster_id=a&iam_duration=3601", "900 to 3600"},
		"bad port":           {"postgres://h/d?cluster_id=a&listen_port=70000", "not a port"},
		"bad cache":          {"postgres://h/d?cluster_id=a&cache=sometimes", "refresh-ahead, lazy or none"},
		"no cluster":         {"postgres://h/d?db_user=a", "no cluster"},
		"password in URL":    {"postgres://alice:secret@h/d?cluster_id=a", "password in the DSN"},
		"password parameter": {"postgres://h/d?cluster_id=a&db_user=x&password=secret", "password in the DSN"},
		"no database user":   {"postgres://h/d?cluster_id=a", "no database user"},
		"plugin and profile": {"postgres://h/d?cluster_id=a&plugin_name=saml-assertion&profile=p", "cannot be used together"},
		"bad pgx parameter":  {"postgres://h/d?cluster_id=a&db_user=x&connect_timeout=soon", "connect_timeout"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewConnector(tt.dsn, WithRedshiftClient(&fakeAPI{}))
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("NewConnector(%q): %v, want ErrConfig with %q", tt.dsn, err, tt.msg)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{
		"postgres://h/d?cluster_id=dev", "postgres:///d?ClusterID=x&DbGroups=a,b", "postgresql://u:p@[::1]:5432,h2:5/d?x=%zz",
		"postgres://", "postgres://@/?", "host=h", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDSN(s)
		if err != nil {
			return
		}
		var st settings
		_ = st.applyDSN(d)
		_ = d.pgxURL("", false)
		_ = d.pgxURL("h:1", true)
		_ = d.firstHost()
	})
}
