package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const (
	getVanillaSig  = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	getVanillaAuth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + getVanillaSig
	sessionToken   = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
)

// getVanilla returns the suite's get-vanilla request, optionally with the
// Authorization header replaced.
func getVanilla(t testing.TB, authz string) *http.Request {
	t.Helper()
	raw := "GET / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:" + suiteAmz + "\n"
	if authz != "" {
		raw += "Authorization:" + authz + "\n"
	}
	return parseRaw(t, raw).req
}

// checkNoSecrets fails if err's text holds the secret, a session token or a
// 64-hex-digit run (a signature).
func checkNoSecrets(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range append(secrets, suiteSecret, sessionToken, oracleSecret, "secret-bearer-token") {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains a secret", err)
		}
	}
	// Anything that looks like a signature or a hash.
	if regexp.MustCompile(`[0-9a-f]{64}`).MatchString(err.Error()) {
		t.Errorf("error %q contains a hex run", err)
	}
}

func TestParseAuthorizationRejects(t *testing.T) {
	const cred = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
	const sh = "SignedHeaders=host;x-amz-date"
	const sig = "Signature=" + getVanillaSig
	cases := []struct {
		name, authz, msg string
	}{
		{"empty", "", "Unsupported authorization type"},
		{"bearer token", "Bearer secret-bearer-token", "Unsupported authorization type"},
		{"basic", "Basic c2VjcmV0LWJlYXJlci10b2tlbg==", "Unsupported authorization type"},
		{"sigv2", "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", "Signature Version 2 is not supported"},
		{"sigv4a", "AWS4-ECDSA-P256-SHA256 " + cred + ", " + sh + ", " + sig, "Signature Version 4A"},
		{"other aws algorithm", "AWS4-HMAC-SHA1 " + cred + ", " + sh + ", " + sig, "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'"},
		{"no fields", "AWS4-HMAC-SHA256", "requires each component"},
		{"missing signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh, "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential="},
		{"missing credential", "AWS4-HMAC-SHA256 " + sh + ", " + sig, "Authorization header requires 'Credential' parameter. "},
		{"missing signed headers", "AWS4-HMAC-SHA256 " + cred + ", " + sig, "Authorization header requires 'SignedHeaders' parameter. "},
		{"duplicate credential", "AWS4-HMAC-SHA256 " + cred + ", " + cred + ", " + sh + ", " + sig, "repeated 'Credential'"},
		{"duplicate signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ", " + sig, "repeated 'Signature'"},
		{"unknown field", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ", Foo=bar", "unknown component 'Foo'"},
		{"lowercase field", "AWS4-HMAC-SHA256 credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " + sh + ", " + sig, "unknown component"},
		{"trailing comma", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ",", "requires each component"},
		{"field without =", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig + ", junk", "requires each component"},
		{"scope four parts", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, " + sh + ", " + sig, "exactly 5 slash-delimited"},
		{"scope six parts", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/x/aws4_request, " + sh + ", " + sig, "exactly 5 slash-delimited"},
		{"bad terminator", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_requests, " + sh + ", " + sig, "valid terminator: 'aws4_request', not 'aws4_requests'"},
		{"bad scope date", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083/us-east-1/service/aws4_request, " + sh + ", " + sig, "yyyyMMdd"},
		{"empty access key", "AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/service/aws4_request, " + sh + ", " + sig, "access key id"},
		{"empty service", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1//aws4_request, " + sh + ", " + sig, "scoped to a service"},
		{"uppercase signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + strings.ToUpper(getVanillaSig), "64 lowercase hexadecimal"},
		{"short signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + getVanillaSig[1:], "64 lowercase hexadecimal"},
		{"non-hex signature", "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", Signature=" + getVanillaSig[1:] + "g", "64 lowercase hexadecimal"},
		{"unsorted signed headers", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date;host, " + sig, "sorted"},
		{"duplicate signed header", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;host;x-amz-date, " + sig, "sorted"},
		{"empty signed headers", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=, " + sig, "must not be empty"},
		{"empty signed header name", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, " + sig, "lowercase header names"},
		{"uppercase signed header", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;x-amz-date, " + sig, "lowercase header names"},
		{"host not signed", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date, " + sig, "must include 'host'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, perr := parseAuthorization(tc.authz)
			if perr == nil {
				t.Fatalf("parseAuthorization(%q) accepted", tc.authz)
			}
			e := wantCode(t, perr, IncompleteSignature)
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tc.msg)
			}
			checkNoSecrets(t, e)

			// The same through Verify.
			r := getVanilla(t, "")
			r.Header["Authorization"] = []string{tc.authz}
			_, err := suiteVerifier(t).Verify(t.Context(), r, nil)
			wantCode(t, err, IncompleteSignature)
			checkNoSecrets(t, err)
		})
	}
}

func TestVerifyErrors(t *testing.T) {
	stsRequest := func(t *testing.T) (*http.Request, []byte) {
		t.Helper()
		body := "Action=GetCallerIdentity&Version=2011-06-15"
		r := stsFormPOST(t, body)
		creds := aws.Credentials{AccessKeyID: oracleASIA, SecretAccessKey: oracleSecret, SessionToken: sessionToken}
		return signSDK(t, r, []byte(body), creds, "sts", "us-east-1", suiteTime())
	}
	errLookup := errors.New("session expired")
	cases := []struct {
		name    string
		setup   func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte)
		code    ErrorCode // "" when the error is not an *Error
		msg     string
		wantErr error // for pass-through errors
	}{
		{
			name: "ok",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				return getVanilla(t, getVanillaAuth), nil
			},
		},
		{
			name: "wrong secret",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				l.keys[suiteAKID] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz"
				return getVanilla(t, getVanillaAuth), nil
			},
			code: SignatureDoesNotMatch, msg: msgSignatureDoesNotMatch,
		},
		{
			name: "unknown access key",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				delete(l.keys, suiteAKID)
				return getVanilla(t, getVanillaAuth), nil
			},
			code: InvalidClientTokenID, msg: "The security token included in the request is invalid.",
		},
		{
			name: "malformed access key",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				return getVanilla(t, strings.Replace(getVanillaAuth, "AKIDEXAMPLE", "AKID+EXAMPLE", 1)), nil
			},
			code: InvalidClientTokenID,
		},
		{
			name: "custom lookup error passes through",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				l.err = errLookup
				return getVanilla(t, getVanillaAuth), nil
			},
			wantErr: errLookup,
		},
		{
			name: "empty secret from lookup",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				l.keys[suiteAKID] = ""
				return getVanilla(t, getVanillaAuth), nil
			},
			msg: "empty secret",
		},
		{
			name: "expired: 25 minutes old",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				v.Now = func() time.Time { return suiteTime().Add(25 * time.Minute) }
				return getVanilla(t, getVanillaAuth), nil
			},
			code: RequestExpired,
			msg:  "Signature expired: 20150830T123600Z is now earlier than 20150830T124600Z (20150830T130100Z - 15 min.)",
		},
		{
			name: "expired: 20 minutes old",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				v.Now = func() time.Time { return suiteTime().Add(20 * time.Minute) }
				return getVanilla(t, getVanillaAuth), nil
			},
			code: RequestExpired,
			msg:  "Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z (20150830T125600Z - 15 min.)",
		},
		{
			name: "not yet current: 20 minutes ahead",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				v.Now = func() time.Time { return suiteTime().Add(-20 * time.Minute) }
				return getVanilla(t, getVanillaAuth), nil
			},
			code: RequestExpired,
			msg:  "Signature not yet current: 20150830T123600Z is still later than 20150830T123100Z (20150830T121600Z + 15 min.)",
		},
		{
			name: "custom skew",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				v.MaxSkew = 5 * time.Minute
				v.Now = func() time.Time { return suiteTime().Add(6 * time.Minute) }
				return getVanilla(t, getVanillaAuth), nil
			},
			code: RequestExpired,
			msg:  "(20150830T124200Z - 5 min.)",
		},
		{
			name: "exactly at the skew limit",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				v.Now = func() time.Time { return suiteTime().Add(15 * time.Minute) }
				return getVanilla(t, getVanillaAuth), nil
			},
		},
		{
			name: "missing authentication",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				return getVanilla(t, ""), nil
			},
			code: MissingAuthenticationToken, msg: "Request is missing Authentication Token",
		},
		{
			name: "two Authorization headers",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r := getVanilla(t, getVanillaAuth)
				r.Header.Add("Authorization", getVanillaAuth)
				return r, nil
			},
			code: IncompleteSignature,
		},
		{
			name: "header and presigned query",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r := getVanilla(t, getVanillaAuth)
				r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
				return r, nil
			},
			code: IncompleteSignature, msg: msgOnlyOneMechanism,
		},
		{
			name: "sigv2 query",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r := getVanilla(t, "")
				r.URL.RawQuery = "AWSAccessKeyId=AKIDEXAMPLE&Action=GetCallerIdentity&SignatureMethod=HmacSHA256&SignatureVersion=2&Signature=abc%3D"
				return r, nil
			},
			code: IncompleteSignature, msg: msgSigV2,
		},
		{
			name: "region not allowed",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				v.AllowRegion = func(r string) bool { return r == "eu-west-1" }
				return getVanilla(t, getVanillaAuth), nil
			},
			code: SignatureDoesNotMatch, msg: "Credential should be scoped to a valid region. ",
		},
		{
			name: "empty region",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				v.AllowRegion = func(string) bool { return true }
				return getVanilla(t, strings.Replace(getVanillaAuth, "/us-east-1/", "//", 1)), nil
			},
			code: SignatureDoesNotMatch, msg: "Credential should be scoped to a valid region. ",
		},
		{
			name: "region not region-shaped",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				return getVanilla(t, strings.Replace(getVanillaAuth, "/us-east-1/", "/US_EAST/", 1)), nil
			},
			code: SignatureDoesNotMatch, msg: "Credential should be scoped to a valid region. ",
		},
		{
			name: "service not allowed",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				v.AllowService = func(s string) bool { return s == "sts" }
				return getVanilla(t, getVanillaAuth), nil
			},
			code: SignatureDoesNotMatch, msg: "Credential should be scoped to correct service",
		},
		{
			name: "scope date is not the request date",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				return getVanilla(t, strings.Replace(getVanillaAuth, "/20150830/", "/20150831/", 1)), nil
			},
			code: SignatureDoesNotMatch, msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'.",
		},
		{
			name: "x-amz-date not signed",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				return getVanilla(t, strings.Replace(getVanillaAuth, "SignedHeaders=host;x-amz-date", "SignedHeaders=host", 1)), nil
			},
			code: IncompleteSignature, msg: "'x-amz-date' header to be signed",
		},
		{
			name: "no date at all",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r := getVanilla(t, getVanillaAuth)
				r.Header.Del("X-Amz-Date")
				return r, nil
			},
			code: IncompleteSignature, msg: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256",
		},
		{
			name: "malformed x-amz-date",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r := getVanilla(t, getVanillaAuth)
				r.Header.Set("X-Amz-Date", "20150830T123660Z")
				return r, nil
			},
			code: IncompleteSignature, msg: "ISO-8601",
		},
		{
			name: "signed header missing from request",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				return getVanilla(t, strings.Replace(getVanillaAuth, "SignedHeaders=host;x-amz-date", "SignedHeaders=host;my-header;x-amz-date", 1)), nil
			},
			code: SignatureDoesNotMatch, msg: "'my-header'",
		},
		{
			name: "body changed",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r, body := stsRequest(t)
				body[0] = 'a'
				return r, body
			},
			code: SignatureDoesNotMatch, msg: msgSignatureDoesNotMatch,
		},
		{
			name: "x-amz-content-sha256 mismatch",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r, body := stsRequest(t)
				r.Header.Set("X-Amz-Content-Sha256", hashHex([]byte("other")))
				return r, body
			},
			code: SignatureDoesNotMatch, msg: msgPayloadHash,
		},
		{
			name: "unsigned payload",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r, body := stsRequest(t)
				r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
				return r, body
			},
			code: IncompleteSignature, msg: "UNSIGNED-PAYLOAD",
		},
		{
			name: "streaming payload",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r, body := stsRequest(t)
				r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
				return r, body
			},
			code: IncompleteSignature, msg: "STREAMING-",
		},
		{
			name: "session token not signed",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r := getVanilla(t, getVanillaAuth)
				r.Header.Set("X-Amz-Security-Token", sessionToken)
				return r, nil
			},
			code: IncompleteSignature, msg: "'x-amz-security-token' header must be signed",
		},
		{
			name: "session token swapped",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r, body := stsRequest(t)
				r.Header.Set("X-Amz-Security-Token", "another-token")
				return r, body
			},
			code: SignatureDoesNotMatch,
		},
		{
			name: "body parameters are not the query",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				// Moving the form into the query changes the canonical request.
				r, body := stsRequest(t)
				r.URL.RawQuery = string(body)
				return r, body
			},
			code: SignatureDoesNotMatch,
		},
		{
			name: "malformed query escape",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r := getVanilla(t, getVanillaAuth)
				r.URL.RawQuery = "a=%zz"
				return r, nil
			},
			code: IncompleteSignature, msg: "percent-encoded",
		},
		{
			name: "presigned, missing X-Amz-Expires",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r := getVanilla(t, "")
				r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=" + getVanillaSig
				return r, nil
			},
			code: IncompleteSignature, msg: msgMissingQueryArg,
		},
		{
			name: "presigned, X-Amz-Expires too long",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r := getVanilla(t, "")
				r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=604801&X-Amz-Signature=" + getVanillaSig
				return r, nil
			},
			code: IncompleteSignature, msg: "604800",
		},
		{
			name: "presigned, repeated parameter",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r := getVanilla(t, "")
				r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Algorithm=AWS4-HMAC-SHA256"
				return r, nil
			},
			code: IncompleteSignature, msg: "must not be repeated",
		},
		{
			name: "presigned, sigv4a",
			setup: func(t *testing.T, v *Verifier, l *staticLookup) (*http.Request, []byte) {
				r := getVanilla(t, "")
				r.URL.RawQuery = "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256"
				return r, nil
			},
			code: IncompleteSignature, msg: msgSigV4A,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := suiteTime()
			v, l := newVerifier(t, now, map[string]string{suiteAKID: suiteSecret, oracleASIA: oracleSecret})
			r, body := tc.setup(t, v, l)
			res, err := v.Verify(t.Context(), r, body)
			checkNoSecrets(t, err)
			switch {
			case tc.code == "" && tc.wantErr == nil && tc.msg == "":
				if err != nil || res == nil {
					t.Fatalf("Verify: %v", err)
				}
			case tc.wantErr != nil:
				if err != tc.wantErr || !errors.Is(err, tc.wantErr) {
					t.Fatalf("error = %v, want %v unchanged", err, tc.wantErr)
				}
			case tc.code == "":
				var e *Error
				if err == nil || errors.As(err, &e) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("error = %v, want a plain error containing %q", err, tc.msg)
				}
			default:
				if res != nil {
					t.Errorf("result %+v returned with an error", res)
				}
				e := wantCode(t, err, tc.code)
				if !strings.Contains(e.Message, tc.msg) {
					t.Errorf("message %q does not contain %q", e.Message, tc.msg)
				}
				if e.AWSErrorCode() != string(tc.code) || e.AWSErrorMessage() != e.Message {
					t.Errorf("AWS accessors = %q, %q", e.AWSErrorCode(), e.AWSErrorMessage())
				}
			}
		})
	}
}

// TestDateHeaderFallback signs with the Date header (no X-Amz-Date). The SDK
// always sets X-Amz-Date, so the signature is computed here by hand.
func TestDateHeaderFallback(t *testing.T) {
	const date = "Sun, 30 Aug 2015 12:36:00 GMT"
	canonical := "GET\n/\n\ndate:" + date + "\nhost:example.amazonaws.com\n\ndate;host\n" + hashHex(nil)
	sts := "AWS4-HMAC-SHA256\n" + suiteAmz + "\n20150830/us-east-1/service/aws4_request\n" + hashHex([]byte(canonical))
	mac := func(k []byte, s string) []byte { m := hmac.New(sha256.New, k); m.Write([]byte(s)); return m.Sum(nil) }
	key := mac(mac(mac(mac([]byte("AWS4"+suiteSecret), "20150830"), "us-east-1"), "service"), "aws4_request")
	sig := hex.EncodeToString(mac(key, sts))

	cases := []struct {
		name  string
		date  string
		extra string
		code  ErrorCode
	}{
		{"ok", date, "", ""},
		{"other date", "Sun, 30 Aug 2015 12:36:01 GMT", "", SignatureDoesNotMatch},
		{"not RFC 1123", "2015-08-30T12:36:00Z", "", IncompleteSignature},
		{"date not signed", date, "no-date", IncompleteSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			signed := "date;host"
			if tc.extra == "no-date" {
				signed = "host"
			}
			authz := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" + signed + ", Signature=" + sig
			r := parseRaw(t, "GET / HTTP/1.1\nHost:example.amazonaws.com\nDate:"+tc.date+"\nAuthorization:"+authz+"\n").req
			res, err := suiteVerifier(t).Verify(t.Context(), r, nil)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !res.Time.Equal(suiteTime()) {
					t.Errorf("time = %v", res.Time)
				}
				return
			}
			wantCode(t, err, tc.code)
		})
	}
}

func TestIsSigned(t *testing.T) {
	cases := []struct {
		name   string
		header http.Header
		query  string
		want   bool
	}{
		{"unsigned", nil, "Action=AssumeRoleWithSAML&Version=2011-06-15", false},
		{"authorization header", http.Header{"Authorization": {getVanillaAuth}}, "", true},
		{"empty authorization header", http.Header{"Authorization": {""}}, "", true},
		{"presigned algorithm", nil, "X-Amz-Algorithm=AWS4-HMAC-SHA256", true},
		{"presigned credential only", nil, "Action=X&X-Amz-Credential=a", true},
		{"presigned signature only", nil, "X-Amz-Signature=00", true},
		{"encoded marker", nil, "X%2DAmz-Signature=00", true},
		{"sigv2", nil, "AWSAccessKeyId=AKID&Signature=x", true},
		{"undecodable name", nil, "%zz=1", true},
		{"x-amz-date alone", nil, "X-Amz-Date=20150830T123600Z", false},
		{"security token alone", nil, "X-Amz-Security-Token=x", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := getVanilla(t, "")
			r.Header = tc.header
			r.URL.RawQuery = tc.query
			if got := IsSigned(r); got != tc.want {
				t.Errorf("IsSigned = %v, want %v", got, tc.want)
			}
			// Verify agrees: an unsigned request is MissingAuthenticationToken.
			_, err := suiteVerifier(t).Verify(t.Context(), r, nil)
			var e *Error
			isMissing := errors.As(err, &e) && e.Code == MissingAuthenticationToken
			if isMissing == tc.want {
				t.Errorf("IsSigned = %v but Verify says %v", tc.want, err)
			}
		})
	}
	if IsSigned(nil) || IsSigned(&http.Request{}) {
		t.Error("IsSigned of an empty request")
	}
}

func TestVerifyNilAndEmpty(t *testing.T) {
	v := suiteVerifier(t)
	if _, err := v.Verify(t.Context(), nil, nil); err == nil {
		t.Error("nil request verified")
	}
	if _, err := v.Verify(t.Context(), &http.Request{}, nil); err == nil {
		t.Error("request without URL verified")
	}
	if _, err := (&Verifier{}).Verify(t.Context(), getVanilla(t, getVanillaAuth), nil); err == nil {
		t.Error("verifier without lookup verified")
	}
	// A LookupFunc works as a CredentialLookup, and the default clock is
	// time.Now (so the 2015 request is expired).
	v = &Verifier{Lookup: LookupFunc(func(context.Context, LookupRequest) (Credential, error) {
		return Credential{SecretAccessKey: suiteSecret}, nil
	})}
	_, err := v.Verify(t.Context(), getVanilla(t, getVanillaAuth), nil)
	wantCode(t, err, RequestExpired)
}

func TestErrorCodeStatus(t *testing.T) {
	want := map[ErrorCode]int{
		IncompleteSignature: 400, SignatureDoesNotMatch: 403, RequestExpired: 400,
		InvalidClientTokenID: 403, MissingAuthenticationToken: 403,
	}
	for c, s := range want {
		if c.HTTPStatus() != s {
			t.Errorf("%s status = %d, want %d", c, c.HTTPStatus(), s)
		}
	}
	e := &Error{Code: SignatureDoesNotMatch, Message: "m"}
	if e.Error() != "sigv4: SignatureDoesNotMatch: m" {
		t.Errorf("Error() = %q", e.Error())
	}
}
