package sigv4

import (
	"bytes"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// signedWire returns a signed STS form POST as raw HTTP/1.1 bytes in which
// every header is signed, and the offset of the HTTP version digits.
//
// Every header is signed on purpose: a change to a header the client did not
// sign legitimately leaves the signature valid (SigV4 covers only the
// SignedHeaders list), so such bytes would prove nothing. Authorization is
// the one unsigned header, but every byte of it is the signature, the scope
// or the signed-header list, so changing any byte must fail too. The bytes
// are written by hand rather than by (*http.Request).Write, which would add
// an unsigned User-Agent.
func signedWire(t testing.TB, at time.Time) ([]byte, int) {
	t.Helper()
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	r := stsFormPOST(t, body)
	r.URL.RawQuery = "Version=2011-06-15"
	creds := aws.Credentials{AccessKeyID: oracleASIA, SecretAccessKey: oracleSecret, SessionToken: "FwoGZXIvYXdzEBYaDH7token"}
	signSDK(t, r, []byte(body), creds, "sts", "us-east-1", at)

	var b bytes.Buffer
	b.WriteString("POST /?" + r.URL.RawQuery + " HTTP/")
	version := b.Len()
	b.WriteString("1.1\r\nHost: " + r.URL.Host + "\r\n")
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range r.Header {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		for _, v := range r.Header[k] {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	return b.Bytes(), version
}

func TestByteFlips(t *testing.T) {
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	raw, version := signedWire(t, at)
	v, _ := newVerifier(t, at, oracleKeys())

	r, body, ok := readWire(raw)
	if !ok {
		t.Fatalf("unflipped request does not parse:\n%s", raw)
	}
	res, err := v.Verify(t.Context(), r, body)
	if err != nil {
		t.Fatalf("unflipped request: %v\n%s", err, raw)
	}
	// Everything but Authorization is signed (see signedWire); net/http
	// keeps Host out of r.Header, so the counts match.
	if len(res.SignedHeaders) != len(r.Header) {
		t.Fatalf("signed %q, request has headers %v", res.SignedHeaders, r.Header)
	}

	mutations := []struct {
		name string
		fn   func(byte) byte
	}{
		{"xor 0x01", func(c byte) byte { return c ^ 0x01 }},
		{"replace", func(c byte) byte {
			if c == '#' {
				return '!'
			}
			return '#'
		}},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			parsed := 0
			for i := range raw {
				// The HTTP version ("1.1") is not part of a SigV4
				// signature: HTTP/1.0 is the same request to it.
				if i >= version && i < version+3 {
					continue
				}
				flipped := slices.Clone(raw)
				flipped[i] = m.fn(flipped[i])
				r, body, ok := readWire(flipped)
				if !ok {
					continue
				}
				parsed++
				if _, err := v.Verify(t.Context(), r, body); err == nil {
					t.Errorf("byte %d %q -> %q: still verifies\n%s", i, raw[i], flipped[i], flipped)
				}
			}
			t.Logf("%d of %d mutations parsed, all rejected", parsed, len(raw))
		})
	}
}
