package pgdriver_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbiam/dbiam/credcache"
	"github.com/dbiam/dbiam/pgdriver"
	"github.com/dbiam/dbiam/samlauth"
)

// database/sql with a Connector. The AWS credentials come from the
// environment, the shared config files or SSO, as for the AWS CLI; the
// host is left out, so DescribeClusters supplies it.
func ExampleNewConnector() {
	connector, err := pgdriver.NewConnector(
		"postgres:///analytics?cluster_id=dev&region=us-east-1&db_user=alice&auto_create=true" +
			"&endpoint_url=https://dbiam.internal:8439&sslrootcert=/etc/ssl/internal-ca.pem")
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(connector) // db.Close closes the connector
	defer db.Close()

	var user string
	if err := db.QueryRowContext(context.Background(), "SELECT current_user").Scan(&user); err != nil {
		log.Fatal(err)
	}
	fmt.Println(user)
}

// Register the driver once, then use DSNs with sql.Open.
func ExampleRegister() {
	pgdriver.Register(pgdriver.DriverName)
	db, err := sql.Open(pgdriver.DriverName, "postgres://db.internal:5432/analytics?cluster_id=dev&db_user=alice&profile=analyst")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	_ = db.PingContext(context.Background())
}

// A pgxpool whose connections log in with the Connector's credential.
func ExampleConnector_PoolConfig() {
	connector, err := pgdriver.NewConnector("postgres://db.internal/analytics?cluster_id=dev&db_user=alice&pool_max_conns=20")
	if err != nil {
		log.Fatal(err)
	}
	defer connector.Close()
	cfg, err := connector.PoolConfig()
	if err != nil {
		log.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
}

// The options-only hook for a pgxpool configured elsewhere.
func ExampleBeforeConnect() {
	cfg, err := pgxpool.ParseConfig("postgres://db.internal:5432/analytics?sslmode=verify-full&sslrootcert=/etc/ssl/internal-ca.pem")
	if err != nil {
		log.Fatal(err)
	}
	cfg.BeforeConnect = pgdriver.BeforeConnect(
		pgdriver.WithClusterID("dev"),
		pgdriver.WithRegion("us-east-1"),
		pgdriver.WithEndpointURL("https://dbiam.internal:8439"),
		pgdriver.WithDbUser("alice"),
		pgdriver.WithDbName("analytics"),
	)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
}

// A single pgx connection, with a lazy cache and a shorter credential.
func ExampleConnector_ConnectPgx() {
	connector, err := pgdriver.NewConnector("postgres://db.internal/analytics?cluster_id=dev&db_user=alice&cache=lazy",
		pgdriver.WithIAMDuration(30*time.Minute),
		pgdriver.WithCacheOptions(credcache.WithRefreshMargin(2*time.Minute)))
	if err != nil {
		log.Fatal(err)
	}
	defer connector.Close()
	ctx := context.Background()
	conn, err := connector.ConnectPgx(ctx)
	if err != nil {
		var fe *credcache.FetchError
		if errors.As(err, &fe) && fe.Temporary {
			log.Print("credentials temporarily unavailable; retry later")
		}
		log.Fatal(err)
	}
	defer conn.Close(ctx)
}

// Logging in at a SAML identity provider with the plugin_name parameters:
// the URL's user and password are the IdP login, the database user comes
// from the response's Redshift DbUser attribute.
func ExampleNewConnector_samlForm() {
	connector, err := pgdriver.NewConnector("postgres://jdoe:idp-password@db.internal/analytics?cluster_id=dev" +
		"&endpoint_url=https://dbiam.internal:8439&plugin_name=saml-form&idp_url=https://idp.example.com/login" +
		"&preferred_role=arn:aws:iam::123456789012:role/RedshiftSSO")
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
}

// A samlauth.Provider configured in code, its attributes as DbUserHints.
func ExampleSAMLHints() {
	p, err := samlauth.NewCredentialsProvider(samlauth.Config{
		Plugin: samlauth.PluginBrowser, IdPURL: "https://idp.example.com/sso/aws", STSEndpointURL: "https://dbiam.internal:8439",
	})
	if err != nil {
		log.Fatal(err)
	}
	connector, err := pgdriver.NewConnector("postgres://db.internal/analytics?cluster_id=dev&region=us-east-1",
		pgdriver.WithEndpointURL("https://dbiam.internal:8439"),
		pgdriver.WithCredentialsProvider(p),
		pgdriver.WithDbUserHints(pgdriver.SAMLHints(p)))
	if err != nil {
		log.Fatal(err)
	}
	defer connector.Close()
}

// Configuration errors wrap ErrConfig and are reported by NewConnector.
func ExampleErrConfig() {
	_, err := pgdriver.NewConnector("postgres://db.internal/analytics?db_user=alice")
	fmt.Println(errors.Is(err, pgdriver.ErrConfig))
	fmt.Println(err)
	// Output:
	// true
	// pgdriver: invalid configuration: no cluster: set cluster_id (or use a *.redshift.amazonaws.com host)
}
