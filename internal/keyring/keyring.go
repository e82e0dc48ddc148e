package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// Errors returned by Open (and KeyID). Check them with errors.Is.
var (
	// ErrUnknownKey: the value was sealed under a key id the ring does not hold.
	ErrUnknownKey = errors.New("keyring: unknown key id")
	// ErrInvalid: the value is malformed, was tampered with, or the AAD does
	// not match.
	ErrInvalid = errors.New("keyring: invalid sealed value")
)

const (
	version   = 1
	nonceSize = 12
	tagSize   = 16
	// KeySize is the length of a master key in bytes (AES-256).
	KeySize = 32
	// MaxIDLen is the longest key id.
	MaxIDLen = 32
)

// Key is one 256-bit master key with its id (1..32 chars of [A-Za-z0-9_-]).
//
// Key formats itself as "keyring.Key{ID: …, Secret: [redacted]}" through
// fmt and slog, so printing one never leaks the secret.
type Key struct {
	ID     string
	Secret [KeySize]byte
}

// String implements fmt.Stringer without the secret.
func (k Key) String() string { return fmt.Sprintf("keyring.Key{ID: %q, Secret: [redacted]}", k.ID) }

// GoString implements fmt.GoStringer without the secret.
func (k Key) GoString() string { return k.String() }

// Format implements fmt.Formatter so that no verb prints the secret bytes.
func (k Key) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue implements slog.LogValuer without the secret.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID), slog.String("secret", "[redacted]"))
}

// ValidID reports whether id is a valid key id.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// GenerateKey returns a fresh key with the given id, reading 32 bytes from
// rnd (crypto/rand when nil).
func GenerateKey(rnd io.Reader, id string) (Key, error) {
	if !ValidID(id) {
		return Key{}, fmt.Errorf("keyring: invalid key id %q: want 1-%d characters of A-Z a-z 0-9 _ -", id, MaxIDLen)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	k := Key{ID: id}
	if _, err := io.ReadFull(rnd, k.Secret[:]); err != nil {
		return Key{}, fmt.Errorf("keyring: generate key: %w", err)
	}
	return k, nil
}

// Keyring seals with its primary key and opens with any of its keys. It is
// safe for concurrent use. Build one with New, LoadFile or ParseKeys.
type Keyring struct {
	aeads   map[string]cipher.AEAD
	ids     []string // primary first, then older keys in the order given
	primary string
	rand    io.Reader
}

// New returns a keyring that seals under primary and opens values sealed by
// primary or any of older. Duplicate or invalid ids are errors.
func New(primary Key, older ...Key) (*Keyring, error) {
	k := &Keyring{aeads: make(map[string]cipher.AEAD, 1+len(older)), primary: primary.ID, rand: rand.Reader}
	for _, key := range append([]Key{primary}, older...) {
		if !ValidID(key.ID) {
			return nil, fmt.Errorf("keyring: invalid key id %q: want 1-%d characters of A-Z a-z 0-9 _ -", key.ID, MaxIDLen)
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("keyring: duplicate key id %q", key.ID)
		}
		block, err := aes.NewCipher(key.Secret[:])
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", key.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", key.ID, err)
		}
		k.aeads[key.ID] = aead
		k.ids = append(k.ids, key.ID)
	}
	return k, nil
}

// WithRand returns a copy of the keyring that reads nonces from r instead of
// crypto/rand (for deterministic tests). The receiver is not changed.
func (k *Keyring) WithRand(r io.Reader) *Keyring {
	c := *k
	if r == nil {
		r = rand.Reader
	}
	c.rand = r
	return &c
}

// PrimaryID returns the id of the key that Seal uses.
func (k *Keyring) PrimaryID() string { return k.primary }

// IDs returns the ids of all keys, primary first.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// Has reports whether the ring holds a key with this id.
func (k *Keyring) Has(id string) bool { _, ok := k.aeads[id]; return ok }

// String implements fmt.Stringer without key material.
func (k *Keyring) String() string {
	if k == nil {
		return "keyring.Keyring(nil)"
	}
	return fmt.Sprintf("keyring.Keyring{primary: %q, keys: %q}", k.primary, k.ids)
}

// Format implements fmt.Formatter so that %#v and friends print no key
// material.
func (k *Keyring) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue implements slog.LogValuer without key material.
func (k *Keyring) LogValue() slog.Value {
	if k == nil {
		return slog.StringValue("nil")
	}
	return slog.GroupValue(slog.String("primary", k.primary), slog.Any("keys", k.ids))
}

// header returns version | len(id) | id.
func header(id string) []byte {
	h := make([]byte, 0, 2+len(id)+nonceSize)
	return append(append(h, version, byte(len(id))), id...)
}

// gcmAAD authenticates the header together with the caller's AAD. The
// header is self-delimiting, so header||aad is unambiguous.
func gcmAAD(hdr, aad []byte) []byte {
	out := make([]byte, 0, len(hdr)+len(aad))
	return append(append(out, hdr...), aad...)
}

// Seal encrypts plaintext under the primary key, binding it to aad.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[k.primary]
	if !ok {
		return nil, errors.New("keyring: seal: keyring has no primary key")
	}
	hdr := header(k.primary)
	out := make([]byte, len(hdr)+nonceSize, len(hdr)+nonceSize+len(plaintext)+tagSize)
	copy(out, hdr)
	nonce := out[len(hdr):]
	if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return nil, fmt.Errorf("keyring: seal: read nonce: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, gcmAAD(hdr, aad)), nil
}

// parse splits a sealed value into header, key id, nonce and ciphertext.
func parse(sealed []byte) (hdr []byte, id string, nonce, ct []byte, err error) {
	if len(sealed) < 2 {
		return nil, "", nil, nil, fmt.Errorf("%w: too short", ErrInvalid)
	}
	if sealed[0] != version {
		return nil, "", nil, nil, fmt.Errorf("%w: unsupported version %d", ErrInvalid, sealed[0])
	}
	n := int(sealed[1])
	if n == 0 || n > MaxIDLen {
		return nil, "", nil, nil, fmt.Errorf("%w: bad key id length %d", ErrInvalid, n)
	}
	if len(sealed) < 2+n+nonceSize+tagSize {
		return nil, "", nil, nil, fmt.Errorf("%w: too short", ErrInvalid)
	}
	id = string(sealed[2 : 2+n])
	if !ValidID(id) {
		return nil, "", nil, nil, fmt.Errorf("%w: bad key id", ErrInvalid)
	}
	return sealed[:2+n], id, sealed[2+n : 2+n+nonceSize], sealed[2+n+nonceSize:], nil
}

// Open decrypts a value sealed by any key of the ring with the same aad.
// An unknown key id gives an error wrapping ErrUnknownKey; a malformed or
// tampered value, or a different aad, gives one wrapping ErrInvalid.
func (k *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	hdr, id, nonce, ct, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, id)
	}
	pt, err := aead.Open(nil, nonce, ct, gcmAAD(hdr, aad))
	if err != nil {
		// Deliberately not wrapping the cipher error: it says nothing useful.
		return nil, fmt.Errorf("%w: authentication failed (wrong aad or tampered value)", ErrInvalid)
	}
	return pt, nil
}

// Reseal opens sealed with any key of the ring and seals the plaintext again
// under the primary key, with the same aad. Use it to migrate values after
// a rotation (see KeyID).
func (k *Keyring) Reseal(sealed, aad []byte) ([]byte, error) {
	pt, err := k.Open(sealed, aad)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	return k.Seal(pt, aad)
}

// KeyID returns the id of the key that sealed a value, without opening it.
// The value is not authenticated by this call.
func KeyID(sealed []byte) (string, error) {
	_, id, _, _, err := parse(sealed)
	if err != nil {
		return "", err
	}
	return id, nil
}
