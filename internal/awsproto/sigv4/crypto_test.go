package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"math/rand/v2"
	"net/http"
	"testing"
)

func TestHMACMatchesCryptoHMAC(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		key := make([]byte, rng.IntN(200))
		msg := make([]byte, rng.IntN(600))
		for j := range key {
			key[j] = byte(rng.IntN(256))
		}
		for j := range msg {
			msg[j] = byte(rng.IntN(256))
		}
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		want := m.Sum(nil)
		if got := hmacSHA256(key, msg); !hmac.Equal(got[:], want) {
			t.Fatalf("#%d: key %d bytes, msg %d bytes: %x, want %x", i, len(key), len(msg), got, want)
		}
	}
}

func TestCanonicalKeyMatchesNetHTTP(t *testing.T) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~"
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		b := make([]byte, 1+rng.IntN(20))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		name := string(b)
		if !validSignedHeaderName(name) {
			t.Fatalf("%q rejected", name)
		}
		buf := make([]byte, len(name))
		canonicalKey(buf, name)
		if want := http.CanonicalHeaderKey(name); string(buf) != want {
			t.Fatalf("canonicalKey(%q) = %q, want %q", name, buf, want)
		}
	}
}
