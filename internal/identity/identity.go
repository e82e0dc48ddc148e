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
