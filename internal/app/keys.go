package app

import (
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/dbiam/dbiam/internal/secret"
)

// NewAccessKeyID returns an AWS-style access key id: the 4-letter prefix
// ("AKIA" long-term, "ASIA" temporary) and 16 characters of [A-Z2-7].
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
