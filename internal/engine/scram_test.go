package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

// Verifiers computed by PostgreSQL 15 itself (CREATE ROLE … PASSWORD with
// password_encryption = scram-sha-256, read back from pg_authid).
func TestSCRAMVerifierMatchesPostgreSQL(t *testing.T) {
	for name, tc := range map[string]struct{ password, verifier string }{
		"pencil": {"pencil", "SCRAM-SHA-256$4096:2PYDsk4jX1DQOwPDPG4aqg==$jlQh2RgN7609n+QxEBNwAu03ShIIfsUMMgOhoTvZMQ8=:+k1qpQB2KiMevnYfotU1e0cSsZarnmycgHupsdWKn0w="},
		"spaces": {"correct horse battery staple 0123456789", "SCRAM-SHA-256$4096:Iba8zs6Z6WOwEOwXifsVzA==$0fx6S8CyTMjQhITxZEIJP2Q8Ypc2C7nlYxbrJCvnJGs=:L2Z9fs09xeH3S5XQHK9NTb4awjBhREBm67peHt+tof8="},
	} {
		t.Run(name, func(t *testing.T) {
			salt := saltOf(t, tc.verifier)
			if got := SCRAMVerifier(tc.password, salt, 4096); got != tc.verifier {
				t.Fatalf("SCRAMVerifier = %s, PostgreSQL computed %s", got, tc.verifier)
			}
			if !IsSCRAMVerifier(tc.verifier) {
				t.Fatalf("IsSCRAMVerifier rejects PostgreSQL's verifier")
			}
		})
	}
}

func saltOf(t *testing.T, v string) []byte {
	t.Helper()
	parts := strings.Split(v, "$")
	_, b64, _ := strings.Cut(parts[1], ":")
	salt, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return salt
}

// RFC 7677 §3: the client proof and the server signature of the example
// exchange follow from StoredKey and ServerKey alone.
func TestSCRAMVerifierRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	v := SCRAMVerifier("pencil", salt, 4096)
	parts := strings.Split(v, "$")
	if parts[0] != "SCRAM-SHA-256" || parts[1] != "4096:W22ZaJ0SNY7soEsUEjb6gQ==" {
		t.Fatalf("verifier header = %q", v)
	}
	storedB64, serverB64, _ := strings.Cut(parts[2], ":")
	storedKey, _ := base64.StdEncoding.DecodeString(storedB64)
	serverKey, _ := base64.StdEncoding.DecodeString(serverB64)

	const nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	authMessage := "n=user,r=rOprNGfwEbeRWgbNEkqO," +
		"r=" + nonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
		"c=biws,r=" + nonce
	mac := func(key []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(authMessage))
		return m.Sum(nil)
	}
	if got := base64.StdEncoding.EncodeToString(mac(serverKey)); got != "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" {
		t.Errorf("server signature = %s", got)
	}
	// ClientProof = ClientKey XOR ClientSignature; recover ClientKey from
	// the RFC's proof and check that it hashes to our StoredKey.
	proof, _ := base64.StdEncoding.DecodeString("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	sig := mac(storedKey)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ sig[i]
	}
	if h := sha256.Sum256(clientKey); !hmac.Equal(h[:], storedKey) {
		t.Errorf("StoredKey does not match the RFC's client proof")
	}
}

func TestSCRAMVerifierShape(t *testing.T) {
	salt := []byte("0123456789abcdef")
	for _, iter := range []int{1, 2, 4096, 1 << 20} {
		v := SCRAMVerifier("x", salt, iter)
		if !IsSCRAMVerifier(v) {
			t.Errorf("IsSCRAMVerifier(%q) = false", v)
		}
	}
	for _, bad := range []string{
		"",
		"SCRAM-SHA-256$0:MDEyMzQ1Njc4OWFiY2RlZg==$" + strings.Repeat("A", 43) + "=:" + strings.Repeat("A", 43) + "=",
		"SCRAM-SHA-256$1:MDEyMzQ1Njc4OWFiY2RlZg==$" + strings.Repeat("A", 43) + "=:" + strings.Repeat("A", 43) + "='",
		"SCRAM-SHA-256$1:MDEy'zQ1Njc4OWFiY2RlZg==$" + strings.Repeat("A", 43) + "=:" + strings.Repeat("A", 43) + "=",
		"SCRAM-SHA-256$1:MDEyMzQ1Njc4OWFiY2RlZg==$" + strings.Repeat("A", 43) + "=:" + strings.Repeat("A", 43) + "=\n",
		"md5" + strings.Repeat("0", 32),
	} {
		if IsSCRAMVerifier(bad) {
			t.Errorf("IsSCRAMVerifier(%q) = true", bad)
		}
	}
}

func TestSCRAMVerifierPanicsOnZeroIterations(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	SCRAMVerifier("x", []byte("salt"), 0)
}

func BenchmarkSCRAMVerifier(b *testing.B) {
	salt := []byte("0123456789abcdef")
	for _, iter := range []int{1, 4096} {
		b.Run(map[int]string{1: "iter=1", 4096: "iter=4096"}[iter], func(b *testing.B) {
			for b.Loop() {
				SCRAMVerifier("0123456789abcdef0123456789abcdef0123456789a", salt, iter)
			}
		})
	}
}
