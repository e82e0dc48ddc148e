package app

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dbiam/dbiam/internal/awsproto/sigv4"
	"github.com/dbiam/dbiam/internal/iam"
	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/keyring"
	"github.com/dbiam/dbiam/internal/secret"
	"github.com/dbiam/dbiam/internal/store"
	"github.com/dbiam/dbiam/internal/sts"
)

// credentialResolver finds the secret and principal behind an access key id:
// the account root from the config, or an IAM user's access key in the store
// (its secret sealed by the keyring).
type credentialResolver struct {
	accountID  string
	rootKeyID  string
	rootSecret secret.String
	accessKeys store.AccessKeyStore
	users      store.UserStore
	keyring    *keyring.Keyring
	tokens     *sts.Tokens
	now        func() time.Time
	log        *slog.Logger
}

var _ sigv4.CredentialLookup = (*credentialResolver)(nil)

// LookupCredential implements sigv4.CredentialLookup.
func (c *credentialResolver) LookupCredential(ctx context.Context, req sigv4.LookupRequest) (sigv4.Credential, error) {
	if c.rootKeyID != "" && subtle.ConstantTimeCompare([]byte(req.AccessKeyID), []byte(c.rootKeyID)) == 1 {
		if req.SecurityToken != "" {
			// A long-term key never comes with a session token.
			return sigv4.Credential{}, fmt.Errorf("root key presented with a session token: %w", sigv4.ErrUnknownAccessKey)
		}
		return sigv4.Credential{
			SecretAccessKey: c.rootSecret.Reveal(),
			Principal:       identity.Root(c.accountID, req.AccessKeyID),
		}, nil
	}
	if strings.HasPrefix(req.AccessKeyID, identity.PrefixTempAccessKey) {
		return c.temporary(req)
	}
	if !strings.HasPrefix(req.AccessKeyID, identity.PrefixAccessKey) || req.SecurityToken != "" {
		return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
	}
	key, err := c.accessKeys.GetAccessKey(ctx, req.AccessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		return sigv4.Credential{}, sigv4.ErrUnknownAccessKey
	}
	if err != nil {
		return sigv4.Credential{}, fmt.Errorf("look up access key: %w", err)
	}
	if key.Status != "Active" {
		return sigv4.Credential{}, fmt.Errorf("access key is %s: %w", key.Status, sigv4.ErrUnknownAccessKey)
	}
	plain, err := c.keyring.Open(key.SealedSecret, iam.AccessKeySecretAAD(key.ID))
	if err != nil {
		return sigv4.Credential{}, fmt.Errorf("open secret of access key %s: %w", key.ID, err)
	}
	c.touch(ctx, key)
	user, err := c.users.GetUser(ctx, key.UserName)
	if err != nil {
		return sigv4.Credential{}, fmt.Errorf("look up owner of access key %s: %w", key.ID, err)
	}
	return sigv4.Credential{
		SecretAccessKey: string(plain),
		Principal:       identity.User(c.accountID, user.Path, user.Name, user.ID, key.ID),
	}, nil
}

// temporary resolves STS credentials from their sealed session token, with
// no store lookup.
func (c *credentialResolver) temporary(req sigv4.LookupRequest) (sigv4.Credential, error) {
	if req.SecurityToken == "" {
		return sigv4.Credential{}, fmt.Errorf("temporary key without a session token: %w", sigv4.ErrUnknownAccessKey)
	}
	p, sec, err := c.tokens.Resolve(req.AccessKeyID, req.SecurityToken, c.now())
	if errors.Is(err, sts.ErrInvalidToken) {
		return sigv4.Credential{}, fmt.Errorf("%w: %w", sigv4.ErrUnknownAccessKey, err)
	}
	if err != nil {
		return sigv4.Credential{}, err
	}
	if p.AccountID != c.accountID {
		return sigv4.Credential{}, fmt.Errorf("session token of account %s: %w", p.AccountID, sigv4.ErrUnknownAccessKey)
	}
	return sigv4.Credential{SecretAccessKey: sec.Reveal(), Principal: p}, nil
}

// lastUsedGranularity bounds how often signing with a key writes its
// LastUsedAt: at most once an hour per key, so that verification stays a
// read in the common case.
const lastUsedGranularity = time.Hour

// touch records that key was used, best effort.
func (c *credentialResolver) touch(ctx context.Context, key store.AccessKey) {
	now := c.now().UTC()
	if now.Sub(key.LastUsedAt) < lastUsedGranularity {
		return
	}
	_, err := c.accessKeys.UpdateAccessKey(ctx, key.ID, func(k store.AccessKey) (store.AccessKey, error) {
		if now.After(k.LastUsedAt) {
			k.LastUsedAt = now
		}
		return k, nil
	})
	if err != nil && c.log != nil {
		c.log.Warn("record access key use", "access_key_id", key.ID, "error", err)
	}
}
