package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The AWS SDK for Go v2 signer is the oracle: whatever it signs, Verify must
// accept, from the bytes net/http delivers on the server side.

const (
	oracleAKID   = "AKIAIOSFODNN7EXAMPLE"
	oracleASIA   = "ASIAIOSFODNN7EXAMPLE"
	oracleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	oracleToken  = "IQoJb3JpZ2luX2VjEPr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+session+token/with=chars"
	stsHost      = "127.0.0.1:8439"
)

func oracleKeys() map[string]string {
	return map[string]string{oracleAKID: oracleSecret, oracleASIA: oracleSecret}
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// stsFormPOST builds the request the SDK sends for sts:GetCallerIdentity.
func stsFormPOST(t testing.TB, body string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, "http://"+stsHost+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.Header.Set("Amz-Sdk-Invocation-Id", "2b6e1f4c-2a4e-4f8e-9d0c-5c1b2f0e7a11")
	r.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	return r
}

// signSDK signs r with the SDK's SignHTTP and returns the server's view.
func signSDK(t testing.TB, r *http.Request, body []byte, creds aws.Credentials, service, region string, at time.Time) (*http.Request, []byte) {
	t.Helper()
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, hashHex(body), service, region, at); err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
	return toWire(t, r)
}

func TestOracleSTSFormPOST(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 20, 30, 0, time.UTC)
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	cases := []struct {
		name  string
		creds aws.Credentials
		extra map[string]string
		want  []string
	}{
		{
			name:  "long-term key",
			creds: aws.Credentials{AccessKeyID: oracleAKID, SecretAccessKey: oracleSecret},
			want:  []string{"amz-sdk-invocation-id", "amz-sdk-request", "content-length", "content-type", "host", "x-amz-date"},
		},
		{
			name:  "session credentials",
			creds: aws.Credentials{AccessKeyID: oracleASIA, SecretAccessKey: oracleSecret, SessionToken: oracleToken},
			want:  []string{"amz-sdk-invocation-id", "amz-sdk-request", "content-length", "content-type", "host", "x-amz-date", "x-amz-security-token"},
		},
		{
			name:  "extra signed headers",
			creds: aws.Credentials{AccessKeyID: oracleASIA, SecretAccessKey: oracleSecret, SessionToken: oracleToken},
			extra: map[string]string{"X-Amz-User-Agent": "aws-sdk-go-v2/1.48.0", "X-Custom": "  a   b  "},
			want:  []string{"amz-sdk-invocation-id", "amz-sdk-request", "content-length", "content-type", "host", "x-amz-date", "x-amz-security-token", "x-amz-user-agent", "x-custom"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := stsFormPOST(t, body)
			for k, v := range tc.extra {
				r.Header.Set(k, v)
			}
			sr, sbody := signSDK(t, r, []byte(body), tc.creds, "sts", "us-east-1", at)
			v, lookup := newVerifier(t, at.Add(3*time.Minute), oracleKeys())
			res, err := v.Verify(t.Context(), sr, sbody)
			if err != nil {
				t.Fatalf("Verify: %v\nAuthorization: %s", err, sr.Header.Get("Authorization"))
			}
			if !slices.Equal(res.SignedHeaders, tc.want) {
				t.Errorf("SignedHeaders = %q, want %q", res.SignedHeaders, tc.want)
			}
			if res.AccessKeyID != tc.creds.AccessKeyID || res.SecurityToken != tc.creds.SessionToken ||
				res.Region != "us-east-1" || res.Service != "sts" || !res.Time.Equal(at) || res.Presigned {
				t.Errorf("result = %+v", res)
			}
			if len(lookup.calls) != 1 {
				t.Fatalf("lookup calls = %d", len(lookup.calls))
			}
			want := LookupRequest{AccessKeyID: tc.creds.AccessKeyID, SecurityToken: tc.creds.SessionToken, Region: "us-east-1", Service: "sts", Time: at}
			if got := lookup.calls[0]; got != want {
				t.Errorf("lookup request = %+v, want %+v", got, want)
			}
		})
	}
}

func TestOraclePresigned(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 20, 30, 0, time.UTC)
	cases := []struct {
		name  string
		creds aws.Credentials
		query string
	}{
		{"get caller identity", aws.Credentials{AccessKeyID: oracleAKID, SecretAccessKey: oracleSecret}, "Action=GetCallerIdentity&Version=2011-06-15"},
		{"with session token", aws.Credentials{AccessKeyID: oracleASIA, SecretAccessKey: oracleSecret, SessionToken: oracleToken}, "Action=GetCallerIdentity&Version=2011-06-15"},
		{"odd query", aws.Credentials{AccessKeyID: oracleAKID, SecretAccessKey: oracleSecret}, "b=2&a=1&a=0&sp=a+b&pct=%2F%3D%26&u=%E1%88%B4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodGet, "https://sts.example.test:8443/?"+tc.query+"&X-Amz-Expires=900", nil)
			if err != nil {
				t.Fatal(err)
			}
			signedURL, hdr, err := v4.NewSigner().PresignHTTP(t.Context(), tc.creds, r, hashHex(nil), "sts", "us-east-1", at)
			if err != nil {
				t.Fatalf("PresignHTTP: %v", err)
			}
			cr, err := http.NewRequest(http.MethodGet, signedURL, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range hdr {
				if !strings.EqualFold(k, "Host") {
					cr.Header[k] = vs
				}
			}
			sr, body := toWire(t, cr)
			v, _ := newVerifier(t, at.Add(10*time.Minute), oracleKeys())
			res, err := v.Verify(t.Context(), sr, body)
			if err != nil {
				t.Fatalf("Verify: %v\nURL: %s", err, signedURL)
			}
			if !res.Presigned || res.SecurityToken != tc.creds.SessionToken || res.AccessKeyID != tc.creds.AccessKeyID {
				t.Errorf("result = %+v", res)
			}

			// Expired once X-Amz-Expires has passed, even within the skew.
			v.Now = func() time.Time { return at.Add(901 * time.Second) }
			_, err = v.Verify(t.Context(), sr, body)
			if e := wantCode(t, err, RequestExpired); e.Message != msgRequestHasExpired {
				t.Errorf("message = %q", e.Message)
			}
			// Not yet valid when dated beyond the skew.
			v.Now = func() time.Time { return at.Add(-16 * time.Minute) }
			_, err = v.Verify(t.Context(), sr, body)
			wantCode(t, err, RequestExpired)
		})
	}
}

// randomRequest is one generated request and how to sign it.
type randomRequest struct {
	req     *http.Request
	body    []byte
	creds   aws.Credentials
	service string
	region  string
	presign bool
	expires int // seconds, presigned only
}

const (
	// Runes for generated names and values: unreserved, reserved and
	// delimiters, spaces, percent signs and some non-ASCII.
	queryRunes  = "abcXYZ019-_.~ !*'();:@&=+$,/?#[]%\"<>\\^`{|}éሴ😀"
	pathRunes   = "abcXYZ019-_.~ !*'():@&=+$,;éሴ%"
	headerRunes = "abcXYZ019-_.~!*'();:@&=+$,/?#[]%\"<>\\^`{|}  \t"
)

func randString(rng *rand.Rand, alphabet string, maxLen int) string {
	runes := []rune(alphabet)
	n := rng.IntN(maxLen + 1)
	var b strings.Builder
	for range n {
		b.WriteRune(runes[rng.IntN(len(runes))])
	}
	return b.String()
}

func genRequest(t testing.TB, rng *rand.Rand) randomRequest {
	t.Helper()
	g := randomRequest{
		service: []string{"sts", "iam", "redshift"}[rng.IntN(3)],
		region:  []string{"us-east-1", "eu-west-3", "ap-southeast-2"}[rng.IntN(3)],
		presign: rng.IntN(4) == 0,
		creds:   aws.Credentials{AccessKeyID: oracleAKID, SecretAccessKey: oracleSecret},
	}
	if rng.IntN(2) == 0 {
		g.creds = aws.Credentials{AccessKeyID: oracleASIA, SecretAccessKey: oracleSecret, SessionToken: oracleToken + strconv.Itoa(rng.IntN(1000))}
	}

	// Path: segments without "." or ".." and no empty segment, because the
	// SDK does not normalise paths and the verifier does.
	path := "/"
	if rng.IntN(3) == 0 {
		var segs []string
		for range 1 + rng.IntN(3) {
			s := randString(rng, pathRunes, 6)
			if s == "" || s == "." || s == ".." {
				s = "seg"
			}
			segs = append(segs, s)
		}
		path = "/" + strings.Join(segs, "/")
		if rng.IntN(2) == 0 {
			path += "/"
		}
	}

	// Query: Go's encoding ('+' for space) or SigV4-style ("%20"), with
	// repeated names.
	vals := url.Values{}
	for range rng.IntN(5) {
		k := randString(rng, queryRunes, 8)
		if k == "" {
			k = "k"
		}
		vals.Add(k, randString(rng, queryRunes, 10))
		if rng.IntN(4) == 0 {
			vals.Add(k, randString(rng, queryRunes, 10))
		}
	}
	rawQuery := vals.Encode()
	if rng.IntN(2) == 0 {
		rawQuery = strings.ReplaceAll(rawQuery, "+", "%20")
	}

	method := http.MethodGet
	var body []byte
	if !g.presign && rng.IntN(3) > 0 {
		method = http.MethodPost
		if rng.IntN(2) == 0 {
			form := url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}
			form.Set("Param", randString(rng, queryRunes, 30))
			body = []byte(form.Encode())
		} else {
			body = make([]byte, rng.IntN(200))
			for i := range body {
				body[i] = byte(rng.IntN(256))
			}
		}
	}
	if g.presign {
		if rawQuery != "" {
			rawQuery += "&"
		}
		g.expires = 60 + rng.IntN(3600)
		rawQuery += "X-Amz-Expires=" + strconv.Itoa(g.expires)
	}
	host := []string{stsHost, "iam.example.test", "[::1]:8439", "localhost"}[rng.IntN(4)]
	r, err := http.NewRequest(method, "http://"+host+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.URL.Path = path
	r.URL.RawQuery = rawQuery
	if len(body) > 0 {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	for i := range rng.IntN(5) {
		name := "X-Test-" + strconv.Itoa(i)
		if rng.IntN(3) == 0 {
			name = "Amz-Sdk-" + strconv.Itoa(i)
		}
		for range 1 + rng.IntN(2) {
			r.Header.Add(name, randString(rng, headerRunes, 16))
		}
	}
	if rng.IntN(4) == 0 {
		r.Header.Set("X-Amz-Content-Sha256", hashHex(body))
	}
	g.req, g.body = r, body
	return g
}

func TestOracleRandomized(t *testing.T) {
	rng := rand.New(rand.NewPCG(20150830, 123600))
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const n = 400
	for i := range n {
		g := genRequest(t, rng)
		at := base.Add(time.Duration(rng.IntN(1_000_000)) * time.Second)
		var sr *http.Request
		var body []byte
		if g.presign {
			u, hdr, err := v4.NewSigner().PresignHTTP(t.Context(), g.creds, g.req, hashHex(nil), g.service, g.region, at)
			if err != nil {
				t.Fatalf("#%d PresignHTTP: %v", i, err)
			}
			cr, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				t.Fatalf("#%d presigned URL %q: %v", i, u, err)
			}
			for k, vs := range hdr {
				if !strings.EqualFold(k, "Host") {
					cr.Header[k] = vs
				}
			}
			sr, body = toWire(t, cr)
		} else {
			sr, body = signSDK(t, g.req, g.body, g.creds, g.service, g.region, at)
		}
		skew := time.Duration(rng.IntN(29*60)-14*60) * time.Second
		if g.presign {
			skew = time.Duration(rng.IntN(14*60+g.expires)-14*60) * time.Second
		}
		v, _ := newVerifier(t, at.Add(skew), oracleKeys())
		res, err := v.Verify(t.Context(), sr, body)
		if err != nil {
			t.Fatalf("#%d Verify: %v\n%s %s\n%v", i, err, sr.Method, sr.RequestURI, sr.Header)
		}
		if res.Service != g.service || res.Region != g.region || res.Presigned != g.presign || res.SecurityToken != g.creds.SessionToken {
			t.Fatalf("#%d result = %+v", i, res)
		}

		// One changed query byte, header value or body byte must be caught.
		mutated := sr.Clone(t.Context())
		mbody := slices.Clone(body)
		switch {
		case len(mbody) > 0 && rng.IntN(2) == 0:
			mbody[rng.IntN(len(mbody))] ^= 0x20
		case mutated.Header.Get("Amz-Sdk-0") != "" || mutated.Header.Get("X-Test-0") != "":
			k := "X-Test-0"
			if mutated.Header.Get(k) == "" {
				k = "Amz-Sdk-0"
			}
			mutated.Header[k] = append(slices.Clone(mutated.Header[k]), "extra")
		default:
			u := *mutated.URL
			u.RawQuery += "&zz=1"
			mutated.URL = &u
		}
		if _, err := v.Verify(t.Context(), mutated, mbody); err == nil {
			t.Fatalf("#%d mutated request verified", i)
		}
	}
}
