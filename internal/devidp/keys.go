package devidp

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// SigningKeyFile is the name, in the data dir, of the PEM file holding the
// IdP's private key (PKCS #8) and self-signed certificate.
const SigningKeyFile = "signing.pem"

// certLifetime is the validity of a generated certificate: long, so that a
// registered provider keeps working for the life of a dev setup.
const certLifetime = 10 * 365 * 24 * time.Hour

// signingKey is the IdP's key and certificate.
type signingKey struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// loadOrCreateKey returns the key pair kept in dir, generating it (RSA-2048,
// self-signed) on first use. The file is created with mode 0600 in a 0700
// directory and never overwritten; a file readable by others is refused.
func loadOrCreateKey(dir string, rand io.Reader, now time.Time) (*signingKey, bool, error) {
	if dir == "" {
		return nil, false, errors.New("devidp: a data dir is required for the signing key")
	}
	path := filepath.Join(dir, SigningKeyFile)
	k, err := readKey(path, now)
	if err == nil {
		return k, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create data dir: %w", err)
	}
	pemBytes, err := generateKey(rand, now)
	if err != nil {
		return nil, false, err
	}
	// Write a temporary file, then link it into place: never overwrite a key
	// another process created meanwhile.
	tmp, err := os.CreateTemp(dir, ".signing-*.pem") // mode 0600
	if err != nil {
		return nil, false, fmt.Errorf("write signing key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(pemBytes); err != nil {
		_ = tmp.Close()
		return nil, false, fmt.Errorf("write signing key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return nil, false, fmt.Errorf("write signing key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, false, fmt.Errorf("write signing key: %w", err)
	}
	created := true
	if err := os.Link(tmp.Name(), path); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return nil, false, fmt.Errorf("write signing key: %w", err)
		}
		created = false
	}
	k, err = readKey(path, now)
	return k, created, err
}

func generateKey(rand io.Reader, now time.Time) ([]byte, error) {
	key, err := rsa.GenerateKey(rand, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	serial, err := randomSerial(rand)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "dbiam development IdP", Organization: []string{"dbiam (development only)"}},
		NotBefore:             now.Add(-time.Hour).UTC().Truncate(time.Second),
		NotAfter:              now.Add(certLifetime).UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	var b bytes.Buffer
	_ = pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	return b.Bytes(), nil
}

func randomSerial(rand io.Reader) (*big.Int, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	b[0] &= 0x7f
	return new(big.Int).SetBytes(b[:]), nil
}

// readKey loads and checks the key file. A missing file is fs.ErrNotExist.
func readKey(path string, now time.Time) (*signingKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("signing key %s is readable by other users (mode %v); run chmod 600 on it", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	var k signingKey
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		switch blk.Type {
		case "PRIVATE KEY":
			pk, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("signing key %s: parse private key: %w", path, err)
			}
			rk, ok := pk.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("signing key %s: not an RSA key", path)
			}
			k.key = rk
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("signing key %s: parse certificate: %w", path, err)
			}
			k.cert = c
		}
	}
	if k.key == nil || k.cert == nil {
		return nil, fmt.Errorf("signing key %s: want a PRIVATE KEY and a CERTIFICATE block; delete the file to generate a new pair (and register the new metadata)", path)
	}
	if pub, ok := k.cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&k.key.PublicKey) {
		return nil, fmt.Errorf("signing key %s: the certificate does not match the private key", path)
	}
	if now.Before(k.cert.NotBefore) || now.After(k.cert.NotAfter) {
		return nil, fmt.Errorf("signing key %s: the certificate is valid only from %s to %s; delete the file to generate a new pair (and register the new metadata)",
			path, k.cert.NotBefore.Format(time.RFC3339), k.cert.NotAfter.Format(time.RFC3339))
	}
	return &k, nil
}
