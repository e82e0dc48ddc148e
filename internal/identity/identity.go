package identity

import (
	"context"
	"fmt"
)

// Kind says what sort of principal made a request.
type Kind string

// Principal kinds.
const (
	KindRoot        Kind = "root"
	KindUser        Kind = "user"
	KindAssumedRole Kind = "assumed-role"
	KindAnonymous   Kind = "anonymous"
)

// Principal is an authenticated caller.
type Principal struct {
	Kind      Kind
	AccountID string // 12 digits
	// ARN is the caller's ARN as GetCallerIdentity reports it:
	// arn:aws:iam::<acct>:root, arn:aws:iam::<acct>:user/<path><name>,
	// arn:aws:sts::<acct>:assumed-role/<role>/<session>.
	ARN string
	// UserID is the value of aws:userid: the account id for root, the user's
	// unique id (AIDA…) for a user, "<role id>:<session>" for a role session.
	UserID string
	// Name is the user name for an IAM user (aws:username); empty otherwise.
	Name string
	// AccessKeyID is the key that signed the request.
	AccessKeyID string
	// Session describes temporary credentials (ASIA… keys); nil for
	// long-term keys.
	Session *Session
}

// Session is what a sealed STS session token carries about its principal.
// It holds no secret of its own (the token also carries the session's
// secret access key, which never leaves the sts package).
type Session struct {
	// Source is the STS action that issued the credentials:
	// "AssumeRole", "AssumeRoleWithSAML" or "GetSessionToken".
	Source string `json:"src"`
	// Role fields are set for assumed-role sessions.
	RoleName string `json:"rn,omitempty"`
	RolePath string `json:"rp,omitempty"`
	RoleID   string `json:"ri,omitempty"`
	// SessionName is the RoleSessionName.
	SessionName string `json:"sn,omitempty"`
	// FederatedProvider is the SAML provider ARN of a federated session.
	FederatedProvider string `json:"fp,omitempty"`
	// Policies are inline session policies (JSON), PolicyARNs managed
	// session policies; both intersect with the role's permissions.
	Policies   []string `json:"sp,omitempty"`
	PolicyARNs []string `json:"pa,omitempty"`
	// Tags are session tags (aws:PrincipalTag/*); TransitiveTagKeys survive
	// role chaining.
	Tags              map[string]string `json:"tg,omitempty"`
	TransitiveTagKeys []string          `json:"tt,omitempty"`
	SourceIdentity    string            `json:"si,omitempty"`
	// Chained is true for a role session assumed with role credentials.
	Chained bool `json:"ch,omitempty"`
	// IssuedAt and Expiration bound the session (aws:TokenIssueTime).
	IssuedAt   int64 `json:"ia"`
	Expiration int64 `json:"ex"`
}

// RoleARN returns the ARN of the session's role.
func (s *Session) RoleARN(accountID string) string {
	path := s.RolePath
	if path == "" {
		path = "/"
	}
	return "arn:aws:iam::" + accountID + ":role" + path + s.RoleName
}

// AssumedRole returns the principal of a role session.
func AssumedRole(accountID string, s *Session, accessKeyID string) Principal {
	return Principal{
		Kind:        KindAssumedRole,
		AccountID:   accountID,
		ARN:         "arn:aws:sts::" + accountID + ":assumed-role/" + s.RoleName + "/" + s.SessionName,
		UserID:      s.RoleID + ":" + s.SessionName,
		AccessKeyID: accessKeyID,
		Session:     s,
	}
}

// String returns the ARN; a Principal never prints anything secret.
func (p Principal) String() string { return p.ARN }

// Root returns the root principal of an account.
func Root(accountID, accessKeyID string) Principal {
	return Principal{
		Kind:        KindRoot,
		AccountID:   accountID,
		ARN:         fmt.Sprintf("arn:aws:iam::%s:root", accountID),
		UserID:      accountID,
		AccessKeyID: accessKeyID,
	}
}

// User returns the principal of an IAM user signing with one of its keys.
func User(accountID, path, name, uniqueID, accessKeyID string) Principal {
	if path == "" {
		path = "/"
	}
	return Principal{
		Kind:        KindUser,
		AccountID:   accountID,
		ARN:         "arn:aws:iam::" + accountID + ":user" + path + name,
		UserID:      uniqueID,
		Name:        name,
		AccessKeyID: accessKeyID,
	}
}

// Anonymous returns the principal of an unsigned request
// (AssumeRoleWithSAML, AssumeRoleWithWebIdentity).
func Anonymous() Principal { return Principal{Kind: KindAnonymous} }

type ctxKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal stored by WithPrincipal.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
