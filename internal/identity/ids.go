package identity

import (
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/dbiam/dbiam/internal/secret"
)

// Unique-id and access-key prefixes, as AWS uses them.
const (
	PrefixUser          = "AIDA"
	PrefixRole          = "AROA"
	PrefixGroup         = "AGPA"
	PrefixPolicy        = "ANPA"
	PrefixAccessKey     = "AKIA"
	PrefixTempAccessKey = "ASIA"
)

// NewUniqueID returns an AWS-style unique id: the prefix and 17 characters of
// [A-Z2-7] (21 characters in all, like AIDACKCEVSQ6C2EXAMPLE).
func NewUniqueID(prefix string, rnd io.Reader) (string, error) {
	var b [11]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("generate unique id: %w", err)
	}
	return prefix + base32.StdEncoding.EncodeToString(b[:])[:17], nil
}

// NewAccessKeyID returns an access key id: the prefix ("AKIA" long-term,
// "ASIA" temporary) and 16 characters of [A-Z2-7].
func NewAccessKeyID(prefix string, rnd io.Reader) (string, error) {
	var b [10]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("generate access key id: %w", err)
	}
	return prefix + base32.StdEncoding.EncodeToString(b[:]), nil
}

// NewSecretAccessKey returns a 40-character secret (30 random bytes, base64).
func NewSecretAccessKey(rnd io.Reader) (secret.String, error) {
	var b [30]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("generate secret access key: %w", err)
	}
	return secret.String(base64.StdEncoding.EncodeToString(b[:])), nil
}
