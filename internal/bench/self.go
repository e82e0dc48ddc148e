package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/dbiam/dbiam/internal/demo"
	"github.com/dbiam/dbiam/internal/localpg"
	"github.com/dbiam/dbiam/internal/secret"
)

// Self is an in-process dbiam with its local PostgreSQL for `--self`.
type Self struct {
	*demo.Local
}

// StartSelf starts dbiam in dev mode with a local PostgreSQL in a temporary
// directory (see demo.StartLocal) and n IAM users to sign the requests
// (see CreatePrincipals). It fills in cfg's endpoint, region, principals,
// cluster, admin connection and CPU meter. Close removes everything.
func StartSelf(ctx context.Context, cfg *Config, n int, logs io.Writer) (*Self, error) {
	l, err := demo.StartLocal(ctx, demo.LocalConfig{Logs: logs, LogLevel: "warn"})
	if err != nil {
		return nil, err
	}
	s := &Self{Local: l}
	c := l.Cluster
	cfg.Endpoint, cfg.Region, cfg.Cluster = l.Server.URL(), l.Region, c.Identifier
	cfg.AdminURL, cfg.AdminPassword = c.AdminURL, c.AdminPassword
	cfg.CPU = cpuMeter(filepath.Join(c.Dir, localpg.DataSubdir))
	// Users are not deleted: the whole server goes away with Close.
	if cfg.Principals, _, err = CreatePrincipals(ctx, l.AWSConfig(l.RootKeyID, l.RootSecret.Reveal(), ""), *cfg, "bench", n); err != nil {
		_ = l.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

// CreatePrincipals creates n IAM users named <prefix>-01, … with the
// credentials of admin (which must be allowed iam:CreateUser,
// iam:PutUserPolicy and iam:CreateAccessKey), each with an access key and
// an inline policy allowing redshift:GetClusterCredentials for cfg.DbUser
// on cfg.Cluster (and cfg.DbName) and redshift:CreateClusterUser, so that
// the bench can spread its requests over several principals (dbiam limits
// each to 50 requests/s). cleanup deletes the keys, policies and users.
func CreatePrincipals(ctx context.Context, admin aws.Config, cfg Config, prefix string, n int) (creds []Credentials, cleanup func(context.Context) error, err error) {
	who, err := sts.NewFromConfig(admin).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, nil, fmt.Errorf("who am I: %w", err)
	}
	arn := func(kind, rest string) string {
		return "arn:aws:redshift:" + cfg.Region + ":" + aws.ToString(who.Account) + ":" + kind + ":" + rest
	}
	resources := []string{arn("dbuser", cfg.Cluster+"/"+cfg.DbUser)}
	if cfg.DbName != "" {
		resources = append(resources, arn("dbname", cfg.Cluster+"/"+cfg.DbName))
	}
	doc, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{"Effect": "Allow", "Action": "redshift:GetClusterCredentials", "Resource": resources},
			{"Effect": "Allow", "Action": "redshift:CreateClusterUser", "Resource": resources[0]},
		},
	})
	if err != nil {
		return nil, nil, err
	}
	client := iam.NewFromConfig(admin)
	type created struct{ user, key string }
	var made []created
	cleanup = func(ctx context.Context) error {
		var errs []error
		for _, m := range made {
			if m.key != "" {
				if _, err := client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(m.user), AccessKeyId: aws.String(m.key)}); err != nil {
					errs = append(errs, err)
				}
			}
			_, _ = client.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(m.user), PolicyName: aws.String("dbiam-bench")})
			if _, err := client.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(m.user)}); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	defer func() {
		if err != nil {
			_ = cleanup(context.WithoutCancel(ctx))
		}
	}()
	for i := range max(n, 1) {
		name := fmt.Sprintf("%s-%02d", prefix, i+1)
		if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			return nil, nil, fmt.Errorf("create IAM user %s: %w", name, err)
		}
		made = append(made, created{user: name})
		if _, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("dbiam-bench"), PolicyDocument: aws.String(string(doc))}); err != nil {
			return nil, nil, fmt.Errorf("put the policy of %s: %w", name, err)
		}
		k, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		if err != nil {
			return nil, nil, fmt.Errorf("create an access key for %s: %w", name, err)
		}
		made[len(made)-1].key = aws.ToString(k.AccessKey.AccessKeyId)
		creds = append(creds, Credentials{
			AccessKeyID: aws.ToString(k.AccessKey.AccessKeyId), SecretAccessKey: secret.String(aws.ToString(k.AccessKey.SecretAccessKey)),
		})
	}
	return creds, cleanup, nil
}

// RandomPrefix returns "dbiam-bench-<8 hex digits>", a name prefix for
// principals created on a shared server.
func RandomPrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "dbiam-bench-" + hex.EncodeToString(b[:])
}
