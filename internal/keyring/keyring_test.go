package keyring_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/dbiam/dbiam/internal/keyring"
)

// testKey returns a key whose secret bytes are all b.
func testKey(id string, b byte) keyring.Key {
	k := keyring.Key{ID: id}
	for i := range k.Secret {
		k.Secret[i] = b
	}
	return k
}

func mustNew(t testing.TB, primary keyring.Key, older ...keyring.Key) *keyring.Keyring {
	t.Helper()
	k, err := keyring.New(primary, older...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := mustNew(t, testKey("k1", 1))
	for _, tc := range []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{"empty", nil, nil},
		{"secret", []byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), []byte("access_key:AKIAEXAMPLE:secret")},
		{"binary", bytes.Repeat([]byte{0, 0xff}, 1000), []byte{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sealed, err := k.Seal(tc.plaintext, tc.aad)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.plaintext) > 8 && bytes.Contains(sealed, tc.plaintext[:8]) {
				t.Fatal("sealed value contains plaintext")
			}
			if want := 2 + len("k1") + 12 + len(tc.plaintext) + 16; len(sealed) != want {
				t.Errorf("len(sealed) = %d, want %d", len(sealed), want)
			}
			got, err := k.Open(sealed, tc.aad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.plaintext) {
				t.Fatalf("Open = %q, want %q", got, tc.plaintext)
			}
		})
	}
}

func TestSealIsRandomized(t *testing.T) {
	k := mustNew(t, testKey("k1", 1))
	a, _ := k.Seal([]byte("x"), nil)
	b, _ := k.Seal([]byte("x"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are equal")
	}
}

func TestWithRandIsDeterministic(t *testing.T) {
	k := mustNew(t, testKey("k1", 1))
	a, err := k.WithRand(bytes.NewReader(make([]byte, 12))).Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := k.WithRand(bytes.NewReader(make([]byte, 12))).Seal([]byte("x"), nil)
	if !bytes.Equal(a, b) {
		t.Fatal("seals with the same nonce source differ")
	}
	// The original ring still uses crypto/rand.
	c, _ := k.Seal([]byte("x"), nil)
	if bytes.Equal(a, c) {
		t.Fatal("WithRand changed the receiver")
	}
	// An exhausted reader is an error, not a zero nonce.
	if _, err := k.WithRand(bytes.NewReader(nil)).Seal([]byte("x"), nil); err == nil {
		t.Fatal("Seal with an empty rand reader succeeded")
	}
}

func TestAADMismatch(t *testing.T) {
	k := mustNew(t, testKey("k1", 1))
	sealed, err := k.Seal([]byte("secret"), []byte("access_key:AKIA1:secret"))
	if err != nil {
		t.Fatal(err)
	}
	for _, aad := range [][]byte{nil, []byte("access_key:AKIA2:secret"), []byte("access_key:AKIA1:secret\x00")} {
		if _, err := k.Open(sealed, aad); !errors.Is(err, keyring.ErrInvalid) {
			t.Errorf("Open with aad %q: err = %v, want ErrInvalid", aad, err)
		}
	}
}

func TestEveryByteFlipFails(t *testing.T) {
	k := mustNew(t, testKey("key_1", 1), testKey("key_2", 2))
	aad := []byte("ctx")
	sealed, err := k.Seal([]byte("a secret of some length"), aad)
	if err != nil {
		t.Fatal(err)
	}
	idEnd := 2 + len("key_1")
	for i := range sealed {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			c := bytes.Clone(sealed)
			c[i] ^= mask
			_, err := k.Open(c, aad)
			if err == nil {
				t.Fatalf("flip of byte %d with %#x: Open succeeded", i, mask)
			}
			inHeader := i >= 1 && i < idEnd // id length or id: may name another (unknown) key
			if !errors.Is(err, keyring.ErrInvalid) && !(inHeader && errors.Is(err, keyring.ErrUnknownKey)) {
				t.Fatalf("flip of byte %d: err = %v, want ErrInvalid", i, err)
			}
		}
	}
	// Truncation and extension fail too.
	for n := 0; n < len(sealed); n++ {
		if _, err := k.Open(sealed[:n], aad); !errors.Is(err, keyring.ErrInvalid) {
			t.Fatalf("truncated to %d: err = %v, want ErrInvalid", n, err)
		}
	}
	if _, err := k.Open(append(bytes.Clone(sealed), 0), aad); !errors.Is(err, keyring.ErrInvalid) {
		t.Fatalf("extended: err = %v, want ErrInvalid", err)
	}
}

// A value sealed under one key, relabelled with another key's id (with a
// fixed-up length), must not open.
func TestKeyIDIsAuthenticated(t *testing.T) {
	k := mustNew(t, testKey("aa", 1), testKey("bb", 1)) // same secret, different ids
	sealed, _ := k.Seal([]byte("x"), nil)
	c := bytes.Clone(sealed)
	copy(c[2:4], "bb")
	if _, err := k.Open(c, nil); !errors.Is(err, keyring.ErrInvalid) {
		t.Fatalf("relabelled value: err = %v, want ErrInvalid", err)
	}
}

func TestRotation(t *testing.T) {
	old := mustNew(t, testKey("k1", 1))
	sealedOld, err := old.Seal([]byte("old secret"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	ring := mustNew(t, testKey("k2", 2), testKey("k1", 1))
	if ring.PrimaryID() != "k2" {
		t.Fatalf("PrimaryID = %q, want k2", ring.PrimaryID())
	}
	if got := ring.IDs(); strings.Join(got, ",") != "k2,k1" {
		t.Fatalf("IDs = %q", got)
	}
	got, err := ring.Open(sealedOld, []byte("aad"))
	if err != nil || string(got) != "old secret" {
		t.Fatalf("Open old value = %q, %v", got, err)
	}
	sealedNew, err := ring.Seal([]byte("new secret"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sealed []byte
		want   string
	}{{sealedOld, "k1"}, {sealedNew, "k2"}} {
		id, err := keyring.KeyID(tc.sealed)
		if err != nil || id != tc.want {
			t.Errorf("KeyID = %q, %v; want %q", id, err, tc.want)
		}
	}
	// The old ring cannot open the new value.
	if _, err := old.Open(sealedNew, []byte("aad")); !errors.Is(err, keyring.ErrUnknownKey) {
		t.Fatalf("old ring on new value: err = %v, want ErrUnknownKey", err)
	}
	// Reseal migrates an old value to the primary.
	resealed, err := ring.Reseal(sealedOld, []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := keyring.KeyID(resealed); id != "k2" {
		t.Fatalf("resealed under %q, want k2", id)
	}
	if got, err := ring.Open(resealed, []byte("aad")); err != nil || string(got) != "old secret" {
		t.Fatalf("Open resealed = %q, %v", got, err)
	}
	if _, err := ring.Reseal(sealedOld, []byte("other")); !errors.Is(err, keyring.ErrInvalid) {
		t.Fatalf("Reseal with wrong aad: err = %v", err)
	}
}

func TestUnknownKey(t *testing.T) {
	a := mustNew(t, testKey("a", 1))
	b := mustNew(t, testKey("b", 1))
	sealed, _ := a.Seal([]byte("x"), nil)
	_, err := b.Open(sealed, nil)
	if !errors.Is(err, keyring.ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	if errors.Is(err, keyring.ErrInvalid) {
		t.Fatal("unknown key also reported as ErrInvalid")
	}
	if !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("error %q does not name the key id", err)
	}
}

func TestKeyIDErrors(t *testing.T) {
	for name, v := range map[string][]byte{
		"empty":       nil,
		"bad version": {2, 1, 'a'},
		"zero id len": append([]byte{1, 0}, make([]byte, 40)...),
		"long id len": append([]byte{1, 33}, make([]byte, 80)...),
		"bad id char": append([]byte{1, 1, '!'}, make([]byte, 40)...),
		"short":       {1, 1, 'a', 0},
	} {
		if _, err := keyring.KeyID(v); !errors.Is(err, keyring.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []keyring.Key
		want string
	}{
		{"duplicate", []keyring.Key{testKey("k1", 1), testKey("k2", 2), testKey("k1", 3)}, "duplicate key id"},
		{"empty id", []keyring.Key{testKey("", 1)}, "invalid key id"},
		{"bad char", []keyring.Key{testKey("k 1", 1)}, "invalid key id"},
		{"too long", []keyring.Key{testKey(strings.Repeat("a", 33), 1)}, "invalid key id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := keyring.New(tc.keys[0], tc.keys[1:]...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := keyring.New(testKey(strings.Repeat("a", 32), 1)); err != nil {
		t.Fatalf("32-char id rejected: %v", err)
	}
}

func TestZeroKeyringErrors(t *testing.T) {
	var k keyring.Keyring
	if _, err := k.Seal([]byte("x"), nil); err == nil {
		t.Fatal("zero Keyring sealed")
	}
}

func TestNoKeyMaterialInFormatting(t *testing.T) {
	key := testKey("k1", 0xab)
	ring := mustNew(t, key)
	b64 := base64.StdEncoding.EncodeToString(key.Secret[:])
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "key", key, "ring", ring)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "key", key, "ring", ring)
	outs := []string{buf.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
		outs = append(outs, fmt.Sprintf(verb, key), fmt.Sprintf(verb, ring), fmt.Sprintf(verb, &key), fmt.Sprintf(verb, []keyring.Key{key}))
	}
	for _, out := range outs {
		if strings.Contains(out, b64) || strings.Contains(out, "171") || strings.Contains(out, "abab") || strings.Contains(out, "ABAB") {
			t.Errorf("formatting leaked key material: %s", out)
		}
		if !strings.Contains(out, "k1") {
			t.Errorf("formatting lost the key id: %s", out)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	k := mustNew(b, testKey("k20260101", 1))
	pt := bytes.Repeat([]byte("s"), 64)
	aad := []byte("access_key:AKIAIOSFODNN7EXAMPLE:secret")
	b.ReportAllocs()
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := k.Seal(pt, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	k := mustNew(b, testKey("k20260101", 1))
	pt := bytes.Repeat([]byte("s"), 64)
	aad := []byte("access_key:AKIAIOSFODNN7EXAMPLE:secret")
	sealed, err := k.Seal(pt, aad)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := k.Open(sealed, aad); err != nil {
			b.Fatal(err)
		}
	}
}
