package engine

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strconv"
)

// SCRAMSaltLength is the salt length PostgreSQL itself uses, in bytes.
const SCRAMSaltLength = 16

// SCRAMVerifier returns the SCRAM-SHA-256 verifier PostgreSQL stores for
// password (RFC 5802/7677, PostgreSQL's format):
//
//	SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
//
// SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations, 32 bytes),
// StoredKey = SHA-256(HMAC(SaltedPassword, "Client Key")), ServerKey =
// HMAC(SaltedPassword, "Server Key"). Sent as the PASSWORD of CREATE ROLE,
// PostgreSQL stores it verbatim, so the plaintext never reaches the server.
//
// The password is used as is, without SASLprep: callers pass printable
// ASCII (ValidatePassword), which SASLprep leaves unchanged. salt should be
// SCRAMSaltLength random bytes; iterations must be at least 1 (it panics
// otherwise, a programming error).
func SCRAMVerifier(password string, salt []byte, iterations int) string {
	if iterations < 1 {
		panic("engine: SCRAM iteration count must be at least 1")
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		// Only FIPS-140-only mode rejects parameters; dbiam does not run
		// in it, and a verifier must never be silently wrong.
		panic("engine: pbkdf2: " + err.Error())
	}
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return "SCRAM-SHA-256$" + strconv.Itoa(iterations) + ":" + b64(salt) + "$" + b64(storedKey[:]) + ":" + b64(serverKey)
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// scramVerifierRE matches exactly what SCRAMVerifier produces: a restricted
// alphabet (letters, digits, + / = $ : -) that is safe inside a SQL string
// literal.
var scramVerifierRE = regexp.MustCompile(`^SCRAM-SHA-256\$[1-9][0-9]{0,9}:(?:[A-Za-z0-9+/]{4}){1,64}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$`)

// IsSCRAMVerifier reports whether v has the exact shape of a SCRAM-SHA-256
// verifier. Engines check it before embedding a verifier as a SQL literal
// (CREATE ROLE … PASSWORD takes no bind parameter).
func IsSCRAMVerifier(v string) bool {
	return scramVerifierRE.MatchString(v)
}
