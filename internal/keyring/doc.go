// Package keyring seals secrets at rest (IAM secret access keys, cluster
// admin passwords) and STS session tokens with AES-256-GCM under master keys
// that carry ids, so keys can rotate without re-encrypting everything at once.
//
// A sealed value is self-describing:
//
//	version (1 byte, = 1) | len(id) (1 byte) | id | nonce (12 random bytes) | ciphertext+tag
//
// The header (version, id length, id) and the caller's additional data (AAD)
// are both authenticated. The AAD binds a value to its context, for example
// "access_key:AKIA…:secret", so a sealed value copied into another row does
// not open. Open accepts values sealed by any key of the ring; Seal always
// uses the primary key. After a rotation, KeyID finds values still sealed
// under an older key, and Reseal moves them to the primary.
//
// Nonces are random, so one key should seal no more than about 2^32 values
// (the NIST SP 800-38D bound for random 96-bit nonces); rotate long before
// that.
//
// Master keys live in a small text file (see LoadFile) or in the
// DBIAM_MASTER_KEY environment variable (see ParseKeys).
//
// This package must never log, print or put into an error a master key, a
// plaintext, or the material of a key file line. Key ids are not secret.
// Key and *Keyring format themselves without their key material. It uses
// only the standard library.
package keyring
