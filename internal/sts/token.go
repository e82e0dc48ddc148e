package sts

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dbiam/dbiam/internal/awsproto/awserr"
	"github.com/dbiam/dbiam/internal/identity"
	"github.com/dbiam/dbiam/internal/keyring"
	"github.com/dbiam/dbiam/internal/secret"
)

// tokenPrefix marks dbiam session tokens (and their format version).
const tokenPrefix = "DBIAMv1."

// MaxTokenLength bounds the session tokens dbiam accepts.
const MaxTokenLength = 8 << 10

// ErrInvalidToken means a session token does not open, is not for the
// access key it came with, or is malformed.
var ErrInvalidToken = errors.New("sts: invalid session token")

// claims is the sealed content of a session token: who the session is and
// its secret access key, so that any replica can verify a request signed
// with temporary credentials without a store lookup.
type claims struct {
	AccountID   string            `json:"a"`
	AccessKeyID string            `json:"k"`
	Secret      string            `json:"s"`
	Kind        identity.Kind     `json:"p"`
	UserName    string            `json:"un,omitempty"`
	UserPath    string            `json:"up,omitempty"`
	UserID      string            `json:"ui,omitempty"`
	Session     *identity.Session `json:"x"`
}

// Tokens seals and opens session tokens with the keyring. Values sealed under
// an older key keep opening after a rotation, until they expire.
type Tokens struct {
	Keyring *keyring.Keyring
}

func tokenAAD(accessKeyID string) []byte { return []byte("sts-session-token:" + accessKeyID) }

// seal returns the session token for c.
func (t *Tokens) seal(c claims) (string, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode session: %w", err)
	}
	sealed, err := t.Keyring.Seal(plain, tokenAAD(c.AccessKeyID))
	clear(plain)
	if err != nil {
		return "", fmt.Errorf("seal session token: %w", err)
	}
	return tokenPrefix + base64.StdEncoding.EncodeToString(sealed), nil
}

// Resolve opens token, checks that it belongs to accessKeyID and has not
// expired at now, and returns the session's principal and secret.
func (t *Tokens) Resolve(accessKeyID, token string, now time.Time) (identity.Principal, secret.String, error) {
	c, err := t.open(accessKeyID, token)
	if err != nil {
		return identity.Principal{}, "", err
	}
	if c.Session == nil || now.Unix() >= c.Session.Expiration {
		return identity.Principal{}, "", awserr.New(awserr.ExpiredToken, "The security token included in the request is expired")
	}
	var p identity.Principal
	switch c.Kind {
	case identity.KindAssumedRole:
		p = identity.AssumedRole(c.AccountID, c.Session, accessKeyID)
	case identity.KindUser:
		p = identity.User(c.AccountID, c.UserPath, c.UserName, c.UserID, accessKeyID)
		p.Session = c.Session
	case identity.KindRoot:
		p = identity.Root(c.AccountID, accessKeyID)
		p.Session = c.Session
	default:
		return identity.Principal{}, "", ErrInvalidToken
	}
	return p, secret.String(c.Secret), nil
}

func (t *Tokens) open(accessKeyID, token string) (claims, error) {
	body, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok || len(token) > MaxTokenLength {
		return claims{}, ErrInvalidToken
	}
	sealed, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return claims{}, ErrInvalidToken
	}
	plain, err := t.Keyring.Open(sealed, tokenAAD(accessKeyID))
	if err != nil {
		return claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	defer clear(plain)
	var c claims
	if err := json.Unmarshal(plain, &c); err != nil || c.AccessKeyID != accessKeyID || c.Secret == "" {
		return claims{}, ErrInvalidToken
	}
	return c, nil
}
