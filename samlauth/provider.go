package samlauth

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Provider turns an IdP login into STS credentials: it gets a SAML response
// with the configured plugin, picks a role (ChooseRole), and calls
// AssumeRoleWithSAML unsigned. It implements aws.CredentialsProvider and
// caches the credentials until ExpiryWindow before they expire, so one
// login serves many calls. It is safe for concurrent use; logins are
// serialized.
type Provider struct {
	cfg Config
	sts *sts.Client

	sem chan struct{} // held during a login and while reading the cache

	creds aws.Credentials
	have  bool
	attrs Attributes
	role  RolePair
}

var _ aws.CredentialsProvider = (*Provider)(nil)

// NewCredentialsProvider checks cfg and returns a Provider. It does not
// contact the IdP or STS: the first Retrieve (or Attributes) logs in.
func NewCredentialsProvider(cfg Config) (*Provider, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	client := cfg.STS
	if client == nil {
		o := sts.Options{Region: cfg.Region, Credentials: aws.AnonymousCredentials{}, HTTPClient: cfg.HTTPClient}
		if cfg.STSEndpointURL != "" {
			o.BaseEndpoint = aws.String(cfg.STSEndpointURL)
		}
		client = sts.New(o)
	}
	return &Provider{cfg: cfg, sts: client, sem: make(chan struct{}, 1)}, nil
}

func (p *Provider) lock(ctx context.Context) error {
	select {
	case p.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Provider) unlock() { <-p.sem }

func (p *Provider) fresh() bool {
	return p.have && p.cfg.Now().Before(p.creds.Expires.Add(-ExpiryWindow))
}

// Retrieve returns the cached STS credentials, logging in again (IdP, then
// AssumeRoleWithSAML) when there are none or they expire within
// ExpiryWindow.
func (p *Provider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	if err := p.lock(ctx); err != nil {
		return aws.Credentials{}, err
	}
	defer p.unlock()
	if p.fresh() {
		return p.creds, nil
	}
	if err := p.login(ctx); err != nil {
		return aws.Credentials{}, err
	}
	return p.creds, nil
}

// Attributes returns the attributes of the latest SAML response, logging
// in first if there was none yet.
func (p *Provider) Attributes(ctx context.Context) (Attributes, error) {
	if err := p.lock(ctx); err != nil {
		return Attributes{}, err
	}
	defer p.unlock()
	if !p.have {
		if err := p.login(ctx); err != nil {
			return Attributes{}, err
		}
	}
	return p.attrs.clone(), nil
}

// Role returns the role pair of the latest login (zero before the first).
// It waits for a login in progress.
func (p *Provider) Role() RolePair {
	if p.lock(context.Background()) != nil {
		return RolePair{}
	}
	defer p.unlock()
	return p.role
}

// Invalidate drops the cached credentials: the next Retrieve logs in again
// (for a saml-assertion provider, with the same response, which STS will
// usually refuse as a replay). It waits for a login in progress.
func (p *Provider) Invalidate() {
	_ = p.lock(context.Background())
	defer p.unlock()
	p.have = false
	p.creds = aws.Credentials{}
}

// login runs the plugin and AssumeRoleWithSAML; the caller holds the lock.
func (p *Provider) login(ctx context.Context) error {
	var (
		resp string
		err  error
	)
	switch p.cfg.Plugin {
	case PluginAssertion:
		resp = p.cfg.Assertion
	case PluginForm:
		resp, err = p.formLogin(ctx)
	case PluginBrowser:
		resp, err = p.browserLogin(ctx)
	}
	if err != nil {
		return err
	}
	resp, err = normalizeResponse(resp)
	if err != nil {
		return err
	}
	attrs, err := ParseResponse(resp)
	if err != nil {
		return err
	}
	role, err := ChooseRole(attrs.Roles, p.cfg.PreferredRole)
	if err != nil {
		return err
	}
	in := &sts.AssumeRoleWithSAMLInput{
		RoleArn:       aws.String(role.RoleARN),
		PrincipalArn:  aws.String(role.ProviderARN),
		SAMLAssertion: aws.String(resp),
	}
	if p.cfg.DurationSeconds > 0 {
		in.DurationSeconds = aws.Int32(int32(p.cfg.DurationSeconds))
	}
	out, err := p.sts.AssumeRoleWithSAML(ctx, in, func(o *sts.Options) { o.Credentials = aws.AnonymousCredentials{} })
	if err != nil {
		return fmt.Errorf("%w (role %s): %w", ErrAssumeRole, role.RoleARN, err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.Expiration == nil {
		return fmt.Errorf("%w (role %s): the answer has no credentials", ErrAssumeRole, role.RoleARN)
	}
	p.creds = aws.Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Source:          "samlauth:" + p.cfg.Plugin,
		CanExpire:       true,
		Expires:         aws.ToTime(c.Expiration),
	}
	p.have = true
	p.attrs = attrs
	p.role = role
	return nil
}
