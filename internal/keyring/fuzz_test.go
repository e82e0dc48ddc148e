package keyring_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/dbiam/dbiam/internal/keyring"
)

// FuzzOpen feeds arbitrary sealed values to Open and KeyID: they must never
// panic, and anything that does not open must fail with ErrInvalid or
// ErrUnknownKey.
func FuzzOpen(f *testing.F) {
	k, err := keyring.New(testKey("k1", 1), testKey("k0", 0))
	if err != nil {
		f.Fatal(err)
	}
	good, _ := k.Seal([]byte("secret"), []byte("aad"))
	f.Add(good, []byte("aad"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1, 2, 'k', '1'}, []byte("aad"))
	f.Add([]byte{1, 2, 'k', '9', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, []byte(nil))
	f.Fuzz(func(t *testing.T, sealed, aad []byte) {
		_, _ = keyring.KeyID(sealed)
		pt, err := k.Open(sealed, aad)
		if err == nil {
			if !bytes.Equal(pt, []byte("secret")) || !bytes.Equal(aad, []byte("aad")) {
				t.Fatalf("forged value opened: %q", pt)
			}
			return
		}
		if !errors.Is(err, keyring.ErrInvalid) && !errors.Is(err, keyring.ErrUnknownKey) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

// FuzzParseKeys: arbitrary key text never panics and errors never echo a
// long run of the input (which could be key material).
func FuzzParseKeys(f *testing.F) {
	f.Add("k1 " + b64(1, 32))
	f.Add(b64(1, 32))
	f.Add("# c\n\nk2 " + b64(2, 32) + "\nk1 " + b64(1, 32) + "\n")
	f.Add("k1 " + b64(1, 31))
	f.Fuzz(func(t *testing.T, text string) {
		_, err := keyring.ParseKeys(text)
		if err == nil {
			return
		}
		for _, field := range strings.Fields(text) {
			if len(field) > keyring.MaxIDLen && strings.Contains(err.Error(), field) {
				t.Fatalf("error echoes input %q: %v", field, err)
			}
		}
	})
}
