package pgdriver

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/dbiam/dbiam/samlauth"
)

// DefaultRoleSessionName is the session name of role_arn's AssumeRole.
const DefaultRoleSessionName = "dbiam-pgdriver"

// setupAWS loads the AWS configuration (the SDK's default chain, or
// WithAWSConfig), layers role_arn or a SAML plugin on top, and builds the
// Redshift client.
func (c *Connector) setupAWS(ctx context.Context) error {
	s := &c.s
	var cfg aws.Config
	if s.awsConfig != nil {
		cfg = s.awsConfig.Copy()
	} else {
		var lo []func(*config.LoadOptions) error
		if s.profile != "" {
			lo = append(lo, config.WithSharedConfigProfile(s.profile))
		}
		if s.region != "" {
			lo = append(lo, config.WithRegion(s.region))
		}
		if s.endpointURL != "" {
			lo = append(lo, config.WithBaseEndpoint(s.endpointURL))
		}
		if s.credentials != nil {
			lo = append(lo, config.WithCredentialsProvider(s.credentials))
		}
		var err error
		if cfg, err = config.LoadDefaultConfig(ctx, lo...); err != nil {
			return fmt.Errorf("%w: load the AWS configuration: %w", ErrConfig, err)
		}
	}
	if s.region != "" {
		cfg.Region = s.region
	}
	if s.endpointURL != "" {
		cfg.BaseEndpoint = aws.String(s.endpointURL)
	}
	if s.credentials != nil {
		cfg.Credentials = s.credentials
	}
	if cfg.Region == "" {
		return configError("no AWS region: set region in the DSN, AWS_REGION, or region in the AWS profile")
	}
	stsClient := func(cfg aws.Config) *sts.Client {
		return sts.NewFromConfig(cfg, func(o *sts.Options) {
			if s.stsEndpointURL != "" {
				o.BaseEndpoint = aws.String(s.stsEndpointURL)
			}
		})
	}
	if s.roleARN != "" {
		name := s.roleSessionName
		if name == "" {
			name = DefaultRoleSessionName
		}
		p := stscreds.NewAssumeRoleProvider(stsClient(cfg), s.roleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = name
			if s.stsDuration > 0 {
				o.Duration = s.stsDuration
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(p)
	}
	if s.plugin != "" {
		anon := cfg.Copy()
		anon.Credentials = aws.AnonymousCredentials{}
		sc := samlauth.Config{
			Plugin:          s.plugin,
			Assertion:       s.samlAssertion,
			IdPURL:          s.idpURL,
			Username:        c.dsn.urlUser,
			Password:        c.dsn.urlPass,
			PreferredRole:   s.preferredRole,
			DurationSeconds: int(s.stsDuration.Seconds()),
			STS:             stsClient(anon),
			Region:          cfg.Region,
			STSEndpointURL:  s.stsEndpointURL,
			Timeout:         s.idpTimeout,
		}
		if s.listenPort != 0 {
			sc.ListenAddr = "127.0.0.1:" + strconv.Itoa(s.listenPort)
		}
		for _, adjust := range s.samlAdjust {
			adjust(&sc)
		}
		p, err := samlauth.NewCredentialsProvider(sc)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		cfg.Credentials = p
		if s.hints == nil {
			s.hints = SAMLHints(p)
		}
	}
	c.api = redshift.NewFromConfig(cfg)
	return nil
}

// SAMLHints returns the Redshift attributes of p's SAML response as
// DbUserHints. Use it with WithCredentialsProvider(p) for a Provider you
// configure yourself; the plugin_name DSN parameter wires it for you.
func SAMLHints(p *samlauth.Provider) DbUserHints {
	return DbUserHintsFunc(func(ctx context.Context) (Hints, error) {
		a, err := p.Attributes(ctx)
		if err != nil {
			return Hints{}, err
		}
		h := Hints{
			DbUser: a.DbUser, RoleSessionName: a.RoleSessionName, DbGroups: a.DbGroups,
			AutoCreate: a.AutoCreate, AllowDbUserOverride: a.AllowDbUserOverride,
		}
		if a.ForceLowercase {
			h.ForceLowercase = aws.Bool(true)
		}
		return h, nil
	})
}
